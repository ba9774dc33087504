#!/usr/bin/env node
// bench/issue.mjs — times `dbtls issue` for a fleet (a server and a client certificate per node,
// RSA-2048, one CA) against the loops people write around easy-rsa 3.1, cfssl and mkcert, and
// against the floor: generating the same number of RSA-2048 keys in parallel on all cores.
//
//   node bench/issue.mjs [--nodes 100] [--runs 1] [--tools LIST] [--jobs J] [--key-type rsa2048|p256] [--keep] [--json]
//
// --key-type p256: the ECDSA rows. Every tool makes P-256 keys (dbtls leaf/ca keyType p256, cfssl's CSR
// "algo": "ecdsa", mkcert -ecdsa; easy-rsa is left out), and the floor is 2N+1 P-256 keys plus 2N
// native signatures (an EC key costs far less than a signature's share of the work, unlike RSA).
//
// Every tool is timed as a whole process (wall clock, process.hrtime around the child) in a fresh
// temporary directory per run, and CA creation is included for every tool (dbtls creates its CA
// in the same run, so the baselines do too). The commands:
//   dbtls       node dist/cli/main.js issue -i inv.yml    (inventory of N `mariadb` nodes, local)
//   easy-rsa    sh bench/issue/easyrsa.sh DIR N           (init-pki, build-ca, build-*-full loop)
//   cfssl       sh bench/issue/cfssl.sh DIR N             (gencert -initca, gencert|cfssljson loop)
//   mkcert      sh bench/issue/mkcert.sh DIR N            (CAROOT=DIR/ca, mkcert loop, no -install)
//   cfssl-par   sh bench/issue/cfssl.sh DIR N J           (the same pipelines through xargs -P J)
//   mkcert-par  sh bench/issue/mkcert.sh DIR N J          (the same commands through xargs -P J)
//   floor       node bench/issue/floor.mjs DIR 2N+1       (async generateKeyPair, all at once)
// easy-rsa has no parallel variant: its index.txt/serial are not safe for concurrent signing.
// Runs are interleaved (run 1 of every tool, then run 2, ...) with the order rotated per run.
//
// After each run, outside the timed section, the outputs are checked: exactly 2N certificates and
// 2N private keys (2N+1 keys for the floor), every certificate accepted by `openssl verify
// -CAfile` (all of them, in one openssl process), and for 5 nodes spread over the range the
// server certificate carries DNS:<node> and IP:<address> with TLS server auth, the client
// certificate TLS client auth, both with an RSA-2048 key.
//
// Exit status: 0 when every run succeeded (whatever the ratios), 1 when a run failed or a tool is
// missing (scripts/install-bench-deps.sh installs them), 2 on a usage error.
// Only Node built-ins are used; the CLI must have been built (`make build`).

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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stats } from './stats.mjs';

const ALL_TOOLS = ['dbtls', 'floor', 'easy-rsa', 'cfssl', 'mkcert', 'cfssl-par', 'mkcert-par'];
// dbtls at least this many times faster, and within FLOOR_BY_KEY of the floor (issue 15 sets the ECDSA targets).
const TARGETS_BY_KEY = { rsa2048: { 'easy-rsa': 3, cfssl: 2 }, p256: { cfssl: 5 } };
const FLOOR_BY_KEY = { rsa2048: 1.25, p256: 1.5 };
const EASYRSA = process.env.EASYRSA || '/usr/share/easy-rsa/easyrsa';

// ---- arguments ---------------------------------------------------------------------------------
function usage(code) {
  const text = `usage: node bench/issue.mjs [--nodes N] [--runs R] [--tools LIST] [--jobs J] [--keep] [--json]

  --nodes N     nodes in the fleet: N server + N client certificates (default 100)
  --runs R      timed runs of each tool (default 1)
  --tools LIST  comma-separated, from: ${ALL_TOOLS.join(', ')}
                (default: all of them)
  --jobs J      parallelism of cfssl-par and mkcert-par (default: the number of CPUs, ${cpus().length})
  --keep        keep the output directories (their path is printed) instead of deleting them
  --json        print the results as JSON instead of a table
`;
  (code === 0 ? process.stdout : process.stderr).write(text);
  process.exit(code);
}

