// One line per event, from a table keyed by the event's type (as zx's src/log.ts does it): the
// compiler refuses a table that lacks a type of its union, so a new event cannot go unshown by
// mistake; a formatter that returns undefined shows nothing for that event, on purpose.
export type Formatters<E extends { type: string }> = {
  [K in E['type']]: (e: Extract<E, { type: K }>) => string | undefined;
};

/** The table's line for one event. */
export function lineOf<E extends { type: string }>(table: Formatters<E>, e: E): string | undefined {
  return (table[e.type as E['type']] as (e: E) => string | undefined)(e);
}

/** An event callback that writes each event's line (if any) to stdout: what plain mode shows. */
export function printLines<E extends { type: string }>(table: Formatters<E>): (e: E) => void {
  return (e) => {
    const line = lineOf(table, e);
    if (line !== undefined) process.stdout.write(line + '\n');
  };
}
