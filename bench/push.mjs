#!/usr/bin/env node
// bench/push.mjs — times `dbtls push --files … --dest …` (the Tungsten share: 8 files) to a fleet of
// real OpenSSH sshd nodes on 127.0.0.1 against the seed's sequential scp loop and against Ansible's
// copy module (Debian's ansible-core, forks 10), plus a no-change re-push, in one run, as ratios.
//
//   node bench/push.mjs [--nodes 50] [--runs 1] [--tools LIST] [--forks 10] [--concurrency N]
//                       [--bashrc] [--shared-dest] [--cpu-prof DIR] [--count-sftp] [--keep] [--json]
//
// The fleet: N sshd started by the test harness (test/helpers/sshd.ts, built to dist/test/helpers),
// each on its own port with its own host key, all authorizing one client key. Every "node" is this
// machine, so to give each node its own filesystem the way N real machines would have one, every
// sshd is started in its own mount namespace (unshare --mount) with its own folder bind-mounted
// at one path, MNT: DEST = MNT/<tool>-<run> is then a different directory on every node, for every
// tool alike, and the outputs are checked node by node. (--shared-dest turns this off: then every
// node writes the same folder, and tools that compare before they copy — dbtls, Ansible — find the
// files a sibling node already wrote, which flatters their first push.)
//
// The commands, each timed as a whole process (wall clock, process.hrtime around the child):
//   dbtls          node dist/cli/main.js push -i inv.yml --files 'SRC/[jpt]*' --files 'SRC/.[jpt]*'
//                    --dest DEST --known-hosts KH --json
//   dbtls re-push  the same command again right after, to the same DEST (nothing changed)
//   scp loop       sh bench/push/scp-loop.sh SRC DEST KEY KH PORT…  (for port …; do scp -P $port -i KEY
//                    -o UserKnownHostsFile=KH -o StrictHostKeyChecking=yes -o BatchMode=yes
//                    SRC/[jpt]* root@127.0.0.1:DEST/; done — sequential, as the seed)
//   ansible        ansible all -i hosts.ini -m copy -a 'src=SRC/ dest=DEST/ mode=preserve' -f 10
//                    (ansible_port per host, ansible_ssh_private_key_file, host key checking on
//                    against the same known_hosts, /usr/bin/python3, an empty ansible.cfg; Ansible's
//                    default SSH multiplexing — ControlPersist — stays on, with a fresh ControlPath
//                    folder per run so no run reuses another's connections)
// DEST exists on every node before each timed run (as /opt/continuent/share does on a Tungsten node).
// Runs are interleaved (dbtls, scp, ansible, then the next run) with the order rotated per run, after
// one untimed warm-up of each tool against one node.
//
// Checked after every run, outside the timed section: the tool's exit status; every node's DEST holds
// exactly the 8 files, byte for byte (SHA-256) and with the source's mode; dbtls's JSON report says
// N nodes ok, 8 uploaded each (re-push: 0 uploaded, 8 unchanged, and no file's inode or mtime moved);
// Ansible printed CHANGED for all N hosts and no FAILED or UNREACHABLE.
//
// sshd: the harness's config plus `SetEnv SHLVL=1` on every node (so root's .bashrc, which costs
// ~120 ms per remote shell command on this machine, is skipped): the same for every tool. Only
// Ansible runs remote shell commands (dbtls and scp speak SFTP to internal-sftp, no shell), so this
// only makes the Ansible baseline faster. --bashrc leaves it out.
//
// Diagnostics for dbtls (both change its timing a little): --cpu-prof DIR runs it under node --cpu-prof
// and prints where its CPU time went (bench/push/cpuprofile.mjs); --count-sftp preloads
// bench/push/count-sftp.mjs and prints the SFTP requests (round trips) it sent per node.
//
// Exit status: 0 when every run succeeded (whatever the ratios), 1 when a run failed or a tool is
// missing (scripts/install-bench-deps.sh installs ansible-core and scp), 2 on a usage error.
// Only Node built-ins are used here; the CLI and the test harness must have been built (`make build`).
// Needs root (sshd, unshare --mount).

import childProcess, { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stats } from './stats.mjs';

const ALL_TOOLS = ['dbtls', 'scp', 'ansible']; // dbtls includes its no-change re-push
const TARGETS = { scp: 10, ansible: 5, repush: 2 };
const CLK_TCK = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux

// ---- arguments ---------------------------------------------------------------------------------
function usage(code) {
  const text = `usage: node bench/push.mjs [--nodes N] [--runs R] [--tools LIST] [--forks F] [--concurrency C]
                          [--bashrc] [--shared-dest] [--cpu-prof DIR] [--count-sftp] [--keep] [--json]

  --nodes N        sshd nodes on 127.0.0.1 (default 50)
  --runs R         timed runs of each tool (default 1)
  --tools LIST     comma-separated, from: ${ALL_TOOLS.join(', ')} (default: all; dbtls includes the re-push)
  --forks F        Ansible's -f (default 10)
  --concurrency C  pass --concurrency C to dbtls (default: not passed, dbtls's own default)
  --bashrc         do not give sshd \`SetEnv SHLVL=1\`: root's .bashrc then runs for every remote shell
                   command (only Ansible runs any)
  --shared-dest    no mount namespace per node: every node writes the same folder (flatters the
                   first push of the tools that compare first: dbtls and Ansible)
  --cpu-prof DIR   run dbtls with node --cpu-prof, profiles into DIR, and summarize them (slows dbtls a little)
  --count-sftp     count the SFTP requests dbtls sends per node (a preload; slows dbtls a little)
  --keep           keep the scratch folder (its path is printed) instead of deleting it
  --json           print the results as JSON instead of a table
`;
  (code === 0 ? process.stdout : process.stderr).write(text);
  process.exit(code);
}

