// Escaping for every format a template writes. A value that the format cannot hold safely (a newline
// in an INI value, say) is refused rather than written wrong.
import { inputError } from '../errors.js';

function refuse(format: string, value: string, why: string): never {
  throw inputError('render-value', `cannot write ${JSON.stringify(value)} as a ${format} value: ${why}`);
}

/** A TOML basic string, quotes included. */
export function tomlString(v: unknown): string {
  const s = String(v);
  return (
    '"' +
    s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
      const named: Record<string, string> = {
        '\\': '\\\\',
        '"': '\\"',
        '\b': '\\b',
        '\t': '\\t',
        '\n': '\\n',
        '\f': '\\f',
        '\r': '\\r',
      };
      return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }) +
    '"'
  );
}

/** A SQL string literal, quotes included: quotes doubled and backslashes escaped (MySQL's default sql_mode reads them). */
export function sqlString(v: unknown): string {
  const s = String(v);
  if (s.includes('\u0000')) refuse('SQL', s, 'it holds a NUL byte');
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\n/g, '\\n').replace(/\r/g, '\\r') + "'";
}

/**
 * A string for ProxySQL's admin interface, which runs its SQL on SQLite: quotes doubled, and no
 * backslash escapes (SQLite reads none), so line breaks and NUL are refused.
 */
export function sqliteString(v: unknown): string {
  const s = String(v);
  if (/[\r\n\u0000]/.test(s)) refuse('SQLite', s, 'it spans lines or holds a NUL byte');
  return "'" + s.replace(/'/g, "''") + "'";
}

/** A libconfig string (ProxySQL's proxysql.cnf), quotes included. libconfig cuts a string at NUL, so NUL is refused. */
export function libconfigString(v: unknown): string {
  const s = String(v);
  if (s.includes('\u0000')) refuse('libconfig', s, 'libconfig cuts strings at a NUL byte');
  return (
    '"' +
    s
      .replace(/[\\"]/g, (c) => '\\' + c)
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t')
      .replace(/\f/g, '\\f') +
    '"'
  );
}

/** An option-file or tpm INI value: one line, no quoting in either format, so anything odd is refused. */
export function iniValue(v: unknown): string {
  const s = String(v);
  if (/[\r\n\u0000]/.test(s)) refuse('INI', s, 'it spans lines');
  if (s !== s.trim()) refuse('INI', s, 'leading or trailing spaces would be lost');
  if (/[#;]/.test(s)) refuse('INI', s, '"#" and ";" start comments');
  return s;
}

/** A Java .properties value: backslash escapes for the characters the format treats specially. */
export function propertiesValue(v: unknown): string {
  const s = String(v);
  return s
    .replace(/[\\:=#! \t\f\r\n]/g, (c) => ({ '\t': '\\t', '\f': '\\f', '\r': '\\r', '\n': '\\n' })[c] ?? '\\' + c)
    .replace(/^ /, '\\ ');
}

/**
 * A JDBC URL parameter value. MariaDB Connector/J 2.7 splits on & and = without decoding, and MySQL
 * Connector/J percent-decodes, so &, =, % and blanks are refused rather than escaped one way or the other.
 */
export function jdbcParam(v: unknown): string {
  const s = String(v);
  if (/[&=%\s]/.test(s))
    refuse('JDBC URL', s, 'Connector/J splits parameters on "&" and "=", and MySQL\'s percent-decodes them');
  return s;
}

/**
 * A JavaScript string literal (the mysql2 snippet, MySQL Shell's adminapi.js). JSON is a string literal of
 * ES2019; U+2028 and U+2029, which end a line in older JavaScript engines, are escaped as well.
 */
export function jsString(v: unknown): string {
  return JSON.stringify(String(v)).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** A PHP single-quoted string literal: only "\" and "'" are special there, and both are escaped. */
export function phpString(v: unknown): string {
  const s = String(v);
  if (s.includes('\u0000')) refuse('PHP', s, 'it holds a NUL byte');
  return "'" + s.replace(/[\\']/g, (c) => '\\' + c) + "'";
}

/**
 * A MySQL/MariaDB option-file value (my.cnf, client.cnf): an INI value as above, and also no "\"
 * (mysys and Connector/C read \n, \t, \\ … as escapes) and no leading quote (both strip quotes), so
 * every reader gets the value as written.
 */
export function cnfValue(v: unknown): string {
  const s = iniValue(v);
  if (s.includes('\\')) refuse('option-file', s, 'MySQL and MariaDB option-file readers take "\\" as an escape');
  if (/^["']/.test(s)) refuse('option-file', s, 'option-file readers strip a leading quote');
  return s;
}

/**
 * A double-quoted option-file value, for values that hold ";" or "#" (Galera's wsrep_provider_options
 * list). mysys and the SST scripts' my_print_defaults strip the quotes and keep what is between as
 * is, provided it holds no quote, no "\" (an escape there too) and no line break.
 */
export function cnfQuoted(v: unknown): string {
  const s = String(v);
  if (/[\r\n\u0000]/.test(s)) refuse('option-file', s, 'it spans lines');
  if (/["\\]/.test(s)) refuse('option-file', s, 'a quoted option-file value cannot hold \'"\' or "\\"');
  return `"${s}"`;
}

/**
 * A MaxScale configuration value (maxscale.cnf and maxscale.cnf.d/*.cnf, read by the inih copy in
 * maxutils/maxbase). MaxScale builds inih with INI_ALLOW_INLINE_COMMENTS=0, so "#" and ";" inside a
 * value are the value's own characters and are written as they are (only a line that starts with one is
 * a comment, and a value never starts a line). Nothing in the format quotes or escapes, so: no line
 * break (a following line that starts with blanks would even continue the value), no edge blanks
 * (inih strips them), and no leading "$" (with substitute_variables=true MaxScale reads it as the name
 * of an environment variable).
 */
export function maxscaleValue(v: unknown): string {
  const s = String(v);
  if (/[\r\n\u0000]/.test(s)) refuse('MaxScale', s, 'it spans lines');
  if (s !== s.trim()) refuse('MaxScale', s, 'MaxScale strips leading and trailing blanks');
  if (s.startsWith('$'))
    refuse('MaxScale', s, 'with substitute_variables=true a leading "$" names an environment variable');
  return s;
}

/**
 * A MySQL Router configuration value (mysqlrouter.conf, read by router/src/harness config_parser.cc).
 * Router has no inline comments either ("#" and ";" comment only at the start of a line), no quoting
 * and no escapes; it strips the value's edge blanks and replaces "{name}" by the option `name` (its
 * interpolation, e.g. {datadir}), so line breaks, edge blanks and braces are refused.
 */
export function routerValue(v: unknown): string {
  const s = String(v);
  if (/[\r\n\u0000]/.test(s)) refuse('MySQL Router', s, 'it spans lines');
  if (s !== s.trim()) refuse('MySQL Router', s, 'Router strips leading and trailing blanks');
  if (/[{}]/.test(s)) refuse('MySQL Router', s, 'Router replaces "{name}" with the option "name"');
  return s;
}
