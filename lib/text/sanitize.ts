// Text that came from somewhere else (a server's error packet, a node's stderr, a file's content)
// must not reach the operator's terminal as it is: ANSI escapes can rewrite the screen, newlines can
// forge output lines, and a 100 KB message buries everything else.

const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
// C0 controls except tab/newline (handled below), DEL, C1 controls, and bidi overrides.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line, printable, bounded: escapes removed, other control characters shown as "?", runs of
 * whitespace and newlines collapsed to one space, and at most `max` characters (then "…").
 */
export function sanitizeForTerminal(s: string, max = 500): string {
  let out = s.replace(ANSI, '').replace(/\s+/g, ' ').replace(CONTROL, '?').trim();
  if (out.length > max) out = out.slice(0, max) + `… (${s.length} characters in all)`;
  return out;
}
