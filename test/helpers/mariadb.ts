// A throwaway MariaDB server for end-to-end tests: fresh datadir in a temp folder, a free port on
// 127.0.0.1, its own unix socket, optional TLS files; stopped by PID when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dbtls, run, type RunResult } from './run.js';
import { writeInventory, type TestInventory } from './inventory.js';
import { tempDir } from './tmp.js';
import { which as findExecutable } from './which.js';
import type { Scope } from './scope.js';
import { stopProcess, watchExit } from './server-process.js';

export interface MariadbBinaries {
  mariadbd: string;
  installDb: string;
  client: string;
}

export interface SslFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A node's server certificate and key in a dbtls PKI directory, with its CA: what mariadbd serves. */
export function nodeSslFiles(pki: string, node: string): SslFiles {
  return {
    ca: join(pki, 'ca.pem'),
    cert: join(pki, `nodes/${node}/server-cert.pem`),
    key: join(pki, `nodes/${node}/server-key.pem`),
  };
}

export interface StartOptions {
  /** TLS files for --ssl-ca / --ssl-cert / --ssl-key; without them the server has no TLS. */
  ssl?: SslFiles;
  /** More mariadbd options, appended last. */
  serverArgs?: string[];
  /**
   * An option file for mariadbd to read instead of none: `--defaults-file=FILE` takes the place of
   * `--no-defaults` (first on the command line), so the server reads that file and what it
   * `!include`s, never the machine's /etc/mysql. The harness's own options still come after it.
   */
  defaultsFile?: string;
  /** Listen on this port instead of a free one the harness picks (e.g. the port an inventory names). */
  port?: number;
}

export interface ClientOptions {
  /** Host to dial over TCP (default 127.0.0.1); e.g. 'localhost' to test name-based SANs. */
  host?: string;
  /**
   * A hosts file the client resolves names with, seen as /etc/hosts in a private mount namespace
   * (so a test can map a node name like "db1" to 127.0.0.1 without touching the machine's file).
   */
  hostsFile?: string;
  /** An option file for the client (`--defaults-file=FILE` in place of `--no-defaults`), e.g. a rendered client.cnf. */
  defaultsFile?: string;
}

export interface MariadbServer {
  port: number;
  socket: string;
  datadir: string;
  errorLog: string;
  pid: number;
  /** Runs SQL as root over the unix socket; returns stdout (tab-separated, no headers); throws on error. */
  sql(statement: string): Promise<string>;
  /** Runs the `mariadb` client over TCP to host:port with extra ARGS; never throws on exit code. */
  client(args: string[], opts?: ClientOptions): Promise<RunResult>;
  /** SIGTERM, then SIGKILL after a bounded wait. Safe to call twice. */
  stop(): Promise<void>;
}

export type { Scope } from './scope.js';

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];
const which = (name: string) => findExecutable(name, SEARCH_DIRS);

/** Locates the MariaDB server, installer and client; null if any is missing. */
export async function findMariadb(): Promise<MariadbBinaries | null> {
  const [mariadbd, installDb, client] = await Promise.all([
    which('mariadbd'),
    which('mariadb-install-db'),
    which('mariadb'),
  ]);
  return mariadbd && installDb && client ? { mariadbd, installDb, client } : null;
}

/** A port that was free a moment ago (the kernel picks it; we close it for the server to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// The client must not pick up a developer's MYSQL_HOST / MYSQL_PWD / MYSQL_TCP_PORT etc.
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MYSQL_') || k.startsWith('MARIADB_')) delete env[k];
  return env;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
// mariadbd refuses to run as root unless told to.
const userArgs = isRoot ? ['--user=root'] : [];
// Small and quick: tiny buffer pool and redo log, no binlog, no DNS, no performance schema.
const smallArgs = [
  '--skip-log-bin',
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-file-size=4M',
  '--skip-name-resolve',
  '--performance-schema=OFF',
];

async function readLog(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '(no error log)');
}

/**
 * Starts a fresh MariaDB and waits (≤ 20 s) until root can run SQL over the socket.
 * The server is stopped and its folder removed when SCOPE ends.
 */
