#!/usr/bin/env node
// bench/setup.mjs — times `dbtls setup` against the openssl command sequence that MySQL's
// mysql_ssl_rsa_setup ran (bench/openssl-setup.sh), whole process against whole process.
//
//   node bench/setup.mjs [--runs N] [--suffix S] [--json]
//
// One warm-up run of each side, then N timed runs of each (default 15), alternating dbtls,
// openssl, dbtls, openssl, ... so that machine noise hits both alike. Every run writes into a
// fresh temporary directory and must leave the 8 files there, or the benchmark fails. Wall time
// is measured around the child process with process.hrtime. Exit status: 0 when every run
// succeeded (whatever the ratio), 1 when a run failed, 2 on a usage error.
// Only Node built-ins are used, so it runs before and without `npm ci` (except that the CLI
// itself must have been built: `make build`).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stats } from './stats.mjs';

const EXPECTED = [
  'ca.pem',
  'ca-key.pem',
  'server-cert.pem',
  'server-key.pem',
  'client-cert.pem',
  'client-key.pem',
  'private_key.pem',
  'public_key.pem',
];
const PEM_HEADER = {
  'ca.pem': 'CERTIFICATE',
  'server-cert.pem': 'CERTIFICATE',
  'client-cert.pem': 'CERTIFICATE',
  'public_key.pem': 'PUBLIC KEY',
};
const MIN_RECOMMENDED_RUNS = 10;

// ---- arguments ---------------------------------------------------------------------------------
function usage(code) {
  const text = `usage: node bench/setup.mjs [--runs N] [--suffix S] [--json]

  --runs N     timed runs of each side (default 15; at least ${MIN_RECOMMENDED_RUNS} recommended)
  --suffix S   certificate CN suffix given to both sides (default 8_0_36; letters, digits, _)
  --json       print the results as JSON instead of a table
`;
  (code === 0 ? process.stdout : process.stderr).write(text);
  process.exit(code);
}

const opts = { runs: 15, suffix: '8_0_36', json: false };
{
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        runs: { type: 'string' },
        suffix: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`setup.mjs: ${e.message}`);
    usage(2);
  }
  if (parsed.help) usage(0);
  if (parsed.runs !== undefined) {
    if (!/^\d+$/.test(parsed.runs) || Number(parsed.runs) < 1) {
      console.error(`setup.mjs: --runs must be a positive integer, not ${parsed.runs}`);
      usage(2);
    }
    opts.runs = Number(parsed.runs);
  }
  if (parsed.suffix !== undefined) {
    if (!/^[A-Za-z0-9_]{1,17}$/.test(parsed.suffix)) {
      console.error('setup.mjs: --suffix takes 1-17 letters, digits or _');
      usage(2);
    }
    opts.suffix = parsed.suffix;
  }
  opts.json = Boolean(parsed.json);
}

// ---- locate the repository and the two sides ---------------------------------------------------
const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'dist', 'cli', 'main.js');
const baseline = join(repo, 'bench', 'openssl-setup.sh');

function die(message) {
  console.error(`setup.mjs: ${message}`);
  process.exit(1);
}

