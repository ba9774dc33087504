#!/usr/bin/env node
// bench/steady.mjs — times the commands cron, Make and Ansible run again and again on a PKI that is
// already up to date: `dbtls check`, a no-change `dbtls issue` and a no-change `dbtls apply`, against
// what people run instead from cron: a shell loop of `openssl x509 -checkend 0 -noout -in` over the
// same certificates (every certificate the manifest records, and the CA), in the same run.
//
//   node bench/steady.mjs [--runs 5] [--nodes 100] [--slack 1.5] [--cli PATH] [--keep] [--json]
//
// Two inventories: the bundled inventories/example.yml (8 nodes: 6 MySQL+Tungsten, ProxySQL, TiDB;
// its Java stores include a JCEKS JGroups store per Tungsten node), and a generated one of N nodes
// with the same mix of roles (plus a PKCS#12 and a JKS client store). Each is brought up to date
// once, untimed (`apply` with the local transport into the run's folder), then the four commands are
// timed as whole processes (wall clock, process.hrtime around the child; CPU of the process tree with
// GNU time when present), interleaved and with the order rotated per run.
//
// Every timed run is checked, outside the timed section: the loop and `check` exit 0 (`check` saying
// every item is ok), `issue --json` and `apply --json` report changed: false, and the PKI folder and
// the nodes' folders are byte for byte and mtime for mtime as they were (a no-change run writes
// nothing).
//
// Targets (issue 12, finding 14): each command's median at most 1x the loop's on the same
// inventory, and linear in the number of nodes: its N-node median over its 8-node median at most
// (N / 8) x slack. Exit status: 0 when every run succeeded (whatever the ratios), 1 when a run
// failed or a tool is missing, 2 on a usage error. Only Node built-ins are used; the CLI must have
// been built (`make build`). --cli times another build (e.g. an older checkout's dist/cli/main.js).

import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stats } from './stats.mjs';

const COMMANDS = ['loop', 'check', 'issue', 'apply'];
const RATIO_TARGET = 1;

// ---- arguments ---------------------------------------------------------------------------------
function usage(code) {
  const text = `usage: node bench/steady.mjs [--runs N] [--nodes N] [--slack X] [--cli PATH] [--keep] [--json]

  --runs N     timed runs of each command on each inventory (default 5)
  --nodes N    nodes of the generated inventory (default 100; at least 16)
  --slack X    linearity allowance: N-node time / 8-node time <= (N/8) x X (default 1.5)
  --cli PATH   the dbtls CLI to time (default: dist/cli/main.js of this checkout)
  --keep       keep the run's folders (their path is printed) instead of deleting them
  --json       print the results as JSON instead of a table
`;
  (code === 0 ? process.stdout : process.stderr).write(text);
  process.exit(code);
}