const opts = { nodes: 100, runs: 1, tools: [...ALL_TOOLS], jobs: cpus().length, keep: false, json: false };
{
  const positive = (name, v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      console.error(`issue.mjs: --${name} must be a positive integer, not ${v}`);
      usage(2);
    }
    return Number(v);
  };
  let parsed;
  try {
    const text = { type: 'string' };
    const flag = { type: 'boolean' };
    parsed = parseArgs({
      options: {
        nodes: text,
        runs: text,
        jobs: text,
        tools: text,
        keep: flag,
        json: flag,
        'key-type': text,
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`issue.mjs: ${e.message}`);
    usage(2);
  }
  if (parsed.help) usage(0);
  for (const name of ['nodes', 'runs', 'jobs'])
    if (parsed[name] !== undefined) opts[name] = positive(name, parsed[name]);
  if (parsed.tools !== undefined) {
    const list = parsed.tools
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.filter((t) => !ALL_TOOLS.includes(t));
    if (bad.length || !list.length) {
      console.error(`issue.mjs: unknown tool(s) ${bad.join(', ') || '(none given)'}`);
      usage(2);
    }
    opts.tools = ALL_TOOLS.filter((t) => list.includes(t)); // canonical order, no duplicates
  }
  opts.keyType = parsed['key-type'] ?? 'rsa2048';
  if (!['rsa2048', 'p256'].includes(opts.keyType)) {
    console.error(`issue.mjs: --key-type is rsa2048 or p256, not ${opts.keyType}`);
    usage(2);
  }
  if (opts.keyType === 'p256' && parsed.tools === undefined) opts.tools = opts.tools.filter((t) => t !== 'easy-rsa');
  if (opts.keyType === 'p256' && opts.tools.includes('easy-rsa')) {
    console.error('issue.mjs: easy-rsa has no P-256 row (leave it out of --tools)');
    usage(2);
  }
  opts.keep = Boolean(parsed.keep);
  opts.json = Boolean(parsed.json);
  if (opts.nodes > 65535) {
    console.error('issue.mjs: --nodes is at most 65535 (addresses 10.1.x.y)');
    usage(2);
  }
}

// ---- locate the repository, the tools and their versions ---------------------------------------
const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'dist', 'cli', 'main.js');
const here = join(repo, 'bench', 'issue');

function die(message) {
  console.error(`issue.mjs: ${message}`);
  process.exit(1);
}

const version = (cmd, args, pick = (s) => s.trim().split('\n')[0]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, TRUST_STORES: 'none' } });
  if (r.error || r.status !== 0) return null;
  return pick(`${r.stdout}${r.stderr}`);
};

const N = opts.nodes;
const pad = Math.max(3, String(N).length);
const nodeName = (i) => `node${String(i).padStart(pad, '0')}`;
const nodeIp = (i) => `10.1.${Math.floor(i / 256)}.${i % 256}`;
const sampleNodes = [...new Set([1, Math.ceil(N / 4), Math.ceil(N / 2), Math.ceil((3 * N) / 4), N])];

/**
 * Each tool: the command line for a run directory, the tools it needs on PATH, its version, and
 * where its outputs land (ca, certificate files, key files, and a node's server/client cert).
 */
