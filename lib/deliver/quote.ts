// The one function that turns arguments into a remote shell command. Every remote command dbtls runs
// is built from an argv array through it; nothing is concatenated at the call site.
import { inputError } from '../errors.js';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell quoting: safe words as they are, everything else in single quotes ('\'' for a quote). */
export function shellQuote(arg: string): string {
  if (arg.includes('\u0000')) throw inputError('shell-nul', 'a remote command argument holds a NUL byte');
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A whole command line from its arguments. */
export function shellCommand(argv: string[]): string {
  if (argv.length === 0) throw new RangeError('empty command');
  return argv.map(shellQuote).join(' ');
}
