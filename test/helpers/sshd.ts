// Throwaway OpenSSH servers for delivery tests: each its own folder, free port on 127.0.0.1, host
// key and config; one client key pair shared by the servers of a scope. Stopped by PID (listener and
// every per-connection process) when the scope ends. Known_hosts lines and the OpenSSH client's
// arguments for them. Test accounts, sudoers entries and network namespaces, which change the
// machine, are in unix-users.ts, sudoers.ts and netns.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atExit } from './at-exit.js';
import { freePort } from './mariadb.js';
import { NETNS_NAME } from './netns.js';
import { alive, childrenOf, freezeAndKill, procTable, signal, waitGone } from './process-tree.js';
import { run } from './run.js';
import type { Scope } from './scope.js';
import { SBIN_DIRS, systemTool, which as findExecutable } from './which.js';

export type { Scope } from './scope.js';

export type KeyType = 'ed25519' | 'rsa';

/** A key pair made with ssh-keygen (OpenSSH private key format, no passphrase, mode 0600). */
export interface ClientKey {
  type: KeyType;
  /** The private key file (give it to ssh2 as `privateKey: readFileSync(path)` or to `ssh -i`). */
  path: string;
  /** `path + '.pub'`. */
  publicPath: string;
  /** `ssh-ed25519 AAAA… comment`, as in authorized_keys. */
  publicLine: string;
}

export interface HostKey {
  /** The key's algorithm name as in known_hosts and inside the blob. */
  type: 'ssh-ed25519' | 'ssh-rsa';
  /** The public key blob the server offers (what ssh2's `hostVerifier(key: Buffer)` receives). */
  blob: Buffer;
  /** `TYPE BASE64` (no comment). */
  publicLine: string;
  /** `SHA256:…` as `ssh-keygen -l` and `ssh` print it. */
  fingerprint: string;
  /** The private host key file. */
  path: string;
}

export interface KnownHostsOptions {
  /** Write the host name as a hashed `|1|salt|hmac` entry (HashKnownHosts style). */
  hashed?: boolean;
  /** Prefix the line with a marker, e.g. `@revoked`. */
  marker?: '@revoked' | '@cert-authority';
}

export interface SshdOptions {
  /** Host key algorithm (default ed25519). */
  hostKeyType?: KeyType;
  /** Accounts allowed to log in (sshd `AllowUsers`), default `['root']`. All share one authorized_keys. */
  users?: string[];
  /**
   * More sshd_config lines. sshd keeps the FIRST value it reads for a keyword, so these go before the
   * harness's own lines (and override them); from the first `Match` line on they go last.
   */
  extraConfig?: string[];
  /** The client key to authorize; default: one key shared by every server started with the same scope. */
  clientKey?: ClientKey;
  /** Listen on this port instead of a free one. */
  port?: number;
  /** Listen on this address instead of 127.0.0.1 (e.g. a namespace's veth address). */
  listenAddress?: string;
  /**
   * Run sshd inside this network namespace (`ip netns exec`, see createNetns). Its 127.0.0.1 is then
   * the namespace's own, out of reach from here; readiness is read from sshd's log instead.
   */
  netns?: string;
}

export interface SshdServer {
  /** The address it listens on (127.0.0.1 unless listenAddress was given). */
  readonly host: string;
  /** The network namespace it runs in, if any. */
  readonly netns: string | undefined;
  readonly port: number;
  /** The listener's PID (changes on restart). */
  readonly pid: number;
  /** The current host key (changes on rotateHostKey). */
  readonly hostKey: HostKey;
  readonly clientKey: ClientKey;
  readonly clientKeyPath: string;
  /** The server's folder: sshd_config, host key, authorized_keys, sshd.log. */
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** Whether the listener process is alive. */
  readonly running: boolean;
  /** A known_hosts line for the current key: `[ALIAS]:PORT TYPE BASE64` (ALIAS default: host). */
  knownHostsLine(hostAlias?: string, opts?: KnownHostsOptions): string;
  /** sshd's log so far (stderr of the listener and of every session, across restarts). */
  log(): Promise<string>;
  /** PIDs of the per-connection sshd processes (children of this listener), pre-auth ones included. */
  sessionPids(): number[];
  /**
   * SIGKILLs every per-connection process of THIS server and all they started (frozen first, so none
   * escapes), waits (≤ 2 s) until they are gone; the listener keeps running. Returns the PIDs killed.
   */
  killSessions(): Promise<number[]>;
  /** Sends SIGNAL (default SIGKILL) to the listener only, e.g. SIGSTOP to make a node hang. */
  kill(signal?: NodeJS.Signals): void;
  /** Kills the sessions, then SIGTERM (SIGKILL after 5 s) to the listener; waits for it. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops if running, then starts again on the same port with the same host key. */
  restart(): Promise<void>;
  /** Makes a new host key of the same type and restarts; returns the new key. */
  rotateHostKey(): Promise<HostKey>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Locates sshd (it must be run by absolute path: it re-executes itself per connection). */
export async function findSshd(): Promise<string | null> {
  return findExecutable('sshd', SBIN_DIRS);
}

async function keygen(type: KeyType, path: string, comment: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  const r = await run(
    await systemTool('ssh-keygen'),
    ['-q', '-t', type, ...bits, '-N', '', '-C', comment, '-f', path],
    {
      timeoutMs: 30_000,
    },
  );
  if (r.code !== 0) throw new Error(`ssh-keygen -t ${type} failed (${r.code}): ${r.stderr}`);
}

function parsePublicLine(line: string): { type: string; blob: Buffer } {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64) throw new Error(`not an OpenSSH public key line: ${line}`);
  return { type, blob: Buffer.from(b64, 'base64') };
}