const TOOLS = {
  dbtls: {
    describe: 'node dist/cli/main.js issue -i inv.yml',
    needs: () => (existsSync(cli) ? [] : [`${cli} (run \`make build\` in ${repo})`]),
    version: () => {
      try {
        return `dbtls ${JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version}`;
      } catch {
        return 'dbtls ?';
      }
    },
    prepare: (dir) => writeFileSync(join(dir, 'inv.yml'), inventory()),
    command: (dir) => [process.execPath, [cli, 'issue', '-i', join(dir, 'inv.yml')]],
    outputs: (dir) => ({
      ca: join(dir, 'pki', 'ca.pem'),
      certs: globNodes(dir, /^(server|client)-cert\.pem$/),
      keys: globNodes(dir, /^(server|client)-key\.pem$/),
      server: (i) => join(dir, 'pki', 'nodes', nodeName(i), 'server-cert.pem'),
      client: (i) => join(dir, 'pki', 'nodes', nodeName(i), 'client-cert.pem'),
    }),
  },
  floor: {
    describe: `node bench/issue/floor.mjs DIR ${2 * N + 1}`,
    needs: () => [],
    version: () => `node ${process.version} crypto.generateKeyPair`,
    command: (dir) => [process.execPath, [join(here, 'floor.mjs'), dir, String(2 * N + 1), opts.keyType]],
    outputs: (dir) => ({ keys: list(dir, /^key-\d+\.pem$/), floor: true }),
  },
  'easy-rsa': {
    describe: `sh bench/issue/easyrsa.sh DIR ${N}`,
    needs: () => (existsSync(EASYRSA) ? [] : [EASYRSA]),
    version: () => version(EASYRSA, ['--version'], (s) => `easy-rsa ${/Version:\s*(\S+)/.exec(s)?.[1] ?? '?'}`),
    command: (dir) => ['/bin/sh', [join(here, 'easyrsa.sh'), dir, String(N)]],
    outputs: (dir) => ({
      ca: join(dir, 'pki', 'ca.crt'),
      certs: list(join(dir, 'pki', 'issued'), /\.crt$/),
      keys: list(join(dir, 'pki', 'private'), /\.key$/).filter((f) => !f.endsWith('/ca.key')),
      server: (i) => join(dir, 'pki', 'issued', `${nodeName(i)}.crt`),
      client: (i) => join(dir, 'pki', 'issued', `${nodeName(i)}-client.crt`),
    }),
  },
  cfssl: {
    describe: `sh bench/issue/cfssl.sh DIR ${N}`,
    needs: () => ['cfssl', 'cfssljson'].filter((c) => !onPath(c)),
    version: () =>
      version(
        'cfssl',
        ['version'],
        (s) => `cfssl ${/Version:\s*(\S+)/.exec(s)?.[1] ?? '?'} (${/Runtime:\s*(\S+)/.exec(s)?.[1] ?? '?'})`,
      ),
    command: (dir) => ['/bin/sh', [join(here, 'cfssl.sh'), dir, String(N)]],
    outputs: (dir) => goStyleOutputs(dir, join(dir, 'ca.pem')),
  },
  mkcert: {
    describe: `sh bench/issue/mkcert.sh DIR ${N}`,
    needs: () => ['mkcert'].filter((c) => !onPath(c)),
    version: () => version('mkcert', ['-version'], (s) => `mkcert ${s.trim()}`),
    command: (dir) => ['/bin/sh', [join(here, 'mkcert.sh'), dir, String(N)]],
    outputs: (dir) => goStyleOutputs(dir, join(dir, 'ca', 'rootCA.pem')),
  },
};
TOOLS['cfssl-par'] = {
  ...TOOLS.cfssl,
  describe: `sh bench/issue/cfssl.sh DIR ${N} ${opts.jobs}`,
  command: (dir) => ['/bin/sh', [join(here, 'cfssl.sh'), dir, String(N), String(opts.jobs)]],
};
TOOLS['mkcert-par'] = {
  ...TOOLS.mkcert,
  describe: `sh bench/issue/mkcert.sh DIR ${N} ${opts.jobs}`,
  command: (dir) => ['/bin/sh', [join(here, 'mkcert.sh'), dir, String(N), String(opts.jobs)]],
};

function onPath(cmd) {
  return spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
function list(dir, re) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}
function globNodes(dir, re) {
  const nodes = join(dir, 'pki', 'nodes');
  if (!existsSync(nodes)) return [];
  return readdirSync(nodes)
    .sort()
    .flatMap((n) => list(join(nodes, n), re));
}
function goStyleOutputs(dir, ca) {
  const certs = join(dir, 'certs');
  return {
    ca,
    certs: list(certs, /\.pem$/).filter((f) => !f.endsWith('-key.pem')),
    keys: list(certs, /-key\.pem$/),
    server: (i) => join(certs, `${nodeName(i)}.pem`),
    client: (i) => join(certs, `${nodeName(i)}-client.pem`),
  };
}

function inventory() {
  const lines = ['cluster: bench', 'pki: ./pki'];
  if (opts.keyType !== 'rsa2048') lines.push(`ca: { keyType: ${opts.keyType} }`, `leaf: { keyType: ${opts.keyType} }`);
  lines.push('nodes:');
  for (let i = 1; i <= N; i++) {
    lines.push(`  - { name: ${nodeName(i)}, host: ${nodeIp(i)}, roles: [mariadb], transport: local }`);
  }
  return `${lines.join('\n')}\n`;
}

