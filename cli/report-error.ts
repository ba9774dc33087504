// Turns an error into what the user sees and the exit status. DbtlsError carries both; anything
// else is a bug or an unexpected system error and exits 1 with its message.
import { isDbtlsError } from '../lib/errors.js';

export interface ErrorOutput {
  json: boolean;
}

export function reportError(e: unknown, out: ErrorOutput): number {
  if (isDbtlsError(e)) {
    process.stderr.write(`dbtls: ${e.describe()}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    if (out.json) {
      const error = { code: e.code, message: e.message, hint: e.hint, ...e.location };
      process.stdout.write(JSON.stringify({ ok: false, error }, null, 2) + '\n');
    }
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  const message = err?.message ?? String(e);
  process.stderr.write(`dbtls: ${message}\n`);
  if (process.env.DBTLS_DEBUG && err?.stack) process.stderr.write(err.stack + '\n');
  if (out.json) process.stdout.write(JSON.stringify({ ok: false, error: { code: err?.code ?? 'failure', message } }, null, 2) + '\n');
  return 1;
}
