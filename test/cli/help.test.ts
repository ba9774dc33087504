// Help: every command and subcommand, found by walking the program's own command lists (not a hand
// list), has a description, EXAMPLES with at least one `$ dbtls …` line, and EXIT CODES starting at 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbtls } from '../helpers/run.js';
import { subcommands } from '../helpers/help-pages.js';

test('help, for the program and for each command and subcommand, has a description, EXAMPLES and EXIT CODES', async () => {
  const seen: string[] = [];
  const queue: string[][] = [[]];
  for (let guard = 0; queue.length > 0 && guard < 200; guard++) {
    const path = queue.shift()!;
    const name = ['dbtls', ...path].join(' ');
    const r = await dbtls([...path, '--help']);
    assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
    // commander prints "Usage: …", a blank line, then the description; without one, "Options:" follows at once
    const description = /^Usage: [^\n]*\n\n([^\n]+)/.exec(r.stdout)?.[1] ?? '';
    assert.ok(description && !/^(Options|Arguments|Commands):/.test(description), `${name}: no description`);
    // commander wraps a description to the width (80 without a terminal): no hard line break
    // inside a paragraph, so no line ends while the next line's first word would still have fit
    const paragraphs = (
      /^Usage: [^\n]*\n\n([\s\S]*?)\n\n(?:Options|Arguments|Commands|Inventory options):/.exec(r.stdout)?.[1] ?? ''
    ).split('\n\n');
    for (const p of paragraphs) {
      const lines = p.split('\n');
      for (let i = 0; i + 1 < lines.length; i++) {
        const next = lines[i + 1]!.trimStart().split(' ')[0]!;
        if (/^[-*•]|^\s/.test(lines[i + 1]!)) continue; // a list item or an indented line starts a line on purpose
        assert.ok(lines[i]!.length + 1 + next.length > 80, `${name}: ragged description line: "${lines[i]}"`);
      }
    }
    assert.match(
      r.stdout,
      /\nEXAMPLES\n[\s\S]*\$ dbtls [\s\S]*\nEXIT CODES\n\s+0 /,
      `${name}: EXAMPLES and EXIT CODES`,
    );
    seen.push(name);
    for (const sub of subcommands(r.stdout)) queue.push([...path, sub]);
  }
  assert.equal(queue.length, 0, 'the walk ended');
  // the walk really went down: the commands that lacked the sections, and nested subcommands
  for (const must of [
    'dbtls setup',
    'dbtls rotate',
    'dbtls rotate status',
    'dbtls rotate leaf',
    'dbtls export',
    'dbtls export ansible',
    'dbtls keystore list',
  ]) {
    assert.ok(seen.includes(must), `${must} was walked (saw: ${seen.join(', ')})`);
  }
});

test('`dbtls help <command>` prints the same sections', async () => {
  const r = await dbtls(['help', 'setup']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /\nEXAMPLES\n[\s\S]*\$ dbtls [\s\S]*\nEXIT CODES\n\s+0 /);
});

test('numbers show in help as numbers, and options are grouped (rotate leaf, push, apply)', async () => {
  for (const path of [['rotate', 'leaf'], ['push'], ['apply'], ['check'], ['probe']]) {
    const r = await dbtls([...path, '--help']);
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stdout, /\(default: "[\d.]+"\)/, `${path.join(' ')}: a number default shown as a string`);
  }
  const leaf = (await dbtls(['rotate', 'leaf', '--help'])).stdout;
  assert.match(leaf, /--retry-delay <seconds>[\s\S]*?\(default: 0\.3\)/);
  assert.match(leaf, /--probe-timeout <seconds>[\s\S]*?\(default: 10\)/);
  const headings = leaf.split('\n').filter((l) => /^[A-Z][^:]*:$/.test(l));
  assert.deepEqual(headings, [
    'Options:',
    'Inventory options:',
    'Transport options (SSH, local):',
    'Output:',
    'Secrets:',
  ]);
  for (const path of [['push'], ['apply']]) {
    const out = (await dbtls([...path, '--help'])).stdout;
    assert.match(out, /\nInventory options:\n\s+-i, --inventory/);
    assert.match(out, /\nTransport options \(SSH, local\):\n\s+--concurrency/);
  }
  assert.match((await dbtls(['apply', '--help'])).stdout, /\nSecrets:\n\s+--storepass-file/);
});