/** `SHA256:…` of a public key blob, as OpenSSH prints it (base64 without padding). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

async function readHostKey(path: string): Promise<HostKey> {
  const { type, blob } = parsePublicLine(await readFile(`${path}.pub`, 'utf8'));
  if (type !== 'ssh-ed25519' && type !== 'ssh-rsa') throw new Error(`unexpected host key type ${type}`);
  return { type, blob, publicLine: `${type} ${blob.toString('base64')}`, fingerprint: fingerprintOf(blob), path };
}

/** A known_hosts host pattern: `[host]:port` unless the port is 22; hashed as `|1|salt|hmac` on request. */
export function knownHostsName(host: string, port: number, hashed = false): string {
  const name = port === 22 ? host : `[${host}]:${port}`;
  if (!hashed) return name;
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** Makes a client key pair in its own temp folder, removed when SCOPE ends. */
export async function createClientKey(scope: Scope, type: KeyType = 'ed25519'): Promise<ClientKey> {
  const dir = await mkdtemp(join(tmpdir(), 'dbtls-sshkey-'));
  scope.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, `id_${type}`);
  await keygen(type, path, 'dbtls-test-client');
  const publicLine = (await readFile(`${path}.pub`, 'utf8')).trim();
  return { type, path, publicPath: `${path}.pub`, publicLine };
}

const sharedKeys = new WeakMap<Scope, Promise<ClientKey>>();
/** The client key shared by every server started with SCOPE (made on first use). */
export function sharedClientKey(scope: Scope): Promise<ClientKey> {
  let p = sharedKeys.get(scope);
  if (!p) sharedKeys.set(scope, (p = createClientKey(scope)));
  return p;
}

/** True once a TCP connection to HOST:PORT gets an `SSH-` identification line within ONE_MS. */
function bannerArrives(host: string, port: number, oneMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), oneMs);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) done(buf.startsWith('SSH-2.0-'));
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

let versionP: Promise<[number, number]> | undefined;
/** sshd's version (major, minor): `sshd -V` is not an option before 9.x, but the usage line names it. */
function sshdVersion(sshd: string): Promise<[number, number]> {
  return (versionP ??= run(sshd, ['-V'], { timeoutMs: 10_000 }).then((r) => {
    const m = /OpenSSH_(\d+)\.(\d+)/.exec(r.stdout + r.stderr);
    return m ? [Number(m[1]), Number(m[2])] : [0, 0];
  }));
}

// Safety net if the test process exits without running its after-hooks (e.g. a test timeout): one
// exit cleanup for every listener process, which takes its sessions down with it.
const live = new Set<ChildProcess>();
atExit('processes', () => {
  for (const c of live) {
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
    signal(c.pid, 'SIGSTOP');
    freezeAndKill(childrenOf(new Set([c.pid]), procTable()));
    c.kill('SIGKILL');
  }
});