export async function startMariadb(scope: Scope, opts: StartOptions = {}): Promise<MariadbServer> {
  const bins = await findMariadb();
  if (!bins) throw new Error('MariaDB not found (need mariadbd, mariadb-install-db, mariadb); run `make system-deps`');

  // Registered before tempDir so that it runs first (after-hooks run in order): stop, then delete.
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const stop = (): Promise<void> => stopProcess(child, exited, 10_000);
  scope.after(stop);

  const dir = await tempDir(scope, 'dbtls-mariadb-');
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  const errorLog = join(dir, 'error.log');
  const env = cleanEnv();
  // Its own tmpdir: every mariadbd deletes #sql* files in its tmpdir at start-up, so servers sharing
  // /tmp break each other's bootstrap ("Unknown table 'mysql.tmp_user_sys'").
  const tmpdir = join(dir, 'tmp');
  await mkdir(tmpdir, { mode: 0o700 });

  // --no-defaults must come first; extra options are passed through to the bootstrap mariadbd.
  // 'normal' root auth gives root@localhost an empty password, usable as any OS user.
  const install = await run(
    bins.installDb,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--tmpdir=${tmpdir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...userArgs,
      ...smallArgs,
    ],
    { env, timeoutMs: 60_000 },
  );
  if (install.code !== 0) {
    throw new Error(`mariadb-install-db failed (${install.code}):\n${install.stdout}\n${install.stderr}`);
  }

  const sql = async (statement: string): Promise<string> => {
    const r = await run(bins.client, ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B', '-e', statement], {
      env,
      timeoutMs: 30_000,
    });
    if (r.code !== 0) throw new Error(`SQL failed (${r.code}): ${statement}\n${r.stderr}`);
    return r.stdout;
  };

  // The port is only "probably" free (another test may grab it first): retry on a bind failure.
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const ssl = opts.ssl ? [`--ssl-ca=${opts.ssl.ca}`, `--ssl-cert=${opts.ssl.cert}`, `--ssl-key=${opts.ssl.key}`] : [];
    const c = spawn(
      bins.mariadbd,
      [
        opts.defaultsFile ? `--defaults-file=${opts.defaultsFile}` : '--no-defaults',
        `--datadir=${datadir}`,
        `--tmpdir=${tmpdir}`,
        `--socket=${socket}`,
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        `--log-error=${errorLog}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        ...userArgs,
        ...smallArgs,
        ...ssl,
        ...(opts.serverArgs ?? []),
      ],
      { env, stdio: 'ignore' },
    );
    child = c;
    exited = watchExit(c);
    let spawnError: Error | null = null;
    c.once('error', (e) => (spawnError = e));

    // Bounded wait: poll with a real query until it works, the server dies, or 20 s pass.
    const deadline = Date.now() + 20_000;
    let ready = false;
    while (!ready && Date.now() < deadline && c.exitCode === null && c.signalCode === null && !spawnError) {
      ready = await sql('SELECT 1').then(
        () => true,
        () => false,
      );
      if (!ready) await sleep(100);
    }
    if (ready && c.pid !== undefined) {
      const pid = c.pid;
      const client = (args: string[], copts: ClientOptions = {}): Promise<RunResult> => {
        const defaults = copts.defaultsFile ? `--defaults-file=${copts.defaultsFile}` : '--no-defaults';
        const argv = [
          bins.client,
          defaults,
          '--protocol=TCP',
          `--host=${copts.host ?? '127.0.0.1'}`,
          `--port=${port}`,
          '--connect-timeout=10',
          ...args,
        ];
        if (!copts.hostsFile) return run(argv[0]!, argv.slice(1), { env, timeoutMs: 30_000 });
        // The file and the command travel as arguments, never through the shell's parser.
        const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
        return run('unshare', ['--mount', '--', '/bin/sh', '-c', script, copts.hostsFile, ...argv], {
          env,
          timeoutMs: 30_000,
        });
      };
      return { port, socket, datadir, errorLog, pid, sql, client, stop };
    }

    await stop();
    const log = await readLog(errorLog);
    if (attempt < 3 && opts.port === undefined && /already in use|Can't start server: Bind/i.test(log)) continue;
    const exit = c.exitCode ?? c.signalCode;
    const why = spawnError
      ? `could not be spawned (${String(spawnError)})`
      : exit !== null
        ? `exited (${exit}) before accepting connections`
        : 'did not accept connections within 20 s';
    throw new Error(`MariaDB ${why}; error log (tail):\n${log.split('\n').slice(-40).join('\n')}`);
  }
}

/**
 * `dbtls issue` for the inventory INVENTORY(port) writes in DIR, a MariaDB serving node NODE's
 * certificate, and the inventory written again with the port that server listens on (a
 * certificate does not name a port, so the PKI stays as issued).
 */
export async function issuedMariadb(
  scope: Scope,
  dir: string,
  inventory: (port: number) => TestInventory,
  node = 'db1',
): Promise<{ inv: string; pki: string; db: MariadbServer }> {
  const inv = await writeInventory(dir, inventory(3306));
  const r = await dbtls(['issue', '-i', inv]);
  if (r.code !== 0) throw new Error(`dbtls issue: ${r.stderr}`);
  const pki = join(dir, 'pki');
  const db = await startMariadb(scope, { ssl: nodeSslFiles(pki, node) });
  await writeInventory(dir, inventory(db.port));
  return { inv, pki, db };
}
