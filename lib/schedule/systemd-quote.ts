// Quoting for systemd unit files (systemd.syntax(7), systemd.service(5) "Command lines").
// An ExecStart= line is split into words with quotes and C escapes removed, then each word has its
// %-specifiers expanded, then (when the command runs) $VARIABLES: so a literal argument is written
// in double quotes with \ and " escaped, % doubled and $ doubled. Other settings (WorkingDirectory=,
// EnvironmentFile=, Description=…) are not split or unquoted: only their specifiers are expanded.
import { inputError } from '../errors.js';

const CONTROL = /[\u0000-\u001f\u007f]/;

/** One ExecStart= argument, exactly as systemd will hand it to the program. */
export function systemdQuote(arg: string): string {
  if (arg.includes('\u0000')) throw inputError('systemd-nul', 'an ExecStart= argument holds a NUL byte');
  let out = '';
  for (const ch of arg) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '%') out += '%%';
    else if (ch === '$') out += '$$';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (CONTROL.test(ch)) out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `"${out}"`;
}

/**
 * A whole ExecStart= command line. systemd refuses an executable path holding quotes, backslashes
 * or control characters (string_is_safe), however it is quoted, so such a path is an input error.
 */
export function systemdCommandLine(argv: string[]): string {
  const exe = argv[0];
  if (exe === undefined) throw new RangeError('empty command');
  if (!exe.startsWith('/') || /["'\\]/.test(exe) || CONTROL.test(exe)) {
    throw inputError(
      'systemd-executable',
      `systemd cannot run ${JSON.stringify(exe)}: the executable must be an absolute path without quotes, backslashes or control characters`,
    );
  }
  return argv.map(systemdQuote).join(' ');
}

/**
 * A value for a setting that systemd takes as it stands after "=" (a path, a description): only
 * %-specifiers are expanded there, so % is doubled. Leading or trailing blanks would be trimmed,
 * a trailing backslash would continue the line, and a line ending would end it: those are refused.
 */
export function systemdValue(value: string, setting: string): string {
  if (CONTROL.test(value))
    throw inputError(
      'systemd-value',
      `${setting}= cannot hold a control character or line break: ${JSON.stringify(value)}`,
    );
  if (value !== value.trim())
    throw inputError('systemd-value', `${setting}= cannot begin or end with a blank: ${JSON.stringify(value)}`);
  if (value.endsWith('\\'))
    throw inputError('systemd-value', `${setting}= cannot end with a backslash: ${JSON.stringify(value)}`);
  return value.replace(/%/g, '%%');
}