/** sshd's privilege separation directory; this machine kind does not create it (no service start). */
async function ensurePrivsepDir(): Promise<void> {
  try {
    await mkdir('/run/sshd', { mode: 0o755 });
    await chmod('/run/sshd', 0o755); // mkdir's mode passes through the umask
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * Starts an sshd on 127.0.0.1 and waits (≤ 10 s) until it answers with an SSH banner. Stopped (with
 * every session) and its folder removed when SCOPE ends.
 */
export async function startSshd(scope: Scope, opts: SshdOptions = {}): Promise<SshdServer> {
  const sshd = await findSshd();
  if (!sshd) throw new Error('sshd not found; run `make system-deps` (openssh-server)');
  const [major, minor] = await sshdVersion(sshd);
  const clientKey = opts.clientKey ?? (await sharedClientKey(scope));
  const hostKeyType = opts.hostKeyType ?? 'ed25519';
  const users = opts.users ?? ['root'];
  const listen = opts.listenAddress ?? '127.0.0.1';
  if (!/^[0-9a-f.:]+$/i.test(listen)) throw new Error(`listenAddress must be an IP address: ${listen}`);
  const netns = opts.netns;
  if (netns !== undefined && !NETNS_NAME.test(netns)) throw new Error(`not a namespace made by createNetns: ${netns}`);
  const ip = netns !== undefined ? await systemTool('ip') : '';
  for (const u of users) if (!/^[A-Za-z0-9_*?.-]+$/.test(u)) throw new Error(`bad user pattern for AllowUsers: ${u}`);

  const dir = await mkdtemp(join(tmpdir(), 'dbtls-sshd-'));
  // sshd reads authorized_keys as the logging-in user, so other accounts must reach it.
  await chmod(dir, 0o755);

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  // Sessions that outlived a listener killed by kill(): still ours to clean up.
  const strays = new Set<number>();
  const running = (): boolean => child !== null && child.exitCode === null && child.signalCode === null;

  const stop = async (): Promise<void> => {
    const c = child;
    if (c && running() && c.pid !== undefined) {
      signal(c.pid, 'SIGSTOP'); // no new connections while its sessions are killed
      const sessions = childrenOf(new Set([c.pid]), procTable());
      await waitGone(freezeAndKill(sessions), 2_000);
      c.kill('SIGTERM'); // pending until it continues
      signal(c.pid, 'SIGCONT');
      const timer = new AbortController();
      const done = await Promise.race([
        exited.then(() => true),
        sleep(STOP_TIMEOUT_MS, false, { signal: timer.signal }).catch(() => false),
      ]);
      timer.abort();
      if (!done) {
        c.kill('SIGKILL');
        await exited;
      }
    }
    const left = [...strays].filter(alive);
    strays.clear();
    if (left.length) await waitGone(freezeAndKill(left), 2_000);
  };
  scope.after(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  const hostKeyPath = join(dir, `ssh_host_${hostKeyType}_key`);
  const authorizedKeys = join(dir, 'authorized_keys');
  const configPath = join(dir, 'sshd_config');
  const logPath = join(dir, 'sshd.log');
  await keygen(hostKeyType, hostKeyPath, 'dbtls-test-host');
  let hostKey = await readHostKey(hostKeyPath);
  await writeFile(authorizedKeys, `${clientKey.publicLine}\n`, { mode: 0o644 });
  await chmod(authorizedKeys, 0o644);

  const extra = opts.extraConfig ?? [];
  const matchAt = extra.findIndex((l) => /^\s*match\s/i.test(l));
  const extraFirst = matchAt < 0 ? extra : extra.slice(0, matchAt);
  const extraLast = matchAt < 0 ? [] : extra.slice(matchAt);
  const config = (port: number): string =>
    [
      '# written by test/helpers/sshd.ts',
      ...extraFirst,
      `Port ${port}`,
      `ListenAddress ${listen.includes(':') ? `[${listen}]` : listen}`,
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `AllowUsers ${users.join(' ')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      'X11Forwarding no',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      'MaxStartups 100',
      // OpenSSH ≥ 9.8 penalises a source address for failed logins and crashed sessions; the tests
      // make both on purpose, all from 127.0.0.1.
      ...(major > 9 || (major === 9 && minor >= 8) ? ['PerSourcePenalties no'] : []),
      ...extraLast,
      '',
    ].join('\n');

  let port = opts.port ?? 0;

  // One start attempt on PORT: 'ok', 'bind' (port taken), or throws with the log's tail.
  const launch = async (p: number): Promise<'ok' | 'bind'> => {
    await writeFile(configPath, config(p));
    await ensurePrivsepDir();
    const logStart = await readFile(logPath, 'utf8').then(
      (s) => s.length,
      () => 0,
    );
    const fh = await open(logPath, 'a');
    let c: ChildProcess;
    try {
      // `ip netns exec` enters the namespace and execs sshd: the PID stays sshd's.
      const [cmd, args] =
        netns !== undefined
          ? [ip, ['netns', 'exec', netns, sshd, '-D', '-e', '-f', configPath]]
          : [sshd, ['-D', '-e', '-f', configPath]];
      c = spawn(cmd, args, { stdio: ['ignore', fh.fd, fh.fd] });
    } finally {
      await fh.close(); // the child holds its own copy
    }
    child = c;
    live.add(c);
    exited = new Promise((resolve) =>
      c.once('exit', () => {
        live.delete(c);
        resolve();
      }),
    );
    let spawnError: Error | null = null;
    c.once('error', (e) => (spawnError = e));

    const deadline = Date.now() + START_TIMEOUT_MS;
    let ready = false;
    // Inside a namespace the address may be out of reach from here: sshd logs once it listens.
    const listening = `Server listening on ${listen} port ${p}.`;
    while (!ready && Date.now() < deadline && c.exitCode === null && c.signalCode === null && !spawnError) {
      ready =
        netns !== undefined
          ? (await readFile(logPath, 'utf8').catch(() => '')).slice(logStart).includes(listening)
          : await bannerArrives(listen, p, 1_000);
      if (!ready) await sleep(25);
    }
    if (ready && running()) return 'ok';

    await stop();
    const log = (await readFile(logPath, 'utf8').catch(() => '')).slice(logStart);
    if (/Address already in use|Cannot bind any address/i.test(log)) return 'bind';
    const exit = c.exitCode ?? c.signalCode;
    const why = spawnError
      ? `could not be spawned (${String(spawnError)})`
      : exit !== null
        ? `exited (${exit}) before answering`
        : `did not answer with an SSH banner within ${START_TIMEOUT_MS / 1000} s`;
    throw new Error(`sshd on port ${p} ${why}; log (tail):\n${log.split('\n').slice(-30).join('\n')}`);
  };

  const start = async (fixedPort: boolean): Promise<void> => {
    // A free port is only "probably" free: pick another on a bind failure. A fixed one (restart, or
    // opts.port) may still be held for a moment: try it again briefly.
    for (let attempt = 1; ; attempt++) {
      const p = fixedPort ? port : await freePort();
      if ((await launch(p)) === 'ok') {
        port = p;
        return;
      }
      if (attempt >= (fixedPort ? 20 : 5)) throw new Error(`sshd could not bind 127.0.0.1:${p} (${attempt} attempts)`);
      if (fixedPort) await sleep(100);
    }
  };

  await start(opts.port !== undefined);

  const server: SshdServer = {
    host: listen,
    netns,
    get port() {
      return port;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    get hostKey() {
      return hostKey;
    },
    clientKey,
    clientKeyPath: clientKey.path,
    dir,
    configPath,
    logPath,
    get running() {
      return running();
    },
    knownHostsLine(hostAlias = listen, kopts: KnownHostsOptions = {}) {
      const name = knownHostsName(hostAlias, port, kopts.hashed);
      return `${kopts.marker ? `${kopts.marker} ` : ''}${name} ${hostKey.publicLine}`;
    },
    log: () => readFile(logPath, 'utf8').catch(() => ''),
    sessionPids() {
      return running() && child?.pid !== undefined ? childrenOf(new Set([child.pid]), procTable()) : [];
    },
    async killSessions() {
      const killed = freezeAndKill(server.sessionPids());
      await waitGone(killed, 2_000);
      return killed;
    },
    kill(sig: NodeJS.Signals = 'SIGKILL') {
      if (!running() || child?.pid === undefined) return;
      if (sig !== 'SIGSTOP' && sig !== 'SIGCONT') {
        for (const pid of server.sessionPids()) strays.add(pid);
      }
      child.kill(sig);
    },
    stop,
    async restart() {
      await stop();
      await start(true);
    },
    async rotateHostKey() {
      await keygen(hostKeyType, hostKeyPath, 'dbtls-test-host');
      hostKey = await readHostKey(hostKeyPath);
      await server.restart();
      return hostKey;
    },
  };
  return server;
}

/** N servers started in parallel, all authorizing one client key (OPTS.clientKey or the scope's). */
export async function startSshdFleet(scope: Scope, n: number, opts: SshdOptions = {}): Promise<SshdServer[]> {
  const clientKey = opts.clientKey ?? (await sharedClientKey(scope));
  return Promise.all(Array.from({ length: n }, () => startSshd(scope, { ...opts, clientKey })));
}

/**
 * Arguments for the real OpenSSH client to log in to S as root, with nothing from the machine's or
 * root's ssh configuration: this key only, strict host keys against KNOWN_HOSTS, no prompts.
 */
export function opensshArgs(
  s: { port: number },
  identityFile: string,
  knownHosts: string,
  extra: string[] = [],
): string[] {
  return [
    '-F',
    '/dev/null',
    '-p',
    String(s.port),
    '-i',
    identityFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=10',
    ...extra,
    'root@127.0.0.1',
  ];
}