const opts = {
  nodes: 50,
  runs: 1,
  tools: [...ALL_TOOLS],
  forks: 10,
  concurrency: null,
  bashrc: false,
  sharedDest: false,
  cpuProf: null,
  countSftp: false,
  keep: false,
  json: false,
};
{
  const positive = (name, v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      console.error(`push.mjs: --${name} must be a positive integer, not ${v}`);
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
        tools: text,
        forks: text,
        concurrency: text,
        'cpu-prof': text,
        bashrc: flag,
        'shared-dest': flag,
        'count-sftp': flag,
        keep: flag,
        json: flag,
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`push.mjs: ${e.message}`);
    usage(2);
  }
  if (parsed.help) usage(0);
  for (const name of ['nodes', 'runs', 'forks', 'concurrency'])
    if (parsed[name] !== undefined) opts[name] = positive(name, parsed[name]);
  if (parsed.tools !== undefined) {
    const list = parsed.tools
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.filter((t) => !ALL_TOOLS.includes(t));
    if (bad.length || !list.length) {
      console.error(`push.mjs: unknown tool(s) ${bad.join(', ') || '(none given)'}`);
      usage(2);
    }
    opts.tools = ALL_TOOLS.filter((t) => list.includes(t));
  }
  if (opts.nodes > 500) {
    console.error('push.mjs: --nodes is at most 500');
    usage(2);
  }
  if (parsed['cpu-prof'] !== undefined) {
    if (!parsed['cpu-prof']) {
      console.error('push.mjs: --cpu-prof needs a folder');
      usage(2);
    }
    opts.cpuProf = resolve(parsed['cpu-prof']);
  }
  opts.countSftp = Boolean(parsed['count-sftp']);
  opts.bashrc = Boolean(parsed.bashrc);
  opts.sharedDest = Boolean(parsed['shared-dest']);
  opts.keep = Boolean(parsed.keep);
  opts.json = Boolean(parsed.json);
}

// ---- locate the repository and the tools -------------------------------------------------------
const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'dist', 'cli', 'main.js');
const harness = join(repo, 'dist', 'test', 'helpers', 'sshd.js');
const scpLoop = join(repo, 'bench', 'push', 'scp-loop.sh');
const countSftp = join(repo, 'bench', 'push', 'count-sftp.mjs');

function die(message) {
  console.error(`push.mjs: ${message}`);
  process.exit(1);
}

function onPath(cmd) {
  return spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
const firstLine = (s) =>
  String(s ?? '')
    .trim()
    .split('\n')[0] ?? '';
function capture(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  return r.error ? '' : `${r.stdout ?? ''}${r.stderr ?? ''}`;
}
const dpkgVersion = (pkg) => firstLine(capture('dpkg-query', ['-W', '-f', '${Version}', pkg])) || null;

{
  const missing = [];
  if (!existsSync(cli)) missing.push(`${cli} (run \`make build\` in ${repo})`);
  if (!existsSync(harness)) missing.push(`${harness} (run \`make build\` in ${repo})`);
  if (!['/usr/sbin/sshd', '/usr/local/sbin/sshd'].some(existsSync))
    missing.push('sshd (openssh-server: `make system-deps`)');
  for (const c of ['ssh', 'ssh-keygen']) if (!onPath(c)) missing.push(`${c} (openssh-client)`);
  if (opts.tools.includes('scp') && !onPath('scp')) missing.push('scp (openssh-client)');
  if (opts.tools.includes('ansible')) {
    if (!onPath('ansible')) missing.push('ansible (Debian package ansible-core)');
    if (!existsSync('/usr/bin/python3')) missing.push('/usr/bin/python3 (what Ansible runs on the nodes)');
  }
  if (missing.length)
    die(`missing: ${missing.join(', ')}\n  run scripts/install-bench-deps.sh first, or choose others with --tools.`);
  if (process.getuid?.() !== 0)
    die('needs root: the nodes are sshd instances that log in as root (and unshare --mount needs CAP_SYS_ADMIN).');
  if (!opts.sharedDest) {
    const u = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'true'], { encoding: 'utf8' });
    if (u.error || u.status !== 0) {
      die(
        `unshare --mount does not work here (${firstLine(u.stderr) || u.error?.message || `exit ${u.status}`}): ` +
          'each node needs its own mount namespace for its own DEST. --shared-dest runs without (and flatters dbtls and Ansible).',
      );
    }
  }
}

