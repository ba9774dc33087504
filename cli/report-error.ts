// Turns an error into what the user sees and the exit status. DbtlsError carries both; anything
// else is a bug or an unexpected system error and exits 1 with its message.
//
// Error text often carries foreign text (a server's ERR message, a node's stderr, a value from a
// file): on the terminal each line is sanitized (no escapes or control characters, bounded); the
// --json error keeps the message as it is (JSON escapes control characters itself).
import { isDbtlsError, type DbtlsError } from '../lib/errors.js';
import { sanitizeForTerminal } from '../lib/text/sanitize.js';

export interface ErrorOutput {
  json: boolean;
}

/** An error line's longest text on the terminal: room for two paths and a reason, not 100 KB. */
export const ERROR_LINE_MAX = 1000;
/** Errors that list problems one per line (an inventory's) show at most this many. */
const MAX_LINES = 50;

/** The terminal lines of an error: one, or one per problem for errors that list several. */
export function errorLines(e: DbtlsError): string[] {
  const text = e.describe();
  // Only an error that lists its problems one per line is split; any other newline is foreign text.
  const lines = Array.isArray((e as { problems?: unknown }).problems) ? text.split('\n') : [text];
  const shown = lines.slice(0, MAX_LINES).map((l) => sanitizeForTerminal(l, ERROR_LINE_MAX));
  if (lines.length > MAX_LINES) shown.push(`… and ${lines.length - MAX_LINES} more`);
  return shown;
}

export function reportError(e: unknown, out: ErrorOutput): number {
  if (isDbtlsError(e)) {
    // As before: "dbtls: " on the first line; the problems after it each on a line of their own.
    process.stderr.write(`dbtls: ${errorLines(e).join('\n')}\n`);
    if (e.hint) process.stderr.write(`hint: ${sanitizeForTerminal(e.hint, ERROR_LINE_MAX)}\n`);
    if (out.json) {
      const error = { code: e.code, message: e.message, hint: e.hint, ...e.location };
      process.stdout.write(JSON.stringify({ ok: false, error }, null, 2) + '\n');
    }
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  const message = err?.message ?? String(e);
  process.stderr.write(`dbtls: ${sanitizeForTerminal(message, ERROR_LINE_MAX)}\n`);
  if (process.env.DBTLS_DEBUG && err?.stack)
    process.stderr.write(
      err.stack
        .split('\n')
        .slice(0, 50)
        .map((l) => sanitizeForTerminal(l, ERROR_LINE_MAX))
        .join('\n') + '\n',
    );
  if (out.json)
    process.stdout.write(
      JSON.stringify({ ok: false, error: { code: err?.code ?? 'failure', message } }, null, 2) + '\n',
    );
  return 1;
}