{
  const missing = opts.tools.flatMap((t) => TOOLS[t].needs());
  if (!onPath('openssl')) missing.push('openssl (for the checks)');
  if (missing.length)
    die(
      `missing: ${[...new Set(missing)].join(', ')}\n  run scripts/install-bench-deps.sh first, or choose others with --tools.`,
    );
}
const versions = Object.fromEntries(opts.tools.map((t) => [t, TOOLS[t].version() ?? '?']));
const opensslVersion = version('openssl', ['version']);

// ---- one run -----------------------------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), 'dbtls-bench-issue-'));
if (!opts.keep) process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

let runCounter = 0;
const OUTPUT_CAP = 16000;
// GNU time, when present, reports the CPU seconds (user + system) of the whole process tree: less
// disturbed by other load than wall time, and what shows an issuer's own overhead over the floor.
const GNU_TIME =
  existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { stdio: 'ignore' }).status === 0
    ? '/usr/bin/time'
    : null;

/** Runs one tool into a fresh directory; resolves to { wall, cpu } in seconds (cpu null without GNU time), or throws. */
function runOnce(tool) {
  const t = TOOLS[tool];
  const dir = join(scratch, `${tool}-${++runCounter}`);
  mkdirSync(dir);
  t.prepare?.(dir);
  const [toolCmd, toolArgs] = t.command(dir);
  const cpuFile = join(scratch, `cpu-${runCounter}`);
  const [cmd, args] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, toolCmd, ...toolArgs]] : [toolCmd, toolArgs];
  return new Promise((resolve, reject) => {
    let output = '';
    const keep = (d) => {
      output += d;
      if (output.length > 2 * OUTPUT_CAP) output = output.slice(-OUTPUT_CAP);
    };
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRUST_STORES: 'none', EASYRSA_BATCH: '1', KEY_TYPE: opts.keyType },
    });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new Error(`${tool}: could not start ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const fail = (why) =>
        reject(
          new Error(
            `${tool} run ${runCounter} failed: ${why}\n  command: ${toolCmd} ${toolArgs.join(' ')}\n  directory: ${dir}${opts.keep ? '' : ' (deleted; --keep keeps it)'}\n` +
              (output.trim()
                ? `  output (end):\n${output.trim().slice(-4000).replace(/^/gm, '    ')}`
                : '  (no output)'),
          ),
        );
      if (code !== 0) return fail(signal ? `killed by ${signal}` : `exit status ${code}`);
      const problems = checkOutputs(tool, dir);
      if (problems.length)
        return fail(
          problems.slice(0, 20).join('\n    ') + (problems.length > 20 ? `\n    … ${problems.length - 20} more` : ''),
        );
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      let cpu = null;
      try {
        const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        if (Number.isFinite(user + sys)) cpu = user + sys;
      } catch {
        /* no GNU time */
      }
      resolve({ wall: s, cpu });
    });
  });
}

function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Returns a list of problems with a run's outputs (empty when all is well). */
function checkOutputs(tool, dir) {
  const o = TOOLS[tool].outputs(dir);
  const problems = [];
  const wantKeys = o.floor ? 2 * N + 1 : 2 * N;
  if (o.keys.length !== wantKeys) problems.push(`${o.keys.length} private keys, expected ${wantKeys}`);
  for (const f of o.keys) {
    const text = readFileSync(f, 'utf8');
    if (!/^-----BEGIN (RSA |EC )?PRIVATE KEY-----/m.test(text)) problems.push(`${f} is not a PEM private key`);
  }
  if (o.floor) return problems;

  if (!existsSync(o.ca)) return [...problems, `CA certificate ${o.ca} missing`];
  if (o.certs.length !== 2 * N) problems.push(`${o.certs.length} certificates, expected ${2 * N}`);
  // (easy-rsa's files hold openssl's text dump before the PEM block, hence a multi-line match)
  for (const f of o.certs) {
    if (!statSync(f).size || !/^-----BEGIN CERTIFICATE-----$/m.test(readFileSync(f, 'utf8')))
      problems.push(`${f} is not a PEM certificate`);
  }
  if (problems.length) return problems;

  // Every certificate against the CA, in one openssl process (batches keep the command line short).
  for (let i = 0; i < o.certs.length; i += 500) {
    const batch = o.certs.slice(i, i + 500);
    const v = openssl(['verify', '-CAfile', o.ca, ...batch]);
    const okLines = v.out.split('\n').filter((l) => / OK$/.test(l)).length;
    if (!v.ok || okLines !== batch.length) {
      problems.push(
        `openssl verify -CAfile ${o.ca}: ${okLines}/${batch.length} OK\n${v.out
          .trim()
          .split('\n')
          .filter((l) => !/ OK$/.test(l))
          .slice(0, 10)
          .join('\n')}`,
      );
    }
  }
  // Content of a sample: the SANs, the purpose and the key size are what dbtls issues.
  for (const i of sampleNodes) {
    for (const [kind, file] of [
      ['server', o.server(i)],
      ['client', o.client(i)],
    ]) {
      if (!existsSync(file)) {
        problems.push(`${file} missing`);
        continue;
      }
      const x = openssl(['x509', '-in', file, '-noout', '-text']);
      if (!x.ok) {
        problems.push(`openssl x509 -in ${file}: ${x.out.trim()}`);
        continue;
      }
      if (opts.keyType === 'p256' ? !/NIST CURVE: P-256/.test(x.out) : !/Public-Key: \(2048 bit\)/.test(x.out))
        problems.push(`${file}: not an ${opts.keyType === 'p256' ? 'ECDSA P-256' : 'RSA-2048'} key`);
      if (!new RegExp(`TLS Web ${kind === 'server' ? 'Server' : 'Client'} Authentication`).test(x.out))
        problems.push(`${file}: no ${kind} auth extended key usage`);
      if (kind === 'server') {
        const san = /X509v3 Subject Alternative Name:[^\n]*\n\s*([^\n]*)/.exec(x.out)?.[1] ?? '';
        for (const want of [`DNS:${nodeName(i)}`, `IP Address:${nodeIp(i)}`]) {
          if (!san.split(/,\s*/).includes(want)) problems.push(`${file}: SANs "${san}" lack ${want}`);
        }
      }
    }
  }
  return problems;
}

// ---- statistics --------------------------------------------------------------------------------
const r3 = (x) => Math.round(x * 1000) / 1000;

// ---- main --------------------------------------------------------------------------------------
const log = opts.json ? () => {} : (s) => process.stderr.write(s);
const times = Object.fromEntries(opts.tools.map((t) => [t, []]));
const cpuTimes = Object.fromEntries(opts.tools.map((t) => [t, []]));
const loadBefore = loadavg();
const started = Date.now();

log(
  `issue: ${N} nodes (${2 * N} certificates + CA), ${opts.runs} run(s) of ${opts.tools.join(', ')}; ${cpus().length} CPUs\n`,
);
if (opts.keep) log(`outputs kept under ${scratch}\n`);
try {
  for (let r = 0; r < opts.runs; r++) {
    const order = opts.tools.map((_, k) => opts.tools[(k + r) % opts.tools.length]);
    for (const tool of order) {
      log(`  run ${r + 1}/${opts.runs} ${tool.padEnd(10)} `);
      const { wall, cpu } = await runOnce(tool);
      times[tool].push(wall);
      if (cpu !== null) cpuTimes[tool].push(cpu);
      log(`${wall.toFixed(2)} s${cpu !== null ? ` (cpu ${cpu.toFixed(2)} s)` : ''}\n`);
    }
  }
} catch (e) {
  log('\n');
  console.error(`issue.mjs: ${e.message}`);
  process.exit(1);
}

const st = Object.fromEntries(opts.tools.map((t) => [t, stats(times[t])]));
const cpuMedian = Object.fromEntries(opts.tools.map((t) => [t, cpuTimes[t].length ? stats(cpuTimes[t]).median : null]));
const base = st.dbtls?.median;
/** How many times faster dbtls is than TOOL (median over median); for the floor, dbtls/floor. */
const ratios = {};
for (const t of opts.tools) {
  if (t === 'dbtls' || !base) continue;
  ratios[t] = t === 'floor' ? base / st.floor.median : st[t].median / base;
}
/** TOOL's median over the floor's: the most any issuer could be faster than TOOL on this machine. */
const floorRatios = {};
for (const t of opts.tools) if (st.floor && t !== 'floor') floorRatios[t] = st[t].median / st.floor.median;
const targetOf = (t) => {
  if (ratios[t] === undefined) return null;
  if (t === 'floor')
    return { want: `<= ${FLOOR_BY_KEY[opts.keyType]}x`, met: ratios.floor <= FLOOR_BY_KEY[opts.keyType] };
  const goal = TARGETS_BY_KEY[opts.keyType][t];
  return goal ? { want: `>= ${goal}x`, met: ratios[t] >= goal } : null;
};

const summaryParts = [];
for (const t of ['easy-rsa', 'cfssl', 'mkcert', 'cfssl-par', 'mkcert-par']) {
  if (ratios[t] === undefined) continue;
  summaryParts.push(
    ratios[t] >= 1 ? `${ratios[t].toFixed(2)}x faster than ${t}` : `${(1 / ratios[t]).toFixed(2)}x slower than ${t}`,
  );
}
if (ratios.floor !== undefined) summaryParts.push(`${ratios.floor.toFixed(2)}x the floor`);
const summary = base
  ? `issue (${N} nodes): dbtls ${base.toFixed(2)} s; ${summaryParts.join(', ') || 'no other tool run'}`
  : `issue (${N} nodes): dbtls not run; ${opts.tools.map((t) => `${t} ${st[t].median.toFixed(2)} s`).join(', ')}`;

if (opts.json) {
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'issue',
        nodes: N,
        certificates: 2 * N,
        runs: opts.runs,
        jobs: opts.jobs,
        unit: 's',
        caIncluded: true,
        tools: Object.fromEntries(
          opts.tools.map((t) => [
            t,
            {
              command: TOOLS[t].describe,
              version: versions[t],
              median: r3(st[t].median),
              mean: r3(st[t].mean),
              min: r3(st[t].min),
              max: r3(st[t].max),
              times: times[t].map(r3),
              ...(cpuMedian[t] !== null ? { cpuMedian: r3(cpuMedian[t]), cpuTimes: cpuTimes[t].map(r3) } : {}),
              ...(floorRatios[t] !== undefined ? { overFloor: r3(floorRatios[t]) } : {}),
              ...(ratios[t] !== undefined
                ? {
                    ratio: r3(ratios[t]),
                    ratioMeaning: t === 'floor' ? 'dbtls/floor' : `${t}/dbtls`,
                    target: targetOf(t),
                  }
                : {}),
            },
          ]),
        ),
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
  const rows = [['tool', 'median', 'min', 'max', 'cpu', 'runs', 'ratio', 'target', 'tool/floor']];
  for (const t of opts.tools) {
    const s = st[t];
    const target = targetOf(t);
    let ratio = '';
    if (ratios[t] !== undefined)
      ratio =
        t === 'floor'
          ? `dbtls/floor ${ratios[t].toFixed(2)}x`
          : ratios[t] >= 1
            ? `dbtls ${ratios[t].toFixed(2)}x faster`
            : `dbtls ${(1 / ratios[t]).toFixed(2)}x slower`;
    rows.push([
      t,
      `${s.median.toFixed(2)} s`,
      `${s.min.toFixed(2)} s`,
      `${s.max.toFixed(2)} s`,
      cpuMedian[t] !== null ? `${cpuMedian[t].toFixed(2)} s` : '-',
      String(s.n),
      ratio,
      target ? `${target.want} ${target.met ? 'met' : 'MISSED'}` : '',
      floorRatios[t] !== undefined ? `${floorRatios[t].toFixed(2)}x` : '',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => (c === 0 || c === 6 || c === 7 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd(),
    );
  console.log(
    `(${N} nodes = ${2 * N} ${opts.keyType === 'p256' ? 'ECDSA P-256' : 'RSA-2048'} certificates + 1 CA, CA creation included for every tool; ` +
      `-par = xargs -P ${opts.jobs}; ratio = tool's median / dbtls's median; ` +
      `tool/floor = the best ratio any issuer could reach against that tool here; ` +
      `cpu = median user+system CPU seconds of the whole process tree)`,
  );
  for (const t of opts.tools) console.log(`  ${t.padEnd(10)} ${versions[t].padEnd(28)} ${TOOLS[t].describe}`);
  console.log(
    `(${process.version}, ${opensslVersion}, ${cpus().length} CPUs, load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} -> ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, ${Math.round((Date.now() - started) / 1000)} s in all)`,
  );
  console.log(summary);
}