const repo = fileURLToPath(new URL('..', import.meta.url));
const opts = { runs: 5, nodes: 100, slack: 1.5, cli: join(repo, 'dist', 'cli', 'main.js'), keep: false, json: false };
{
  let parsed;
  try {
    const text = { type: 'string' };
    parsed = parseArgs({
      options: {
        runs: text,
        nodes: text,
        slack: text,
        cli: text,
        keep: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`steady.mjs: ${e.message}`);
    usage(2);
  }
  if (parsed.help) usage(0);
  const positive = (name, v, min = 1) => {
    if (!/^\d+$/.test(v) || Number(v) < min) {
      console.error(`steady.mjs: --${name} must be a whole number of at least ${min}, not ${v}`);
      usage(2);
    }
    return Number(v);
  };
  if (parsed.runs !== undefined) opts.runs = positive('runs', parsed.runs);
  if (parsed.nodes !== undefined) opts.nodes = positive('nodes', parsed.nodes, 16);
  if (opts.nodes > 4000) {
    console.error('steady.mjs: --nodes is at most 4000');
    usage(2);
  }
  if (parsed.slack !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(parsed.slack) || Number(parsed.slack) < 1) {
      console.error(`steady.mjs: --slack must be a number >= 1, not ${parsed.slack}`);
      usage(2);
    }
    opts.slack = Number(parsed.slack);
  }
  if (parsed.cli !== undefined) opts.cli = resolve(parsed.cli);
  opts.keep = Boolean(parsed.keep);
  opts.json = Boolean(parsed.json);
}

function die(message) {
  console.error(`steady.mjs: ${message}`);
  process.exit(1);
}

if (!existsSync(opts.cli)) die(`${opts.cli} does not exist: run \`make build\` first (in ${repo}).`);
const example = join(repo, 'inventories', 'example.yml');
if (!existsSync(example)) die(`${example} is missing.`);
const opensslVersion = (() => {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? null : r.stdout.trim();
})();
if (!opensslVersion) die('openssl is not on PATH: the baseline needs it.');
const dbtlsVersion = (() => {
  const r = spawnSync(process.execPath, [opts.cli, '--version'], { encoding: 'utf8' });
  return r.status === 0 ? `dbtls ${r.stdout.trim()}` : 'dbtls ?';
})();

// ---- the two inventories -----------------------------------------------------------------------
/** The example inventory, with its PKI folder moved into the run's folder. */
function exampleInventory() {
  const text = readFileSync(example, 'utf8');
  if (!/^pki: .*$/m.test(text)) die(`${example} has no top-level "pki:" line to point at the run's folder`);
  return text.replace(/^pki: .*$/m, 'pki: ./pki');
}

/** N nodes in the example's proportions: of every 8, six MySQL+Tungsten, one ProxySQL, one TiDB. */
function fleetInventory(n) {
  const pad = String(n).length;
  const lines = [
    'cluster: fleet',
    'pki: ./pki',
    'subject: { C: DE, O: Example, OU: Databases }',
    'ca: { commonName: fleet CA, days: 3650, keySize: 2048 }',
    'leaf: { days: 825, keySize: 2048, localhost: false }',
    'nodes:',
  ];
  for (let i = 1; i <= n; i++) {
    const k = (i - 1) % 8;
    const role = k < 6 ? 'db' : k === 6 ? 'proxy' : 'tidb';
    const roles = k < 6 ? '[mysql, tungsten]' : k === 6 ? '[proxysql]' : '[tidb]';
    const name = `${role}${String(i).padStart(pad, '0')}`;
    lines.push(
      `  - { name: ${name}, host: 10.2.${Math.floor(i / 256)}.${i % 256}, roles: ${roles}, sans: [${name}.example.com], transport: local }`,
    );
  }
  lines.push(
    'clients:',
    '  - { name: app, keystore: pkcs12 }',
    '  - { name: legacy, keystore: jks }',
    '  - { name: repl, commonName: replication }',
  );
  return `${lines.join('\n')}\n`;
}

const SCALES = [
  { name: 'example', inventory: exampleInventory, nodes: null },
  { name: 'generated', inventory: () => fleetInventory(opts.nodes), nodes: opts.nodes },
];

// ---- running -----------------------------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), 'dbtls-bench-steady-'));
if (!opts.keep) process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const GNU_TIME =
  existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { stdio: 'ignore' }).status === 0
    ? '/usr/bin/time'
    : null;
// The children get no store password or CA passphrase from this shell: the kept ones are used.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DBTLS_')));
const OUTPUT_CAP = 16000;
let runCounter = 0;