if (!existsSync(cli)) die(`${cli} does not exist: run \`make build\` first (in ${repo}).`);
if (!existsSync(baseline)) die(`${baseline} is missing.`);
const osslVersion = spawnSync('openssl', ['version'], { encoding: 'utf8' });
if (osslVersion.error || osslVersion.status !== 0) die('openssl is not on PATH: the baseline needs it.');
const dbtlsVersion = (() => {
  try {
    return JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();

const SIDES = {
  dbtls: (dir) => [process.execPath, [cli, 'setup', '--datadir', dir, '--suffix', opts.suffix]],
  openssl: (dir) => ['/bin/sh', [baseline, dir, opts.suffix]],
};

// ---- one run -----------------------------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), 'dbtls-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

let runCounter = 0;

/** Runs one side into a fresh directory; resolves to the wall time in ms, or throws. */
function runOnce(side) {
  const dir = mkdtempSync(join(scratch, `${side}-${++runCounter}-`));
  const [cmd, args] = SIDES[side](dir);
  return new Promise((resolve, reject) => {
    let output = '';
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', (e) => reject(new Error(`${side}: could not start ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const fail = (why) =>
        reject(
          new Error(
            `${side} run ${runCounter} failed: ${why}\n  command: ${cmd} ${args.join(' ')}\n` +
              (output.trim() ? `  output:\n${output.trim().slice(-4000).replace(/^/gm, '    ')}` : '  (no output)'),
          ),
        );
      if (code !== 0) return fail(signal ? `killed by ${signal}` : `exit status ${code}`);
      const problems = checkFiles(dir);
      if (problems.length) return fail(problems.join('; '));
      rmSync(dir, { recursive: true, force: true });
      resolve(ms);
    });
  });
}

/** The 8 files must exist, be non-empty PEM of the right kind. Returns a list of problems. */
function checkFiles(dir) {
  const problems = [];
  const present = new Set(readdirSync(dir));
  for (const name of EXPECTED) {
    if (!present.has(name)) {
      problems.push(`${name} missing`);
      continue;
    }
    const st = statSync(join(dir, name));
    if (!st.isFile() || st.size === 0) {
      problems.push(`${name} empty or not a file`);
      continue;
    }
    const text = readFileSync(join(dir, name), 'utf8');
    const want = PEM_HEADER[name];
    const header = /^-----BEGIN ([A-Z ]+)-----/m.exec(text)?.[1];
    if (!header) problems.push(`${name} is not PEM`);
    else if (want ? header !== want : !/PRIVATE KEY$/.test(header)) problems.push(`${name} holds ${header}`);
  }
  const extra = [...present].filter((n) => !EXPECTED.includes(n));
  if (extra.length) problems.push(`unexpected files left behind: ${extra.join(', ')}`);
  return problems;
}

// ---- statistics --------------------------------------------------------------------------------
const r2 = (x) => Math.round(x * 100) / 100;
const r1 = (x) => Math.round(x * 10) / 10;

// ---- main --------------------------------------------------------------------------------------
const log = opts.json ? () => {} : (s) => process.stderr.write(s);
const times = { dbtls: [], openssl: [] };
const loadBefore = loadavg();

try {
  if (opts.runs < MIN_RECOMMENDED_RUNS)
    log(`note: ${opts.runs} runs per side; at least ${MIN_RECOMMENDED_RUNS} are recommended\n`);
  log(`warm-up: dbtls ${r1(await runOnce('dbtls'))} ms, openssl ${r1(await runOnce('openssl'))} ms\n`);
  for (let i = 0; i < opts.runs; i++) {
    for (const side of ['dbtls', 'openssl']) times[side].push(await runOnce(side));
    // A progress counter only on a terminal; logs get the table alone.
    if (process.stderr.isTTY) log(`\rrun ${i + 1}/${opts.runs}`);
  }
  if (process.stderr.isTTY) log('\n');
} catch (e) {
  log('\n');
  console.error(`setup.mjs: ${e.message}`);
  process.exit(1);
}

const st = { dbtls: stats(times.dbtls), openssl: stats(times.openssl) };
const ratio = {
  median: st.dbtls.median / st.openssl.median,
  mean: st.dbtls.mean / st.openssl.mean,
};
const summary =
  `setup: dbtls ${ratio.median.toFixed(2)}x the openssl sequence ` +
  `(median ${Math.round(st.dbtls.median)} ms vs ${Math.round(st.openssl.median)} ms, ${opts.runs} runs each)`;

if (opts.json) {
  const round = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'n' ? v : r2(v)]));
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'setup',
        runs: opts.runs,
        suffix: opts.suffix,
        unit: 'ms',
        dbtls: {
          command: `node dist/cli/main.js setup --datadir DIR --suffix ${opts.suffix}`,
          version: dbtlsVersion,
          ...round(st.dbtls),
          times: times.dbtls.map(r2),
        },
        openssl: {
          command: `sh bench/openssl-setup.sh DIR ${opts.suffix}`,
          version: osslVersion.stdout.trim(),
          ...round(st.openssl),
          times: times.openssl.map(r2),
        },
        ratio: { median: Math.round(ratio.median * 1000) / 1000, mean: Math.round(ratio.mean * 1000) / 1000 },
        machine: {
          node: process.version,
          cpus: cpus().length,
          loadavgBefore: loadBefore.map(r2),
          loadavgAfter: loadavg().map(r2),
        },
        summary,
      },
      null,
      2,
    ) + '\n',
  );
} else {
  const rows = [['', 'median', 'mean', 'min', 'max', 'sd']];
  for (const side of ['dbtls', 'openssl']) {
    const s = st[side];
    rows.push([side, s.median, s.mean, s.min, s.max, s.sd].map((v, i) => (i ? `${Math.round(v)} ms` : v)));
  }
  rows.push(['dbtls/openssl', `${ratio.median.toFixed(2)}x`, `${ratio.mean.toFixed(2)}x`, '', '', '']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => (c ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    );
  console.log(
    `(${process.version}, ${osslVersion.stdout.trim()}, ${cpus().length} CPUs, load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} -> ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
  );
  console.log(summary);
}