const dbtlsVersion = (() => {
  try {
    return `dbtls ${JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version}`;
  } catch {
    return 'dbtls ?';
  }
})();
const ssh2Version = (() => {
  try {
    return JSON.parse(readFileSync(join(repo, 'node_modules', 'ssh2', 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
})();
const opensshVersion = firstLine(capture('ssh', ['-V']));
const versions = {
  dbtls: `${dbtlsVersion} (node ${process.version}, ssh2 ${ssh2Version})`,
  scp: `${opensshVersion} (scp over SFTP)`,
  ansible: null, // below, once the scratch folder exists: even `ansible --version` makes ~/.ansible/tmp otherwise
  sshd: `${opensshVersion}${dpkgVersion('openssh-server') ? ` (Debian openssh-server ${dpkgVersion('openssh-server')})` : ''}`,
};

// ---- scratch, the file set ---------------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), 'dbtls-bench-push-'));
if (opts.tools.includes('ansible')) {
  writeFileSync(join(scratch, 'ansible.cfg'), '[defaults]\n');
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: join(scratch, 'ansible.cfg'),
    ANSIBLE_HOME: join(scratch, 'ansible-home'),
    ANSIBLE_LOCAL_TEMP: join(scratch, 'ansible-home', 'tmp'),
  };
  versions.ansible =
    `${firstLine(capture('ansible', ['--version'], env))} (Debian ansible-core ${dpkgVersion('ansible-core') ?? '?'}), ` +
    `python ${firstLine(capture('/usr/bin/python3', ['--version'])).replace(/^Python /, '')}`;
}
const SRC = join(scratch, 'share');
const MNT = join(scratch, 'node'); // where each node sees its own folder (an empty folder from here)
const ROOTS = join(scratch, 'roots');
mkdirSync(SRC);
mkdirSync(MNT);
mkdirSync(ROOTS);

/** A Tungsten share as the seed's `[jpt]*` loop copies it: name, size (typical of RSA-2048 stores), mode, kind. */
const FILE_SET = [
  ['tungsten_keystore.jks', 3870, 0o600, 'jks'],
  ['tungsten_tls_keystore.jks', 3902, 0o600, 'jks'],
  ['tungsten_connector_keystore.jks', 3886, 0o600, 'jks'],
  ['tungsten_truststore.ts', 1274, 0o644, 'jks'],
  ['tungsten_connector_truststore.ts', 1274, 0o644, 'jks'],
  ['tungsten_jgroups_keystore.jceks', 524, 0o600, 'jceks'],
  ['jmxremote.access', 520, 0o644, 'text'],
  ['passwords.store', 318, 0o600, 'text'],
];
const SOURCE = new Map(); // name -> { sha256, mode, size }
for (const [name, size, mode, kind] of FILE_SET) {
  let data;
  if (kind === 'text') {
    const line =
      name === 'jmxremote.access'
        ? (i) => `# role ${i}: access level (readonly | readwrite)\n`
        : (i) => `user${i}=${randomBytes(12).toString('hex')}\n`;
    let s = name === 'jmxremote.access' ? 'tungsten readwrite\n' : '';
    for (let i = 0; Buffer.byteLength(s) < size; i++) s += line(i);
    data = Buffer.from(s).subarray(0, size);
  } else {
    // Java key stores: the magic number, then (here) random bytes standing in for the entries.
    data = randomBytes(size);
    data.writeUInt32BE(kind === 'jceks' ? 0xcececece : 0xfeedfeed, 0);
  }
  const path = join(SRC, name);
  writeFileSync(path, data);
  chmodSync(path, mode);
  SOURCE.set(name, { sha256: createHash('sha256').update(data).digest('hex'), mode, size });
}
const FILE_NAMES = [...SOURCE.keys()].sort();
const TOTAL_BYTES = [...SOURCE.values()].reduce((n, f) => n + f.size, 0);

// ---- the fleet ---------------------------------------------------------------------------------
const cleanups = [];
const scope = {
  after(fn) {
    cleanups.push(fn);
  },
};
let cleaned = false;
const controlDirs = []; // Ansible's ControlPath folders: their masters are closed at the end of each run
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const dir of controlDirs) closeAnsibleMasters(dir);
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (e) {
      console.error(`push.mjs: cleanup: ${e.message}`);
    }
  }
  if (!opts.keep) rmSync(scratch, { recursive: true, force: true });
}
process.on('exit', () => {
  // After an early exit (an error, ^C): the harness kills its sshd by itself; close Ansible's masters.
  for (const dir of controlDirs) closeAnsibleMasters(dir);
  if (!cleaned && !opts.keep) rmSync(scratch, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// The harness spawns `sshd -D -e -f CONFIG`; each such spawn is wrapped here to run in a mount
// namespace of its own where the node's folder ROOTS/slot-K is bind-mounted on MNT. (The harness
// has no hook for this; node:module's syncBuiltinESMExports makes its `spawn` binding this one.)
const rootOfConfig = new Map();
if (!opts.sharedDest) {
  const realSpawn = childProcess.spawn;
  let slot = 0;
  childProcess.spawn = function spawnSshdInItsOwnMountNamespace(cmd, args, options) {
    if (
      typeof cmd === 'string' &&
      /\/sshd$/.test(cmd) &&
      Array.isArray(args) &&
      args[0] === '-D' &&
      args.includes('-f')
    ) {
      const config = args[args.indexOf('-f') + 1];
      let root = rootOfConfig.get(config);
      if (!root) {
        root = join(ROOTS, `slot-${String(++slot).padStart(3, '0')}`);
        mkdirSync(root, { mode: 0o755 });
        rootOfConfig.set(config, root);
      }
      // unshare and sh exec, so the PID the harness tracks is sshd's own.
      return realSpawn(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          '--',
          '/bin/sh',
          '-c',
          'mount --bind "$1" "$2" || exit 97; shift 2; exec "$@"',
          'sh',
          root,
          MNT,
          cmd,
          ...args,
        ],
        options,
      );
    }
    return realSpawn.apply(this, arguments);
  };
  syncBuiltinESMExports();
}

const N = opts.nodes;
const pad = Math.max(2, String(N).length);
const nodeName = (i) => `node${String(i + 1).padStart(pad, '0')}`;
const log = opts.json ? () => {} : (s) => process.stderr.write(s);

let fleet;
let nodes; // [{ name, port, root }] — root: where that node's MNT really is (for the checks)
let key;
let knownHosts;
const started = Date.now();
const loadBefore = loadavg();
try {
  log(
    `push: ${N} sshd nodes on 127.0.0.1, ${FILE_NAMES.length} files (${TOTAL_BYTES} bytes), ${opts.runs} run(s) of ${opts.tools.join(', ')}; ${cpus().length} CPUs\n`,
  );
  if (opts.keep) log(`scratch kept: ${scratch}\n`);
  const { startSshdFleet } = await import(harness);
  const t0 = Date.now();
  fleet = await startSshdFleet(scope, N, opts.bashrc ? {} : { extraConfig: ['SetEnv SHLVL=1'] });
  nodes = fleet.map((s, i) => ({
    name: nodeName(i),
    port: s.port,
    pid: s.pid,
    root: opts.sharedDest ? MNT : rootOfConfig.get(s.configPath),
  }));
  key = fleet[0].clientKeyPath;
  knownHosts = join(scratch, 'known_hosts');
  writeFileSync(knownHosts, fleet.map((s) => s.knownHostsLine()).join('\n') + '\n');
  // Every node must really see its own folder at MNT (through its listener's view of the files).
  if (!opts.sharedDest) {
    const ours = readlinkSync('/proc/self/ns/mnt');
    for (const n of nodes) {
      if (!n.root)
        throw new Error(
          `${n.name} (port ${n.port}): its sshd was not started through the mount-namespace wrapper (has the harness changed how it spawns sshd?)`,
        );
      writeFileSync(join(n.root, '.bench-node'), n.name);
      let seen = null;
      try {
        seen = readFileSync(`/proc/${n.pid}/root${MNT}/.bench-node`, 'utf8');
      } catch {
        /* checked below */
      }
      if (readlinkSync(`/proc/${n.pid}/ns/mnt`) === ours || seen !== n.name) {
        throw new Error(`${n.name} (port ${n.port}, pid ${n.pid}) does not see its own folder at ${MNT}`);
      }
    }
  }
  log(
    `fleet up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${opts.sharedDest ? 'shared DEST' : 'a mount namespace per node'}; sshd ${opts.bashrc ? 'without' : 'with'} SetEnv SHLVL=1)\n`,
  );
} catch (e) {
  await cleanup();
  die(`could not start the fleet: ${e.message}`);
}

// The inputs every tool gets: a dbtls inventory, an Ansible inventory, the known_hosts file.
const inventory = join(scratch, 'inv.yml');
writeFileSync(
  inventory,
  [
    'cluster: bench',
    'pki: ./pki',
    'nodes:',
    ...nodes.map(
      (n) =>
        `  - { name: ${n.name}, host: 127.0.0.1, roles: [mariadb], transport: ssh, ssh: { port: ${n.port}, user: root, identityFile: ${JSON.stringify(key)} } }`,
    ),
    '',
  ].join('\n'),
);
const hostsIni = join(scratch, 'hosts.ini');
writeFileSync(
  hostsIni,
  [
    '[bench]',
    ...nodes.map((n) => `${n.name} ansible_host=127.0.0.1 ansible_port=${n.port}`),
    '',
    '[bench:vars]',
    'ansible_user=root',
    `ansible_ssh_private_key_file=${key}`,
    `ansible_ssh_common_args='-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes'`,
    '',
  ].join('\n'),
);
const ansibleCfg = join(scratch, 'ansible.cfg');
writeFileSync(ansibleCfg, '[defaults]\n'); // Ansible's defaults, whatever ~/.ansible.cfg says

// ---- the tools ---------------------------------------------------------------------------------
const dest = (label) => `${MNT}/${label}`;
const profileOf = (label, tool) => join(opts.cpuProf, `${label}-${tool}.cpuprofile`);
const dbtlsArgs = (label, tool, extra = []) => [
  ...(opts.cpuProf
    ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf, '--cpu-prof-name', `${label}-${tool}.cpuprofile`]
    : []),
  ...(opts.countSftp ? ['--import', countSftp] : []),
  cli,
  'push',
  '-i',
  inventory,
  '--files',
  `${SRC}/[jpt]*`,
  '--files',
  `${SRC}/.[jpt]*`,
  '--dest',
  dest(label),
  '--known-hosts',
  knownHosts,
  '--json',
  ...(opts.concurrency ? ['--concurrency', String(opts.concurrency)] : []),
  ...extra,
];
const ansibleEnv = (label) => {
  const dir = join(scratch, `ansible-${label}`);
  mkdirSync(join(dir, 'cp'), { recursive: true });
  controlDirs.push(join(dir, 'cp'));
  return {
    ...process.env,
    ANSIBLE_CONFIG: ansibleCfg,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_STDOUT_CALLBACK: 'minimal',
    ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_HOME: join(dir, 'home'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'local-tmp'),
    ANSIBLE_REMOTE_TEMP: join(scratch, 'ansible-remote-tmp'), // on the "nodes": this machine, outside MNT
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'cp'),
  };
};
const ansibleArgs = (label, limit) => [
  'all',
  '-i',
  hostsIni,
  '-m',
  'copy',
  '-a',
  `src=${SRC}/ dest=${dest(label)}/ mode=preserve`,
  '-f',
  String(opts.forks),
  ...(limit ? ['-l', limit] : []),
];