/** Runs a process; resolves to { wall, cpu, code, output }. */
function runProcess(cmd, args, cwd) {
  const cpuFile = join(scratch, `cpu-${++runCounter}`);
  const [c, a] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolvePromise, reject) => {
    let output = '';
    const keep = (d) => {
      output += d;
      if (output.length > 2 * OUTPUT_CAP) output = output.slice(-OUTPUT_CAP);
    };
    const t0 = process.hrtime.bigint();
    const child = spawn(c, a, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      keep(d);
    });
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new Error(`could not start ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      let cpu = null;
      try {
        const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        if (Number.isFinite(user + sys)) cpu = user + sys;
      } catch {
        /* no GNU time */
      }
      rmSync(cpuFile, { force: true });
      resolvePromise({ wall, cpu, code: signal ? `killed by ${signal}` : code, output, stdout });
    });
  });
}

/** path → "size mtime" of every file under dir (the lock and temporaries of a run come and go). */
function snapshot(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.set(relative(scratch, p), `${s.size} ${s.mtimeMs}`);
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function changedFiles(before, after) {
  const diff = [];
  for (const [p, v] of after) if (before.get(p) !== v) diff.push(before.has(p) ? `${p} rewritten` : `${p} created`);
  for (const p of before.keys()) if (!after.has(p)) diff.push(`${p} removed`);
  return diff;
}

/** Prepares one inventory: its folder, the up-to-date PKI, the loop over its certificates. */
async function prepare(scale, index) {
  const dir = join(scratch, `inv-${index}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'inv.yml'), scale.inventory());
  const up = await runProcess(process.execPath, [opts.cli, 'apply', '-i', 'inv.yml', '--local-root', 'nodes'], dir);
  if (up.code !== 0)
    throw new Error(`${scale.name}: the untimed first apply failed (${up.code}):\n${up.output.trim().slice(-4000)}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'pki', 'manifest.json'), 'utf8'));
  const certs = [manifest.ca?.cert ?? 'ca.pem', ...manifest.certificates.map((c) => c.cert)];
  for (const c of certs)
    if (!/^[A-Za-z0-9._/-]+$/.test(c)) throw new Error(`${scale.name}: unexpected certificate path ${c}`);
  // What a cron job does: one openssl per certificate; the first that has expired fails the loop.
  writeFileSync(
    join(dir, 'checkend.sh'),
    `#!/bin/sh\nset -e\nfor f in ${certs.join(' ')}; do\n  openssl x509 -checkend 0 -noout -in "$f" >/dev/null\ndone\n`,
  );
  const nodes = new Set(manifest.certificates.filter((c) => c.owner.kind === 'node').map((c) => c.owner.name)).size;
  const state = () => new Map([...snapshot(join(dir, 'pki')), ...snapshot(join(dir, 'nodes'))]);
  return { ...scale, dir, certs: certs.length, stores: manifest.stores.length, nodes, state, before: state() };
}

const COMMAND_LINES = {
  loop: (s) => ['/bin/sh', [join(s.dir, 'checkend.sh')], join(s.dir, 'pki')],
  check: (s) => [process.execPath, [opts.cli, 'check', '-i', 'inv.yml'], s.dir],
  issue: (s) => [process.execPath, [opts.cli, 'issue', '-i', 'inv.yml', '--json'], s.dir],
  apply: (s) => [process.execPath, [opts.cli, 'apply', '-i', 'inv.yml', '--local-root', 'nodes', '--json'], s.dir],
};
const DESCRIBE = {
  loop: 'sh checkend.sh: for f in CERTS; do openssl x509 -checkend 0 -noout -in "$f"; done',
  check: 'node dist/cli/main.js check -i inv.yml',
  issue: 'node dist/cli/main.js issue -i inv.yml --json (no change)',
  apply: 'node dist/cli/main.js apply -i inv.yml --local-root nodes --json (no change)',
};

