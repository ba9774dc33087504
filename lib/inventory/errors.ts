// Inventory problems are collected, not thrown one by one: a user fixing a file wants every
// problem at once, each with the exact place (file:line:col) and the field path.
import { DbtlsError } from '../errors.js';
import { LIMITS } from './limits.js';

export interface Problem {
  file: string;
  /** 1-based; 0 when unknown. */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  /** Path of the offending field, like `nodes[2].sans[0]`; '' for a whole-file problem (syntax). */
  field: string;
  message: string;
}

export interface Pos {
  line: number;
  column: number;
}

/** "file:line:col: field: message", leaving out the parts that are unknown. */
export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line) where += `:${p.line}` + (p.column ? `:${p.column}` : '');
  return `${where}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

export class InventoryError extends DbtlsError {
  readonly problems: Problem[];

  /** MORE: problems found beyond those listed (not kept, only counted). */
  constructor(problems: Problem[], more = 0) {
    const first = problems[0];
    const lines = problems.map(formatProblem);
    if (more > 0) lines.push(`… and ${more} more problem${more > 1 ? 's' : ''} not shown`);
    super('bad-inventory', lines.join('\n'), {
      kind: 'input',
      hint: 'fix the inventory (its fields are described in docs/inventory.md)',
      location: first ? { file: first.file, line: first.line, column: first.column, field: first.field } : {},
    });
    this.name = 'InventoryError';
    this.problems = problems;
  }

  /** Every problem, one per line (the message already carries the locations). */
  override describe(): string {
    return this.message;
  }
}

/** Collects the problems of one file, in the order they are found; sorted by position on the way out. */
export class Problems {
  readonly list: Problem[] = [];
  /** Problems found past LIMITS.problemsShown: counted, not kept (a broken 10,000-host file says so in one screen). */
  more = 0;
  private readonly seen = new Set<string>();
  constructor(readonly file: string) {}

  add(pos: Pos | undefined, field: string, message: string): void {
    // Fields can be host names from the file and messages quote values: a backstop keeps each line short
    // (the messages themselves quote values through quoteValue, which says how long the value was).
    if (field.length > 80) field = `${field.slice(0, 80)}…`;
    if (message.length > 600) message = `${message.slice(0, 600)}…`;
    const p = { file: this.file, line: pos?.line ?? 0, column: pos?.column ?? 0, field, message };
    // The same group variable can be wrong for many hosts: say it once.
    // Past 10,000 distinct problems the rest are only counted (duplicates may then count twice).
    const key = `${p.line}:${p.column}:${field}\0${message}`;
    if (this.seen.has(key)) return;
    if (this.seen.size < 10_000) this.seen.add(key);
    if (this.list.length < LIMITS.problemsShown) this.list.push(p);
    else this.more++;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** An InventoryError holding every problem sorted by line and column (sort is stable for ties). */
  error(): InventoryError {
    return new InventoryError(
      [...this.list].sort((a, b) => a.line - b.line || a.column - b.column),
      this.more,
    );
  }
}