const TOOLS = {
  dbtls: {
    describe: `node dist/cli/main.js push -i inv.yml --files 'SRC/[jpt]*' --files 'SRC/.[jpt]*' --dest DEST --known-hosts KH --json${opts.concurrency ? ` --concurrency ${opts.concurrency}` : ''}`,
    command: (label, warm) => [process.execPath, dbtlsArgs(label, 'dbtls', warm ? ['--node', nodes[0].name] : [])],
  },
  repush: {
    describe: 'the same dbtls command again, same DEST, right after (nothing changed)',
    command: (label) => [process.execPath, dbtlsArgs(label, 'repush')],
  },
  scp: {
    describe:
      'sh bench/push/scp-loop.sh SRC DEST KEY KH PORT…   (for port in …; do scp -P $port -i KEY -o UserKnownHostsFile=KH -o StrictHostKeyChecking=yes -o BatchMode=yes SRC/[jpt]* root@127.0.0.1:DEST/; done)',
    command: (label, warm) => [
      '/bin/sh',
      [scpLoop, SRC, dest(label), key, knownHosts, ...(warm ? [nodes[0]] : nodes).map((n) => String(n.port))],
    ],
  },
  ansible: {
    describe: `ansible all -i hosts.ini -m copy -a 'src=SRC/ dest=DEST/ mode=preserve' -f ${opts.forks}`,
    command: (label, warm) => ['ansible', ansibleArgs(label, warm ? nodes[0].name : null)],
    env: ansibleEnv,
  },
};

