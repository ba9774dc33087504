// Writes docs/errors.md from the error-code catalogue (lib/error-codes.ts, compiled to dist/):
//   make build && node scripts/error-codes-doc.mjs
// test/errors/catalogue.test.ts fails when docs/errors.md is not what this writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const EXIT = { usage: 2, input: 2, failure: 1 };

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** A table cell: one line, with the characters Markdown would take as table syntax escaped. */
const cell = (s) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** "usage → 2", or "input → 2, failure → 1" for a code raised as two kinds. */
const kinds = (kind) => (Array.isArray(kind) ? kind : [kind]).map((k) => `${k} → ${EXIT[k]}`).join(', ');

/** docs/errors.md for CODES (the ERROR_CODES catalogue): the JSON shape, the exit statuses, every code. */
export function errorsDoc(codes) {
  const rows = Object.entries(codes)
    .sort(([a], [b]) => compare(a.toLowerCase(), b.toLowerCase()) || compare(a, b))
    .map(([code, { kind, summary }]) => `| \`${code}\` | ${kinds(kind)} | ${cell(summary)} |`);
  return `# Errors

<!-- Generated from lib/error-codes.ts by scripts/error-codes-doc.mjs: edit the catalogue, then run
     make build && node scripts/error-codes-doc.mjs
     (test/errors/catalogue.test.ts fails when this file and the catalogue differ). -->

Every error dbtls reports has a **code**: a stable name for what went wrong, for scripts and
playbooks to match on. Messages are for people and may be reworded: match on the code. All
${rows.length} codes are listed [below](#codes).

## Exit statuses

| status | meaning |
|---|---|
| 0 | success |
| 1 | a failure of the work itself (kind \`failure\`): a node could not be reached, a reload failed, a server refused the probe… |
| 2 | a usage error (kind \`usage\`: the command line is wrong) or an input error (kind \`input\`: a file or value it names is wrong) |
| 130 | \`dbtls init\` was interrupted (Ctrl-C) |

Some commands also exit 1 for what they found rather than for an error: \`check\` when something
expires soon, is missing or outdated, \`render --check\` when files on disk differ, \`inspect\` when a
check fails. Each command's \`--help\` lists its exit codes.

## The JSON error

With \`--json\`, an error that stops the command is written to stdout as one JSON object (the text
for people still goes to stderr), here for \`dbtls issue -i cluster.yml --json\`:

\`\`\`json
{
  "ok": false,
  "error": {
    "code": "bad-inventory",
    "message": "cluster.yml:3:5: nodes[0].roles: is required\\ncluster.yml:4:11: nodes[0].host: \\"bad host\\" is not a DNS name or an IP address",
    "hint": "fix the inventory (its fields are described in docs/inventory.md)",
    "file": "cluster.yml",
    "line": 3,
    "column": 5,
    "field": "nodes[0].roles"
  }
}
\`\`\`

- \`code\`: one of the codes below. An unexpected system error that dbtls has no code for carries
  Node's own (\`ENOENT\`, \`EACCES\`…), and anything else \`failure\`.
- \`message\`: what went wrong, as on stderr (kept as it is: JSON escapes control characters). An error
  that lists several problems (\`bad-inventory\`, \`bad-answers\`) has one a line.
- \`hint\`: what to do about it, when dbtls knows.
- \`file\`, \`line\`, \`column\`, \`field\`: where it is, as far as known; \`field\` is an inventory path
  like \`nodes[2].sans[0]\` or the option, like \`--days\`.

Each member but \`code\` and \`message\` is left out when it is unknown, with one exception: in
\`bad-inventory\` and \`bad-answers\` they are those of the first problem, where \`line\` and
\`column\` are 0 when unknown, and \`bad-inventory\`'s \`field\` is empty for a problem of the whole
file (a YAML syntax error). An option value refused while the command line is parsed (\`bad-option\`) has only \`code\`
and \`message\`.

Commands that report per item keep going past a failed one and say so in their own JSON: a node
that failed in \`push\` or \`apply\` has \`"ok": false\` and \`"error": { "code", "message" }\` in
\`nodes[]\` (the run exits 1), and a file \`inspect\` could not read has \`"ok": false\` and
\`"error": { "code", "message", "hint" }\`. Their codes are the same list.

## Codes

\`usage\` and \`input\` exit 2, \`failure\` exits 1. A code raised as two kinds names both.

| code | kind → exit status | meaning |
|---|---|---|
${rows.join('\n')}
`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { ERROR_CODES } = await import('../dist/lib/error-codes.js').catch(() => {
    throw new Error('dist/lib/error-codes.js is missing: run make build first');
  });
  const out = fileURLToPath(new URL('../docs/errors.md', import.meta.url));
  writeFileSync(out, errorsDoc(ERROR_CODES));
  console.log(`wrote ${out}`);
}