/** One timed run, then its checks; resolves to { wall, cpu } or throws. */
async function timed(s, command) {
  const [cmd, args, cwd] = COMMAND_LINES[command](s);
  const r = await runProcess(cmd, args, cwd);
  const fail = (why) =>
    new Error(
      `${s.name}: ${command} failed: ${why}\n  command: ${cmd} ${args.join(' ')}\n  directory: ${cwd}\n` +
        (r.output.trim() ? `  output (end):\n${r.output.trim().slice(-4000).replace(/^/gm, '    ')}` : '  (no output)'),
    );
  if (r.code !== 0) throw fail(`exit status ${r.code}`);
  if (command === 'check' && !/^all \d+ ok\b/m.test(r.stdout)) throw fail('check did not report every item ok');
  if (command === 'issue' || command === 'apply') {
    let report;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      throw fail('no JSON report');
    }
    if (report.changed !== false) throw fail(`changed is ${JSON.stringify(report.changed)}, not false`);
  }
  const diff = changedFiles(s.before, s.state());
  if (diff.length)
    throw fail(
      `a no-change run changed files: ${diff.slice(0, 10).join(', ')}${diff.length > 10 ? ` … ${diff.length - 10} more` : ''}`,
    );
  return { wall: r.wall, cpu: r.cpu };
}

// ---- main --------------------------------------------------------------------------------------
const log = opts.json ? () => {} : (s) => process.stderr.write(s);
const loadBefore = loadavg();
const started = Date.now();
const prepared = [];
const times = {};
log(
  `steady: check, no-change issue and apply vs the openssl -checkend loop; ${opts.runs} run(s); ${cpus().length} CPUs\n`,
);
if (opts.keep) log(`folders kept under ${scratch}\n`);
try {
  for (const [i, scale] of SCALES.entries()) {
    log(`  preparing ${scale.name} (untimed apply) … `);
    const s = await prepare(scale, i);
    prepared.push(s);
    times[s.name] = Object.fromEntries(COMMANDS.map((c) => [c, { wall: [], cpu: [] }]));
    log(`${s.nodes} nodes, ${s.certs} certificates, ${s.stores} stores\n`);
  }
  for (let r = 0; r < opts.runs; r++) {
    for (const s of prepared) {
      const order = COMMANDS.map((_, k) => COMMANDS[(k + r) % COMMANDS.length]);
      for (const command of order) {
        log(`  run ${r + 1}/${opts.runs} ${s.name.padEnd(10)} ${command.padEnd(6)} `);
        const { wall, cpu } = await timed(s, command);
        times[s.name][command].wall.push(wall);
        if (cpu !== null) times[s.name][command].cpu.push(cpu);
        log(`${wall.toFixed(2)} s${cpu !== null ? ` (cpu ${cpu.toFixed(2)} s)` : ''}\n`);
      }
    }
  }
} catch (e) {
  log('\n');
  console.error(`steady.mjs: ${e.message}`);
  if (!opts.keep) console.error('  (the run folders are deleted; --keep keeps them)');
  process.exit(1);
}

