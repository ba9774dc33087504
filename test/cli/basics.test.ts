import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { subcommands } from '../helpers/help-pages.js';

test('--version prints the package version', async () => {
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
  const r = await dbtls(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${version}\n`);
});

// help for every command and subcommand: test/cli/help.test.ts

test('an unknown command or option is a usage error: exit 2 with a message', async () => {
  const cmd = await dbtls(['frobnicate']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command 'frobnicate'/);
  const opt = await dbtls(['--frobnicate']);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /unknown option '--frobnicate'/);
});

// What a run loads from node_modules: Node puts CommonJS packages (all of ours) in Module._cache,
// even when imported from ESM; a preloaded script prints their names as the process exits.
async function loader(t: TestContext): Promise<(args: string[], cwd?: string) => Promise<string[]>> {
  const dir = await tempDir(t);
  const probe = join(dir, 'probe.cjs');
  await writeFile(
    probe,
    `process.on('exit', () => { const seen = new Set(Object.keys(require('module')._cache).filter((k) => k.includes('node_modules')).map((k) => k.split('node_modules/').pop().split('/')[0])); process.stderr.write('LOADED ' + JSON.stringify([...seen].sort()) + '\\n'); });\n`,
  );
  return async (args, cwd) => {
    const r = await run(process.execPath, ['--require', probe, cliPath, ...args], { cwd, timeoutMs: 120_000 });
    assert.ok(r.code === 0 || r.code === 1, `dbtls ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    return JSON.parse(/LOADED (.*)/.exec(r.stderr)![1]!) as string[];
  };
}

test('heavy modules are loaded only by the command that needs them', async (t) => {
  const loaded = await loader(t);
  const dir = await tempDir(t);
  assert.deepEqual(await loaded(['--version']), ['commander']);
  const data = join(dir, 'data');
  await mkdir(data);
  assert.deepEqual(await loaded(['setup', '-d', data, '--suffix', 'x']), ['commander', 'node-forge']);
  // Reading certificates is node:crypto's work: no node-forge, no inventory parser.
  assert.deepEqual(
    await loaded(['inspect', join(data, 'ca.pem'), join(data, 'server-cert.pem'), '--ca', join(data, 'ca.pem')]),
    ['commander'],
  );

  // The example inventory, its PKI folder in the temporary one.
  const example = (await readFile(join(repoRoot, 'inventories/example.yml'), 'utf8')).replace(
    /^pki: .*$/m,
    'pki: ./pki',
  );
  assert.match(example, /^pki: \.\/pki$/m);
  const inv = join(dir, 'example.yml');
  await writeFile(inv, example);
  assert.deepEqual(await loaded(['issue', '-i', inv]), ['commander', 'node-forge', 'yaml']);
  // Nothing left to issue: the keys and certificates are not built, so node-forge is not loaded.
  assert.deepEqual(await loaded(['issue', '-i', inv]), ['commander', 'yaml']);
  assert.deepEqual(await loaded(['render', '-i', inv]), ['commander', 'liquidjs', 'yaml']);
  assert.deepEqual(await loaded(['check', '-i', inv]), ['commander', 'yaml']);
  // A push needs neither the issue nor the render code: apply does.
  assert.deepEqual(await loaded(['push', '-i', inv, '--check']), ['commander', 'yaml']);
  assert.deepEqual(await loaded(['apply', '-i', inv, '--check']), ['commander', 'liquidjs', 'yaml']);

  // init from an answers file, without a terminal: no prompts (inquirer), no task tree (listr2).
  const answers = join(dir, 'answers.yml');
  await writeFile(
    answers,
    'cluster: demo\nroles: [mysql]\ntransport: local\nnodes:\n  - { host: 10.0.0.11 }\nsubject: { O: Example }\nca: { commonName: Demo Root CA }\nclients: []\ninventory: demo.yml\npush: false\n',
  );
  assert.deepEqual(await loaded(['init', '--answers', answers], dir), ['commander', 'liquidjs', 'node-forge', 'yaml']);
});

test('--help of every command and subcommand loads commander only', async (t) => {
  const loaded = await loader(t);
  const top = await dbtls(['--help']);
  const paths = subcommands(top.stdout).map((c) => [c]);
  for (const [cmd] of [...paths])
    for (const sub of subcommands((await dbtls([cmd!, '--help'])).stdout)) paths.push([cmd!, sub]);
  // the walk found the commands and went down to their subcommands
  for (const must of [
    'setup',
    'init',
    'push',
    'apply',
    'inspect',
    'probe',
    'schedule',
    'export ansible',
    'rotate leaf',
    'keystore list',
  ]) {
    assert.ok(
      paths.some((p) => p.join(' ') === must),
      `${must} was walked`,
    );
  }
  for (const path of paths)
    assert.deepEqual(await loaded([...path, '--help']), ['commander'], `dbtls ${path.join(' ')} --help`);
});

/**
 * The lib/ modules a command spec may load while the program registers it, each with why: tiny and
 * free of dependencies. Anything else from lib/ belongs in the command's work module (cli/run/).
 */
const SPEC_LIB_MODULES: Record<string, string> = {
  'lib/errors.js': 'DbtlsError itself: what every parser and check throws',
  'lib/check/duration.js': 'the --within parser (cli/options.ts duration) checks the value while commander parses',
  'lib/pki/validity.js': 'DAY_MS, which the --within parser counts in (no imports of its own)',
  'lib/deliver/defaults.js': 'the transport defaults that push, apply and rotate show in their help',
};

test('cli/commands/*.js import nothing from lib/ but types and a few tiny modules, and no work module', async () => {
  const dist = dirname(cliPath); // dist/cli
  const root = dirname(dist); // dist
  // Static imports and re-exports of compiled ES modules (`import type` is gone; `import(` is lazy, not matched).
  const STATIC = /^\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  const seen = new Set<string>();
  const packages = new Set<string>();
  const specs = (await readdir(join(dist, 'commands')))
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dist, 'commands', f));
  assert.ok(specs.length >= 12, `specs found: ${specs.length}`);
  const queue = [...specs];
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, spec] of (await readFile(file, 'utf8')).matchAll(STATIC)) {
      if (spec!.startsWith('.')) queue.push(resolve(dirname(file), spec!));
      else if (!spec!.startsWith('node:')) packages.add(spec!);
    }
  }
  const reached = [...seen].map((f) => relative(root, f));
  assert.ok(
    reached.includes('cli/run.js') && reached.includes('cli/options.js'),
    `the walk followed the specs' imports: ${reached.join(', ')}`,
  );
  assert.deepEqual([...packages], ['commander']);
  const lib = reached.filter((f) => f.startsWith('lib/'));
  assert.deepEqual(
    lib.filter((f) => !(f in SPEC_LIB_MODULES)),
    [],
    'lib/ modules a spec loads when the program registers it',
  );
  // The work and its printing load only when the command runs (cli/run.ts).
  assert.deepEqual(
    reached.filter((f) => f.startsWith('cli/run/') || f.startsWith('cli/ui/')),
    [],
  );
});
