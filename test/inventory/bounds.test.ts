// Resource bounds on every input file dbtls parses (docs/inventory.md, "Limits"): alias bombs in the
// dbtls YAML, the Ansible YAML and the init answers file, host-range bombs in Ansible INI and YAML, more
// hosts or nodes than an inventory may list, flow nesting that crashes the YAML parser, and 100 KB
// values in error lines. Each runs the real CLI as a child with a 256 MB heap and must be refused with
// exit 2 and a file:line:col message, within generous bounds on time (10 s) and peak memory (the
// child's own maxRSS, reported by a preloaded exit hook), where the old code ran for minutes, took
// gigabytes or died with a V8 out-of-memory trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { quoteValue } from '../../lib/errors.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { InventoryError } from '../../lib/inventory/errors.js';

const MAX_MS = 10_000;
const MAX_RSS_MB = 320;
const T = { timeout: 120_000 };

interface Bounded {
  code: number | null;
  stderr: string;
  ms: number;
  rssMb: number;
}

/** `dbtls ARGS` with a 256 MB heap; its peak RSS is printed by an exit hook and taken off stderr. */
async function dbtlsBounded(dir: string, args: string[]): Promise<Bounded> {
  const hook = join(dir, 'maxrss-hook.mjs');
  await writeFile(
    hook,
    "import { writeSync } from 'node:fs';\nprocess.on('exit', () => writeSync(2, `\\nTEST_MAXRSS_KB=${process.resourceUsage().maxRSS}\\n`));\n",
  );
  const start = process.hrtime.bigint();
  const r = await run(
    process.execPath,
    ['--max-old-space-size=256', '--import', pathToFileURL(hook).href, cliPath, ...args],
    { cwd: dir, timeoutMs: 90_000 },
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const m = /\nTEST_MAXRSS_KB=(\d+)\n$/.exec(r.stderr);
  assert.ok(m, `the child reported its peak memory (it did not crash): ${r.signal ?? ''} ${r.stderr.slice(-2000)}`);
  return { code: r.code, stderr: r.stderr.slice(0, m.index), ms, rssMb: Number(m[1]) / 1024 };
}

/** Refused as an input error at FILE:line:col with MESSAGE, within the time and memory bounds. */
async function refused(dir: string, args: string[], file: string, where: RegExp, message: RegExp): Promise<string> {
  const r = await dbtlsBounded(dir, args);
  assert.equal(r.code, 2, r.stderr);
  const line = r.stderr.split('\n').find((l) => message.test(l));
  assert.ok(line, `a line says ${message}:\n${r.stderr.slice(0, 3000)}`);
  assert.ok(line.includes(file), `it names the file: ${line}`);
  assert.match(line.slice(line.indexOf(file) + file.length), where, `at its place: ${line}`);
  assert.ok(r.ms < MAX_MS, `refused in ${r.ms.toFixed(0)} ms (bound ${MAX_MS})`);
  assert.ok(r.rssMb < MAX_RSS_MB, `peak memory ${r.rssMb.toFixed(0)} MB (bound ${MAX_RSS_MB})`);
  assert.ok(r.stderr.length < 10_000, `a short error, not a flood: ${r.stderr.length} characters`);
  return line;
}

/** Ten times ten times … lols: 10^10 values once expanded, in a few hundred bytes. */
function laughs(indent: string, key = (i: number) => `l${i}`): string[] {
  const out = [`${indent}${key(0)}: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]`];
  for (let i = 1; i <= 9; i++)
    out.push(
      `${indent}${key(i)}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return out;
}

test(
  "alias bombs: a dbtls inventory of 5,000 aliased nodes with 5,000 aliased roles each (the issue's 100 KB shape), refused at the alias that crosses the limit",
  T,
  async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'inventory.yml');
    const n = 5000;
    await writeFile(
      file,
      `cluster: bomb\nnodes:\n  - &n {name: db1, host: 10.0.0.1, roles: &r [${Array(n).fill('mysql').join(', ')}]}\n${'  - *n\n'.repeat(n)}`,
    );
    await refused(
      dir,
      ['issue', '-i', file, '--check'],
      file,
      /^:\d+:5: /,
      /alias \*n makes the YAML hold more than 1000000 values/,
    );
  },
);

test(
  "alias bombs: billion laughs in a dbtls inventory (used by a node's sans), in an Ansible YAML inventory's vars, and in an init answers file",
  T,
  async (t) => {
    const dir = await tempDir(t);
    const dbtlsFile = join(dir, 'laughs.yml');
    await writeFile(
      dbtlsFile,
      [
        'cluster: bomb',
        ...laughs('', (i) => `x${i}`),
        'nodes:',
        '  - { name: db1, host: 10.0.0.1, roles: [mysql], sans: *l9 }',
        '',
      ].join('\n'),
    );
    // l0..l3 hold 10 + 100 + 1,000 + 10,000 values (plus the lists), l4 pushes past 1,000,000 at its 10th alias... or before.
    await refused(
      dir,
      ['issue', '-i', dbtlsFile, '--check'],
      dbtlsFile,
      /^:\d+:\d+: /,
      /alias \*l\d makes the YAML hold more than 1000000 values/,
    );

    const ansibleFile = join(dir, 'hosts.yml');
    await writeFile(
      ansibleFile,
      ['all:', '  vars:', ...laughs('    '), '  hosts:', '    db1: { dbtls_roles: mysql }', ''].join('\n'),
    );
    await refused(
      dir,
      ['issue', '-i', ansibleFile, '--check'],
      ansibleFile,
      /^:\d+:\d+: /,
      /alias \*l\d makes the YAML hold more than 1000000 values/,
    );

    const answers = join(dir, 'answers.yml');
    await writeFile(
      answers,
      ['cluster: bomb', ...laughs('', (i) => `x${i}`), 'nodes: [{ host: 10.0.0.1, roles: *l9 }]', ''].join('\n'),
    );
    await refused(
      dir,
      ['init', '--answers', answers, '--yes'],
      answers,
      /^:\d+:\d+: /,
      /alias \*l\d makes the YAML hold more than 1000000 values/,
    );
  },
);

test('an alias inside the value it names (a loop) is refused at the alias, in both YAML readers', T, async (t) => {
  const dir = await tempDir(t);
  const ansibleFile = join(dir, 'hosts.yml');
  await writeFile(ansibleFile, 'all:\n  vars:\n    loop: &a [x, *a]\n  hosts:\n    db1: { dbtls_roles: mysql }\n');
  await refused(
    dir,
    ['issue', '-i', ansibleFile, '--check'],
    ansibleFile,
    /^:3:18: /,
    /alias \*a is inside the value it names/,
  );
  const dbtlsFile = join(dir, 'inventory.yml');
  await writeFile(dbtlsFile, 'cluster: loop\nnodes: &n\n  - { name: db1, host: 10.0.0.1, roles: [mysql], sans: *n }\n');
  await refused(
    dir,
    ['issue', '-i', dbtlsFile, '--check'],
    dbtlsFile,
    /^:3:56: /,
    /alias \*n is inside the value it names/,
  );
});

test(
  'host-range bombs: db[0:9999]-[0:9999] in INI and in Ansible YAML is refused before a single name is made',
  T,
  async (t) => {
    const dir = await tempDir(t);
    const ini = join(dir, 'hosts.ini');
    await writeFile(ini, '[mysql]\ndb1\ndb[0:9999]-[0:9999]\n');
    await refused(
      dir,
      ['issue', '-i', ini, '--check'],
      ini,
      /^:3:1: /,
      /expands to more than 10000 hosts \(dbtls takes at most 10000 per pattern\)/,
    );
    const yml = join(dir, 'hosts.yml');
    await writeFile(yml, 'all:\n  children:\n    mysql:\n      hosts:\n        db[0:99999999]:\n');
    await refused(dir, ['issue', '-i', yml, '--check'], yml, /^:5:9: /, /expands to more than 10000 hosts/);
  },
);

test('more hosts than an inventory may list: 10,010 INI hosts from two patterns, 10,001 dbtls nodes', T, async (t) => {
  const dir = await tempDir(t);
  const ini = join(dir, 'hosts.ini');
  await writeFile(ini, '[mysql]\ndb[0:9999]\nx[0:9]\n');
  await refused(
    dir,
    ['issue', '-i', ini, '--check'],
    ini,
    /^:3:1: /,
    /the inventory lists more than 10000 hosts; dbtls takes at most 10000 per inventory/,
  );
  const yml = join(dir, 'inventory.yml');
  await writeFile(
    yml,
    `cluster: many\nnodes:\n${Array.from({ length: 10_001 }, (_, i) => `  - {name: d${i}, host: 10.0.0.1, roles: [mysql]}\n`).join('')}`,
  );
  await refused(
    dir,
    ['issue', '-i', yml, '--check'],
    yml,
    /^:3:3: nodes: /,
    /lists 10001 nodes; dbtls takes at most 10000/,
  );
});

test(
  'flow nesting 20,000 deep (which takes the YAML parser down) is refused at the first bracket past 64 levels',
  T,
  async (t) => {
    const dir = await tempDir(t);
    const yml = join(dir, 'inventory.yml');
    await writeFile(yml, `cluster: deep\nnodes: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    await refused(dir, ['issue', '-i', yml, '--check'], yml, /^:2:72: /, /nests "\[" and "\{" deeper than 64 levels/);
    // An INI value in brackets goes through the same reader: it stays a string, and the node still loads or is refused normally.
    const ini = join(dir, 'hosts.ini');
    await writeFile(ini, `[mysql]\ndb1 dbtls_sans=${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    await refused(dir, ['issue', '-i', ini, '--check'], ini, /^:2:\d+: db1\.dbtls_sans: /, /"\[{80}"…\(40000 bytes\) /);
  },
);

test('a 100 KB value in an error line is quoted short, naming its size, with file:line:col and field', T, async (t) => {
  const dir = await tempDir(t);
  const long = 'a'.repeat(100_000);
  const yml = join(dir, 'inventory.yml');
  await writeFile(yml, `cluster: demo\nnodes:\n  - name: db1\n    host: ${long}\n    roles: [mysql]\n`);
  const line = await refused(
    dir,
    ['issue', '-i', yml, '--check'],
    yml,
    /^:4:11: nodes\[0\]\.host: /,
    /^[^"]*"a{80}"…\(100000 bytes\) /,
  );
  assert.ok(line.length < 300 + yml.length, `${line.length} characters: ${line}`);

  const ini = join(dir, 'hosts.ini');
  await writeFile(ini, `[mysql]\n${long} ansible_user=${'u'.repeat(100_000)}\n`);
  const r = await dbtlsBounded(dir, ['issue', '-i', ini, '--check']);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith(ini));
  assert.ok(lines.length >= 1, r.stderr.slice(0, 2000));
  for (const l of lines) {
    assert.match(l.slice(ini.length), /^:2:\d+: \S+/, l.slice(0, 400));
    assert.ok(l.length < 300 + ini.length, `${l.length} characters: ${l.slice(0, 400)}`);
  }

  assert.equal(quoteValue('db1'), '"db1"');
  assert.equal(quoteValue('x'.repeat(81)), `"${'x'.repeat(80)}"…(81 bytes)`);
  assert.equal(quoteValue('line\nbreak\u001b[31m'), '"line\\nbreak\\u001b[31m"', 'one line, no terminal escapes');
});

test('an inventory with 500 bad nodes lists 100 problems and counts the rest', T, async (t) => {
  const dir = await tempDir(t);
  const yml = join(dir, 'inventory.yml');
  await writeFile(
    yml,
    `cluster: bad\nnodes:\n${Array.from({ length: 500 }, (_, i) => `  - {name: d${i}, host: 10.0.0.1, roles: [nosuch]}\n`).join('')}`,
  );
  const err = await loadInventory(yml).then(
    () => assert.fail('loaded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InventoryError);
  assert.equal(err.problems.length, 100);
  assert.deepEqual(err.problems[99], {
    file: yml,
    line: 102,
    column: 41,
    field: 'nodes[99].roles[0]',
    message:
      'unknown role "nosuch"; the roles are mysql, mariadb, percona, tidb, pd, tikv, tiflash, ticdc, tiproxy, proxysql, tungsten',
  });
  assert.match(err.message, /\n… and 400 more problems not shown$/);
});

test(
  'input files are read only up to 16 MiB: a larger inventory is refused by its size, before it is parsed',
  T,
  async (t) => {
    const dir = await tempDir(t);
    const yml = join(dir, 'inventory.yml');
    await writeFile(yml, `cluster: big\n# ${'x'.repeat(16 << 20)}\n`);
    const r = await dbtlsBounded(dir, ['issue', '-i', yml, '--check']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the inventory is 167772\d\d bytes; dbtls reads at most 16777216 bytes \(16 MiB\)/);
    assert.ok(r.ms < MAX_MS && r.rssMb < MAX_RSS_MB, `${r.ms} ms, ${r.rssMb} MB`);
  },
);

test(
  'Ansible groups: a chain of 9,000 nested groups loads without exhausting the stack, 10,000 hosts under 9,000 parent groups load in linear time, more than 10,000 groups are refused where the next one is named',
  T,
  async (t) => {
    const dir = await tempDir(t);
    const chain = join(dir, 'chain.ini');
    let text = '[mysql]\ndb1\n';
    for (let i = 0; i < 9000; i++) text += `[g${i}:children]\ng${i + 1}\n`;
    await writeFile(chain, text + '[g9000]\ndb2 dbtls_roles=mysql\n');
    // Loaded in-process: `issue --check` would also time the CA's key generation.
    const chained = await loadInventory(chain);
    assert.deepEqual(
      chained.nodes.map((n) => [n.name, n.roles]),
      [
        ['db1', ['mysql']],
        ['db2', ['mysql']],
      ],
    );

    // Every host's groups are the same 9,001: what they give is worked out once, not once per host.
    const fan = join(dir, 'fan.ini');
    await writeFile(
      fan,
      `[mysql]\n${Array.from({ length: 10_000 }, (_, i) => `db${i}\n`).join('')}${Array.from({ length: 9000 }, (_, i) => `[g${i}:children]\nmysql\n`).join('')}`,
    );
    const inv = await loadInventory(fan);
    assert.equal(inv.nodes.length, 10_000);

    const many = join(dir, 'groups.ini');
    await writeFile(many, `[mysql]\ndb1\n${Array.from({ length: 20_000 }, (_, i) => `[g${i}]\n`).join('')}`);
    // all, ungrouped and mysql are three: g9997 is the 10,001st group, on line 10,000.
    await refused(
      dir,
      ['issue', '-i', many, '--check'],
      many,
      /^:10000:1: /,
      /the inventory names more than 10000 groups; dbtls takes at most 10000/,
    );
  },
);