const r3 = (x) => Math.round(x * 1000) / 1000;
const median = (name, command) => stats(times[name][command].wall).median;
const cpuMedian = (name, command) => (times[name][command].cpu.length ? stats(times[name][command].cpu).median : null);
const [small, big] = prepared;
const nodeRatio = big.nodes / small.nodes;
const results = prepared.map((s) => ({
  inventory: s.name,
  nodes: s.nodes,
  certificates: s.certs,
  stores: s.stores,
  commands: Object.fromEntries(
    COMMANDS.map((c) => {
      const st = stats(times[s.name][c].wall);
      const ratio = c === 'loop' ? null : st.median / median(s.name, 'loop');
      return [
        c,
        {
          median: r3(st.median),
          min: r3(st.min),
          max: r3(st.max),
          times: times[s.name][c].wall.map(r3),
          ...(cpuMedian(s.name, c) !== null ? { cpuMedian: r3(cpuMedian(s.name, c)) } : {}),
          ...(ratio !== null
            ? { overLoop: r3(ratio), target: { want: `<= ${RATIO_TARGET}x the loop`, met: ratio <= RATIO_TARGET } }
            : {}),
        },
      ];
    }),
  ),
}));
const scaling = Object.fromEntries(
  COMMANDS.map((c) => {
    const x = median(big.name, c) / median(small.name, c);
    return [
      c,
      {
        ratio: r3(x),
        want: `<= ${r3(nodeRatio * opts.slack)} (${big.nodes}/${small.nodes} nodes x ${opts.slack})`,
        met: c === 'loop' ? null : x <= nodeRatio * opts.slack,
      },
    ];
  }),
);
const missed = [
  ...results.flatMap((r) =>
    COMMANDS.filter((c) => r.commands[c].target && !r.commands[c].target.met).map(
      (c) => `${c} on ${r.inventory} ${r.commands[c].overLoop}x the loop`,
    ),
  ),
  ...COMMANDS.filter((c) => scaling[c].met === false).map(
    (c) => `${c} scales ${scaling[c].ratio}x for ${r3(nodeRatio)}x the nodes`,
  ),
];
const summary =
  `steady: ${results
    .map(
      (r) =>
        `${r.inventory}: ${COMMANDS.filter((c) => c !== 'loop')
          .map((c) => `${c} ${r.commands[c].median.toFixed(2)} s (${r.commands[c].overLoop.toFixed(2)}x)`)
          .join(', ')} vs loop ${r.commands.loop.median.toFixed(2)} s`,
    )
    .join('; ')}; ` +
  (missed.length
    ? `target MISSED: ${missed.join('; ')}`
    : `target met (<= ${RATIO_TARGET}x the loop, linear in nodes)`);

if (opts.json) {
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'steady',
        runs: opts.runs,
        unit: 's',
        cli: opts.cli,
        version: dbtlsVersion,
        commands: DESCRIBE,
        results,
        scaling,
        targetMet: missed.length === 0,
        machine: {
          node: process.version,
          openssl: opensslVersion,
          cpus: cpus().length,
          loadavgBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
          loadavgAfter: loadavg().map((x) => Math.round(x * 100) / 100),
          wallSeconds: Math.round((Date.now() - started) / 1000),
        },
        summary,
      },
      null,
      2,
    ) + '\n',
  );
} else {
  const rows = [['inventory', 'command', 'median', 'min', 'max', 'cpu', 'x loop', 'target']];
  for (const r of results) {
    for (const c of COMMANDS) {
      const m = r.commands[c];
      rows.push([
        `${r.inventory} (${r.nodes} nodes, ${r.certificates} certs)`,
        c,
        `${m.median.toFixed(2)} s`,
        `${m.min.toFixed(2)} s`,
        `${m.max.toFixed(2)} s`,
        m.cpuMedian !== undefined ? `${m.cpuMedian.toFixed(2)} s` : '-',
        m.overLoop !== undefined ? `${m.overLoop.toFixed(2)}x` : '',
        m.target ? `${m.target.want} ${m.target.met ? 'met' : 'MISSED'}` : '',
      ]);
    }
  }
  for (const c of COMMANDS) {
    rows.push([
      `scaling ${big.nodes}/${small.nodes} nodes`,
      c,
      `${scaling[c].ratio.toFixed(2)}x`,
      '',
      '',
      '',
      '',
      scaling[c].met === null ? '(reference)' : `${scaling[c].want} ${scaling[c].met ? 'met' : 'MISSED'}`,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => (c <= 1 || c === 7 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd(),
    );
  console.log(
    "(x loop = the command's median / the openssl loop's median on the same inventory; cpu = median user+system CPU seconds of the process tree)",
  );
  for (const c of COMMANDS) console.log(`  ${c.padEnd(6)} ${DESCRIBE[c]}`);
  console.log(
    `(${dbtlsVersion} at ${opts.cli}; ${process.version}, ${opensslVersion}, ${cpus().length} CPUs, load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} -> ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, ${Math.round((Date.now() - started) / 1000)} s in all)`,
  );
  console.log(summary);
}