function closeAnsibleMasters(dir) {
  let socks = [];
  try {
    socks = readdirSync(dir);
  } catch {
    return;
  }
  for (const s of socks)
    spawnSync('ssh', ['-O', 'exit', '-o', `ControlPath=${join(dir, s)}`, 'bench'], {
      stdio: 'ignore',
      timeout: 10_000,
    });
}

// ---- one timed run -----------------------------------------------------------------------------
const GNU_TIME =
  existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { stdio: 'ignore' }).status === 0
    ? '/usr/bin/time'
    : null;
const OUTPUT_CAP = 1 << 20;

/** Busy CPU seconds of the whole machine so far (every process: the tool and the sshd side). */
function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + (steal || 0)) / CLK_TCK;
}

function timed(tool, label, warm = false) {
  const [toolCmd, toolArgs] = TOOLS[tool].command(label, warm);
  const env = TOOLS[tool].env ? TOOLS[tool].env(label) : { ...process.env };
  delete env.SSH_AUTH_SOCK; // the key files alone, for every tool
  const cpuFile = join(scratch, `cpu-${label}-${tool}`);
  const [cmd, args] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, toolCmd, ...toolArgs]] : [toolCmd, toolArgs];
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const m0 = machineCpu();
    const t0 = process.hrtime.bigint();
    const child = childProcess.spawn(cmd, args, { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => {
      if (stdout.length < OUTPUT_CAP) stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < OUTPUT_CAP) stderr += d;
    });
    child.on('error', (e) => reject(new Error(`${tool}: could not start ${toolCmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const machine = machineCpu() - m0;
      let cpu = null;
      try {
        const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        if (Number.isFinite(user + sys)) cpu = user + sys;
      } catch {
        /* no GNU time */
      }
      resolve({ wall, cpu, machine, code, signal, stdout, stderr, command: `${toolCmd} ${toolArgs.join(' ')}` });
    });
  });
}

// ---- checks ------------------------------------------------------------------------------------
/** Problems with one node's DEST folder: exactly the 8 files, right bytes, right mode. */
function checkFolder(dir) {
  let names;
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    return [`${dir}: ${e.code ?? e.message}`];
  }
  const problems = [];
  const missing = FILE_NAMES.filter((n) => !names.includes(n));
  // With --shared-dest, dbtls nodes replace each other's fresh copies, and keep backups of them.
  const extra = names.filter((n) => !SOURCE.has(n) && !(opts.sharedDest && /\.dbtls-bak-\d{8}T\d{6}Z$/.test(n)));
  if (missing.length) problems.push(`missing ${missing.join(', ')}`);
  if (extra.length) problems.push(`unexpected ${extra.join(', ')}`);
  for (const name of FILE_NAMES.filter((n) => names.includes(n))) {
    const path = join(dir, name);
    const want = SOURCE.get(name);
    const st = statSync(path);
    if (!st.isFile()) {
      problems.push(`${name} is not a file`);
      continue;
    }
    if (createHash('sha256').update(readFileSync(path)).digest('hex') !== want.sha256)
      problems.push(`${name}: wrong bytes (${st.size} bytes)`);
    if ((st.mode & 0o777) !== want.mode)
      problems.push(`${name}: mode ${(st.mode & 0o777).toString(8)}, want ${want.mode.toString(8)}`);
  }
  return problems;
}

/** inode:mtime of every file in every node's DEST (to prove a re-push rewrote nothing). */
function fingerprint(label, who) {
  const out = {};
  for (const n of who) {
    for (const name of FILE_NAMES) {
      const st = statSync(join(n.root, label, name));
      out[`${n.name}/${name}`] = `${st.ino}:${st.mtimeMs}`;
    }
  }
  return out;
}

function prepareDest(label, who) {
  for (const root of new Set(who.map((n) => n.root))) mkdirSync(join(root, label), { mode: 0o755 });
}

/** Checks a finished run; returns a list of problems (empty: all is well) and facts for the report. */
function checkRun(tool, label, r, who, before) {
  const problems = [];
  const facts = {};
  if (r.code !== 0) problems.push(r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`);
  const folders = [...new Set(who.map((n) => n.root))];
  for (const root of folders) {
    const p = checkFolder(join(root, label));
    if (p.length) problems.push(`${opts.sharedDest ? 'DEST' : who.find((n) => n.root === root).name}: ${p.join('; ')}`);
  }
  if (tool === 'dbtls' || tool === 'repush') {
    let report;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      problems.push('no JSON report on stdout');
    }
    if (report) {
      const byNode = new Map((report.nodes ?? []).map((x) => [x.node, x]));
      if (report.ok !== true) problems.push(`report: ok=${report.ok}, failed: ${(report.failed ?? []).join(', ')}`);
      if (byNode.size !== who.length) problems.push(`report: ${byNode.size} nodes, expected ${who.length}`);
      let uploaded = 0;
      for (const n of who) {
        const x = byNode.get(n.name);
        if (!x) {
          problems.push(`report: ${n.name} missing`);
          continue;
        }
        if (!x.ok) problems.push(`report: ${n.name} failed: ${x.error?.message}`);
        uploaded += x.uploaded.length;
        const [up, same] = [x.uploaded.length, x.unchanged.length];
        if (
          tool === 'repush'
            ? up !== 0 || same !== FILE_NAMES.length
            : opts.sharedDest
              ? up + same !== FILE_NAMES.length
              : up !== FILE_NAMES.length
        ) {
          problems.push(`report: ${n.name} uploaded ${up}, unchanged ${same}`);
        }
      }
      facts.uploaded = uploaded;
      const counted = /^dbtls-sftp-requests (\{.*\})$/m.exec(r.stderr);
      if (counted) facts.sftp = JSON.parse(counted[1]);
      if (tool === 'repush' && report.changed !== false) problems.push(`report: changed=${report.changed}`);
    }
    if (tool === 'repush' && before) {
      const after = fingerprint(label, who);
      const moved = Object.keys(before).filter((k) => before[k] !== after[k]);
      if (moved.length) problems.push(`re-push rewrote ${moved.length} file(s), e.g. ${moved.slice(0, 3).join(', ')}`);
    }
  }
  if (tool === 'ansible') {
    const status = new Map();
    for (const m of r.stdout.matchAll(/^(\S+) \| (CHANGED|SUCCESS|FAILED!|UNREACHABLE!)/gm)) status.set(m[1], m[2]);
    const bad = who.filter(
      (n) => status.get(n.name) !== 'CHANGED' && !(opts.sharedDest && status.get(n.name) === 'SUCCESS'),
    );
    if (bad.length)
      problems.push(
        `ansible: ${bad.length} host(s) not CHANGED: ${bad
          .slice(0, 5)
          .map((n) => `${n.name}=${status.get(n.name) ?? 'no line'}`)
          .join(', ')}`,
      );
    facts.changed = [...status.values()].filter((s) => s === 'CHANGED').length;
  }
  return { problems, facts };
}

