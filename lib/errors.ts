// Errors are values: a stable code, a message a person can act on, a hint, and where it happened.
// The CLI maps them to exit statuses (2 for usage and input errors, 1 for everything else).
// Codes come from one catalogue (lib/error-codes.ts, documented in docs/errors.md): a code that is
// not there does not compile.
import type { ErrorCode } from './error-codes.js';

export type ErrorKind = 'usage' | 'input' | 'failure';

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
}

export class DbtlsError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly location: ErrorLocation;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { kind?: ErrorKind; hint?: string; location?: ErrorLocation; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DbtlsError';
    this.code = code;
    this.kind = opts.kind ?? 'failure';
    this.hint = opts.hint;
    this.location = opts.location ?? {};
  }

  /** 2 for bad usage or bad input, 1 for a failure of the work itself. */
  get exitCode(): 1 | 2 {
    return this.kind === 'failure' ? 1 : 2;
  }

  /** "file:line:col: field: message", leaving out the parts that are unknown. */
  describe(): string {
    const { file, line, column, field } = this.location;
    let where = '';
    // A message that already names its file ("… ca-key.pem is encrypted") is not prefixed with it again.
    if (file && !this.message.includes(file))
      where += file + (line ? `:${line}` + (column ? `:${column}` : '') : '') + ': ';
    // Nor with its field when it already names it ("--uid: no such user", "--days must be …").
    if (field && !namesField(this.message, field)) where += `${field}: `;
    return where + this.message;
  }
}

/**
 * Does MESSAGE begin by naming FIELD ("--uid: …", "--days must be …", "\"--suffix\" …")? Only the
 * start counts: a field named later, in a remedy ("…; set acceptNewHostKeys: true"), is not where
 * the error is, so the prefix stays.
 */
function namesField(message: string, field: string): boolean {
  const escaped = field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^["']?${escaped}($|[\\s"':=),])`).test(message);
}

/**
 * A value from the user's input as an error message quotes it: JSON-quoted (control characters and
 * quotes escaped, so it stays on one line) and, past MAX characters, cut with its full size named, so
 * an error line about a 100 KB value stays a line a person can read.
 */
export function quoteValue(v: unknown, max = 80): string {
  const s = typeof v === 'string' ? v : String(v);
  if (s.length <= max) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, max))}…(${Buffer.byteLength(s)} bytes)`;
}

export function usageError(code: ErrorCode, message: string, hint?: string, location?: ErrorLocation): DbtlsError {
  return new DbtlsError(code, message, { kind: 'usage', hint, location });
}

export function inputError(
  code: ErrorCode,
  message: string,
  location?: ErrorLocation,
  hint?: string,
  cause?: unknown,
): DbtlsError {
  return new DbtlsError(code, message, { kind: 'input', location, hint, cause });
}

export function isDbtlsError(e: unknown): e is DbtlsError {
  return e instanceof DbtlsError;
}
