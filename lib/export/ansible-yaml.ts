// The one writer of the YAML that dbtls hands to Ansible (hosts.yml, dbtls-nodes.yml). Ansible runs
// Jinja on every string it reads from an inventory or a vars file, on the controller, as the user who
// runs it: a "{{ lookup('pipe', …) }}" in an SSH user would run a command there. So every string this
// writer emits is tagged `!unsafe` (Ansible's tag for "never template this") and written as a YAML
// double-quoted scalar in which everything but printable ASCII is an escape: no value can end its
// quotes, its line or its tag, and no reader (PyYAML here, the yaml package in the tests) has to
// agree with us on line breaks like U+2028 or NEL. Keys cannot be tagged in a way Ansible honours
// everywhere (host names, variable names), so they are held to a plain alphabet instead, and a key
// outside it is refused, never written. Comments are written line by line, each starting with "#".
import { inputError } from '../errors.js';

/** What dbtls may write as a mapping key: variable names, node names (rules.safeName), group names. */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export type AnsibleValue = string | number | boolean | AnsibleValue[] | { [key: string]: AnsibleValue };

/** A YAML double-quoted scalar: `"` and `\` escaped, every code point outside U+0020–U+007E as \x, \u or \U. */
export function yamlQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (cp >= 0x20 && cp <= 0x7e) out += ch;
    else if (cp <= 0xff) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** A string Ansible reads literally, whatever it holds. */
export const unsafeScalar = (s: string): string => `!unsafe ${yamlQuote(s)}`;

/** A key dbtls may write, or a refusal: a key that would need quoting (or templating) is never written. */
export function checkKey(key: string): string {
  if (!KEY.test(key)) {
    throw inputError(
      'export-unsafe-key',
      `refusing to write ${yamlQuote(key.length > 80 ? key.slice(0, 80) + '…' : key)} as a key in an Ansible file: keys must be letters, digits, "_", "." and "-"`,
    );
  }
  return key;
}

function scalar(v: string | number | boolean): string {
  if (typeof v === 'string') return unsafeScalar(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    return String(v);
  }
  return v ? 'true' : 'false';
}

function lines(v: AnsibleValue, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === 'object' && (Array.isArray(item) ? item.length : Object.keys(item).length)) {
        // "- " then the item's lines indented under it; the first line joins the dash.
        const sub: string[] = [];
        lines(item, indent + '  ', sub);
        out.push(indent + '- ' + sub[0]!.slice(indent.length + 2), ...sub.slice(1));
      } else out.push(`${indent}- ${inline(item)}`);
    }
    return;
  }
  if (typeof v !== 'object') throw new TypeError('a document is a mapping or a list');
  for (const [k, item] of Object.entries(v)) {
    const key = checkKey(k);
    if (typeof item === 'object' && (Array.isArray(item) ? item.length : Object.keys(item).length)) {
      out.push(`${indent}${key}:`);
      // A list under a key is written at the key's own indentation, as YAML allows and Ansible's docs do.
      lines(item, Array.isArray(item) ? indent : indent + '  ', out);
    } else out.push(`${indent}${key}: ${inline(item)}`);
  }
}

/** A scalar, or an empty list or mapping. */
function inline(v: AnsibleValue): string {
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'object') return '{}';
  return scalar(v);
}

/** "# …" lines for TEXT; control characters (a newline in a file name, say) cannot end a comment early. */
export function yamlComment(text: string): string[] {
  return text.split('\n').map((l) => `#${l ? ' ' : ''}${l.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, '?')}`);
}

/** A whole document: COMMENT lines on top, then VALUE (a mapping) in block style. */
export function ansibleYaml(value: { [key: string]: AnsibleValue }, comment?: string): string {
  const out: string[] = comment === undefined ? [] : [...yamlComment(comment), ''];
  lines(value, '', out);
  return out.join('\n') + '\n';
}