async function runTool(tool, label, { warm = false, before } = {}) {
  const who = warm ? [nodes[0]] : nodes;
  if (tool !== 'repush') prepareDest(label, who);
  const r = await timed(tool, label, warm);
  if (tool === 'ansible') closeAnsibleMasters(join(scratch, `ansible-${label}`, 'cp'));
  const { problems, facts } = checkRun(tool, label, r, who, before);
  if (problems.length) {
    const out = `${r.stdout}\n${r.stderr}`.trim();
    throw new Error(
      `${tool} (${label}) failed: ${problems.slice(0, 15).join('\n    ')}${problems.length > 15 ? `\n    … ${problems.length - 15} more` : ''}\n` +
        `  command: ${r.command}\n` +
        (out ? `  output (end):\n${out.slice(-4000).replace(/^/gm, '    ')}` : '  (no output)'),
    );
  }
  return { ...r, facts };
}

// ---- statistics --------------------------------------------------------------------------------
const r3 = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 1000);

// ---- main --------------------------------------------------------------------------------------
const timing = (r) =>
  `${r.wall.toFixed(2)} s (${r.cpu !== null ? `cpu ${r.cpu.toFixed(2)} s, ` : ''}machine cpu ${r.machine.toFixed(2)} s)`;
const ROWS = opts.tools.flatMap((t) => (t === 'dbtls' ? ['dbtls', 'repush'] : [t]));
const results = Object.fromEntries(ROWS.map((t) => [t, []]));
let failure = null;
try {
  // Warm-up: each tool once against one node (page cache, Python's and Node's module loading).
  for (const tool of opts.tools) {
    const r = await runTool(tool, `warmup-${tool}`, { warm: true });
    log(`  warm-up ${tool.padEnd(8)} (1 node) ${r.wall.toFixed(2)} s\n`);
  }
  for (let run = 1; run <= opts.runs; run++) {
    const order = opts.tools.map((_, k) => opts.tools[(k + run - 1) % opts.tools.length]);
    for (const tool of order) {
      const label = `${tool}-${run}`;
      log(`  run ${run}/${opts.runs} ${(tool === 'scp' ? 'scp loop' : tool).padEnd(14)} `);
      const r = await runTool(tool, label);
      results[tool].push(r);
      log(`${timing(r)}\n`);
      if (tool === 'dbtls') {
        const before = fingerprint(label, nodes);
        log(`  run ${run}/${opts.runs} ${'dbtls re-push'.padEnd(14)} `);
        const again = await runTool('repush', label, { before });
        results.repush.push(again);
        log(`${timing(again)}\n`);
      }
    }
  }
} catch (e) {
  failure = e;
}
await cleanup();
if (failure) {
  log('\n');
  console.error(`push.mjs: ${failure.message}`);
  process.exit(1);
}

const st = Object.fromEntries(ROWS.map((t) => [t, stats(results[t].map((r) => r.wall))]));
const medianOf = (t, key) => {
  const xs = results[t].map((r) => r[key]).filter((x) => x !== null && x !== undefined);
  return xs.length ? stats(xs).median : null;
};
const base = st.dbtls?.median;
/** ratio[t] = how many times faster dbtls is (repush: how many times faster the re-push is than the first push). */
const ratios = {};
if (base) {
  for (const t of ['scp', 'ansible']) if (st[t]) ratios[t] = st[t].median / base;
  ratios.repush = base / st.repush.median;
}
const target = (t) => (ratios[t] === undefined ? null : { want: `>= ${TARGETS[t]}x`, met: ratios[t] >= TARGETS[t] });
const LABEL = { dbtls: 'dbtls', repush: 'dbtls re-push', scp: 'scp loop', ansible: 'ansible' };
const RATIO_NAME = { scp: 'scp/dbtls', ansible: 'ansible/dbtls', repush: 'first/re-push' };

const parts = [];
if (ratios.scp !== undefined)
  parts.push(
    `${ratios.scp.toFixed(1)}x faster than the scp loop (target ${TARGETS.scp}x ${target('scp').met ? 'met' : 'MISSED'})`,
  );
if (ratios.ansible !== undefined)
  parts.push(
    `${ratios.ansible.toFixed(1)}x faster than ansible -f ${opts.forks} (target ${TARGETS.ansible}x ${target('ansible').met ? 'met' : 'MISSED'})`,
  );
if (ratios.repush !== undefined)
  parts.push(
    `no-change re-push ${ratios.repush.toFixed(2)}x faster than the first (target ${TARGETS.repush}x ${target('repush').met ? 'met' : 'MISSED'})`,
  );
const summary = base
  ? `push (${N} nodes, ${FILE_NAMES.length} files): dbtls ${base.toFixed(2)} s; ${parts.join(', ') || 'no other tool run'}`
  : `push (${N} nodes, ${FILE_NAMES.length} files): dbtls not run; ${ROWS.map((t) => `${LABEL[t]} ${st[t].median.toFixed(2)} s`).join(', ')}`;
// Diagnostics of dbtls's last run: SFTP requests per node, where its CPU time went.
const diagnostics = {};
for (const t of ['dbtls', 'repush'].filter((x) => results[x]?.length)) {
  const last = results[t][results[t].length - 1];
  const d = {};
  if (last.facts.sftp) {
    const { total, ...kinds } = last.facts.sftp;
    d.sftpRequestsPerNode = Math.round((total / N) * 10) / 10;
    d.sftpRequestsPerFile = Math.round((total / N / FILE_NAMES.length) * 10) / 10;
    d.sftpRequests = { total, ...kinds };
  }
  if (opts.cpuProf) {
    const { summarize } = await import('./push/cpuprofile.mjs');
    const file = profileOf(`${t === 'repush' ? 'dbtls' : t}-${opts.runs}`, t);
    try {
      d.cpuProfile = { file, ...summarize(file) };
    } catch (e) {
      d.cpuProfile = { file, error: e.message };
    }
  }
  if (Object.keys(d).length) diagnostics[t] = d;
}
const isolation = opts.sharedDest
  ? 'shared: every node wrote the same folder (first pushes of dbtls and Ansible flattered)'
  : 'a mount namespace per sshd, its own folder bind-mounted at MNT: DEST is per node, as on real machines';
const sshdNote = opts.bashrc
  ? "harness config only (root's .bashrc runs for each remote shell command)"
  : "harness config + SetEnv SHLVL=1 on every node (root's .bashrc skipped; only Ansible runs remote shells)";

if (opts.json) {
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'push',
        nodes: N,
        files: FILE_SET.map(([name, size, mode]) => ({ name, size, mode: mode.toString(8) })),
        bytesPerNode: TOTAL_BYTES,
        runs: opts.runs,
        forks: opts.forks,
        unit: 's',
        isolation: opts.sharedDest ? 'shared-dest' : 'mount-namespace-per-node',
        sshd: sshdNote,
        tools: Object.fromEntries(
          ROWS.map((t) => [
            t,
            {
              command: TOOLS[t].describe,
              version: t === 'repush' ? versions.dbtls : versions[t],
              median: r3(st[t].median),
              mean: r3(st[t].mean),
              min: r3(st[t].min),
              max: r3(st[t].max),
              times: results[t].map((r) => r3(r.wall)),
              cpuMedian: r3(medianOf(t, 'cpu')),
              machineCpuMedian: r3(medianOf(t, 'machine')),
              ...(t === 'dbtls' || t === 'repush' ? { filesUploaded: results[t].map((r) => r.facts.uploaded) } : {}),
              ...(t === 'ansible' ? { hostsChanged: results[t].map((r) => r.facts.changed) } : {}),
              ...(ratios[t] !== undefined
                ? { ratio: r3(ratios[t]), ratioMeaning: RATIO_NAME[t], target: target(t) }
                : {}),
            },
          ]),
        ),
        versions: { sshd: versions.sshd },
        ...(Object.keys(diagnostics).length ? { diagnostics } : {}),
        machine: {
          node: process.version,
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
  const rows = [['', 'median', 'min', 'max', 'cpu', 'machine cpu', 'runs', 'ratio', 'target']];
  for (const t of ROWS) {
    const s = st[t];
    const cpu = medianOf(t, 'cpu');
    rows.push([
      LABEL[t],
      `${s.median.toFixed(2)} s`,
      `${s.min.toFixed(2)} s`,
      `${s.max.toFixed(2)} s`,
      cpu !== null ? `${cpu.toFixed(2)} s` : '-',
      `${medianOf(t, 'machine').toFixed(2)} s`,
      String(s.n),
      ratios[t] !== undefined ? `${RATIO_NAME[t]} ${ratios[t].toFixed(2)}x` : '',
      target(t) ? `${target(t).want} ${target(t).met ? 'met' : 'MISSED'}` : '',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => (c === 0 || c >= 7 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd(),
    );
  console.log(
    `(${N} nodes x ${FILE_NAMES.length} files, ${TOTAL_BYTES} bytes per node; wall time of the whole process; ` +
      "cpu = user+system seconds of the tool's process tree (GNU time; Ansible's persistent SSH masters not included); " +
      'machine cpu = every process on the machine during the run, the sshd side included)',
  );
  console.log(`  DEST: ${isolation}`);
  console.log(`  sshd: ${versions.sshd}; ${sshdNote}`);
  for (const t of ROWS)
    console.log(
      `  ${LABEL[t].padEnd(13)} ${t === 'repush' ? '' : `${versions[t]}\n                `}${TOOLS[t].describe}`,
    );
  for (const [t, d] of Object.entries(diagnostics)) {
    if (d.sftpRequests) {
      const { total, ...kinds } = d.sftpRequests;
      console.log(
        `  ${LABEL[t]}: ${total} SFTP requests, ${d.sftpRequestsPerNode} per node (${d.sftpRequestsPerFile} per file): ` +
          Object.entries(kinds)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
      );
    }
    if (d.cpuProfile) {
      const { format } = await import('./push/cpuprofile.mjs');
      console.log(
        `  ${LABEL[t]} CPU profile ${d.cpuProfile.file}:\n${d.cpuProfile.error ? `    (${d.cpuProfile.error})` : format(d.cpuProfile)}`,
      );
    }
  }
  console.log(
    `(${process.version}, ${cpus().length} CPUs, load ${loadBefore.map((x) => x.toFixed(2)).join(' ')} -> ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, ${Math.round((Date.now() - started) / 1000)} s in all)`,
  );
  console.log(summary);
}
