// A throwaway Galera cluster for end-to-end tests: MariaDB nodes with Debian's galera-4 on
// 127.0.0.1, 127.0.0.2, 127.0.0.3… (one loopback address a node, so every node uses the same ports
// and certificates can carry distinct IP SANs), TLS on the group channel (gcomm) from the files a
// test gives, rsync SST. The nodes run as the `mysql` user: the rsync daemon of an SST drops its
// privileges, so a datadir owned by root cannot be received (REFERENCE-2 §1.7).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findMariadb, type MariadbBinaries } from './mariadb.js';
import { run } from './run.js';
import { tempDir } from './tmp.js';
import type { Scope } from './scope.js';
import { stopProcess, watchExit } from './server-process.js';
import { acquireLock } from '../../lib/store/lock.js';

export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';

export interface GaleraTls {
  cert: string;
  key: string;
  ca: string;
}

export interface GaleraNode {
  /** 1-based: the node listens on 127.0.0.N. */
  index: number;
  host: string;
  gcommPort: number;
  datadir: string;
  socket: string;
  errorLog: string;
  /** Runs SQL as root over the unix socket; returns stdout (tab-separated, no headers); throws on error. */
  sql(statement: string): Promise<string>;
  /** A wsrep status variable (wsrep_cluster_size, wsrep_local_state_comment…), '' when the node does not answer. */
  status(name: string): Promise<string>;
  /** SIGTERM, then SIGKILL after a bounded wait. Safe to call twice. */
  stop(): Promise<void>;
  /** Starts the node again on its datadir (it rejoins by IST or SST); `tls` changes its files. */
  start(opts?: { tls?: GaleraTls; waitSynced?: boolean }): Promise<void>;
  /** Whether the server process is running. */
  running(): boolean;
}

export interface GaleraOptions {
  /**
   * Option files node N reads (`!include`d by its own defaults file), e.g. the my.cnf and galera.cnf
   * dbtls rendered and pushed for it. With them the node's TLS — server and provider — comes from
   * those files alone: no wsrep_provider_options on the command line (it would replace theirs), and
   * its `tls` files are ignored.
   */
  includes?: (index: number) => string[];
}

export interface GaleraCluster {
  nodes: GaleraNode[];
  /** The gcomm:// address every node is given: all the nodes' group ports. */
  address: string;
  /** Adds a node at the next address (not started). */
  addNode(tls: GaleraTls): Promise<GaleraNode>;
}

// Ports are fixed per address: each node has a loopback address of its own.
const GCOMM_PORT = 4567;
const IST_PORT = 4568;
const SST_PORT = 4444;
const SQL_PORT = 3306;
const SYNC_TIMEOUT_MS = 60_000;

const isRoot = userInfo().uid === 0;

/** Can this machine run the cluster? null when it can, else why not. */
export async function galeraMissing(): Promise<string | null> {
  if (!isRoot) return 'needs root (the nodes run as the mysql user)';
  if (!(await findMariadb())) return 'MariaDB not found';
  const provider = await readFile(GALERA_PROVIDER).then(
    () => true,
    () => false,
  );
  return provider ? null : `${GALERA_PROVIDER} not found (Debian galera-4)`;
}

async function mysqlIds(): Promise<{ uid: number; gid: number }> {
  const r = await run('id', ['-u', 'mysql']);
  const g = await run('id', ['-g', 'mysql']);
  if (r.code !== 0 || g.code !== 0) throw new Error('no mysql user (installed with mariadb-server)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * A cluster of COUNT nodes, node i with TLS files tls[i]; node 1 bootstraps it (--wsrep-new-cluster)
 * and the others join one after another, each waited for until Synced. Stopped when SCOPE ends.
 */
export async function startGalera(scope: Scope, tls: GaleraTls[], opts: GaleraOptions = {}): Promise<GaleraCluster> {
  const bins = await findMariadb();
  if (!bins) throw new Error('MariaDB not found; run `make system-deps`');
  // Every cluster uses 127.0.0.1… on fixed ports: test files that run at once take turns.
  const locks = join(tmpdir(), 'dbtls-test-locks');
  await mkdir(locks, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(join(locks, 'galera.lock'), { waitMs: 600_000 });
  scope.after(() => lock.release());
  const ids = await mysqlIds();
  const root = await tempDir(scope, 'dbtls-galera-');
  // mkdtemp makes it 0700: the mysql user must reach its datadir and the certificate files below it.
  await chmod(root, 0o755);
  const nodes: GaleraNode[] = [];
  const address = () => `gcomm://${nodes.map((n) => `${n.host}:${n.gcommPort}`).join(',')}`;
  const cluster: GaleraCluster = {
    nodes,
    get address() {
      return address();
    },
    addNode: async (files) => {
      const node = await makeNode(scope, bins, root, nodes.length + 1, files, ids, address, opts);
      nodes.push(node);
      return node;
    },
  };
  for (const files of tls) await cluster.addNode(files);
  // Every node is named in the address before any starts, so joiners find the whole group.
  for (const node of nodes) await node.start({ waitSynced: true });
  return cluster;
}

async function makeNode(
  scope: Scope,
  bins: MariadbBinaries,
  root: string,
  index: number,
  initialTls: GaleraTls,
  ids: { uid: number; gid: number },
  address: () => string,
  options: GaleraOptions,
): Promise<GaleraNode> {
  const host = `127.0.0.${index}`;
  const dir = join(root, `node${index}`);
  const datadir = join(dir, 'data');
  const tmpdir = join(dir, 'tmp');
  const socket = join(dir, 'mariadb.sock');
  const errorLog = join(dir, 'error.log');
  for (const d of [dir, tmpdir]) {
    await mkdir(d, { recursive: true });
    await chown(d, ids.uid, ids.gid);
  }
  const install = await run(
    bins.installDb,
    [
      '--no-defaults',
      '--user=mysql',
      `--datadir=${datadir}`,
      `--tmpdir=${tmpdir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { timeoutMs: 60_000 },
  );
  if (install.code !== 0) throw new Error(`mariadb-install-db failed (${install.code}):\n${install.stderr}`);

  let tls = initialTls;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let started = false;

  const sql = async (statement: string): Promise<string> => {
    const r = await run(bins.client, ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B', '-e', statement], {
      timeoutMs: 30_000,
    });
    if (r.code !== 0) throw new Error(`node ${index}: SQL failed (${r.code}): ${statement}\n${r.stderr}`);
    return r.stdout;
  };
  const status = async (name: string): Promise<string> => {
    const r = await run(
      bins.client,
      ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B', '-e', `SHOW STATUS LIKE '${name}'`],
      {
        timeoutMs: 10_000,
      },
    );
    return r.code === 0 ? (r.stdout.split('\t')[1] ?? '').trim() : '';
  };
  const isRunning = () => child !== null && child.exitCode === null && child.signalCode === null;

  const stop = (): Promise<void> => stopProcess(child, exited, 20_000);
  scope.after(stop);

  const start = async (opts: { tls?: GaleraTls; waitSynced?: boolean } = {}): Promise<void> => {
    if (opts.tls) tls = opts.tls;
    const bootstrap = !started && index === 1;
    started = true;
    const provider = [
      `gmcast.listen_addr=tcp://${host}:${GCOMM_PORT}`,
      `ist.recv_addr=${host}:${IST_PORT}`,
      `socket.ssl_cert=${tls.cert}`,
      `socket.ssl_key=${tls.key}`,
      `socket.ssl_ca=${tls.ca}`,
      'gcache.size=16M',
    ].join(';');
    const includes = options.includes?.(index);
    const defaultsFile = join(dir, 'node.cnf');
    if (includes) await writeFile(defaultsFile, includes.map((f) => `!include ${f}\n`).join(''));
    const c = spawn(
      bins.mariadbd,
      [
        // The SST scripts get the same file (mariadbd passes --defaults-file on), so they read its [sst] too.
        includes ? `--defaults-file=${defaultsFile}` : '--no-defaults',
        '--user=mysql',
        `--datadir=${datadir}`,
        `--tmpdir=${tmpdir}`,
        `--socket=${socket}`,
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        `--log-error=${errorLog}`,
        `--port=${SQL_PORT}`,
        `--bind-address=${host}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=16M',
        '--performance-schema=OFF',
        '--wsrep_on=ON',
        `--wsrep_provider=${GALERA_PROVIDER}`,
        '--wsrep_cluster_name=dbtls-test',
        `--wsrep_cluster_address=${address()}`,
        `--wsrep_node_address=${host}:${GCOMM_PORT}`,
        `--wsrep_node_name=node${index}`,
        ...(includes ? [] : [`--wsrep_provider_options=${provider}`]),
        '--wsrep_sst_method=rsync',
        `--wsrep_sst_receive_address=${host}:${SST_PORT}`,
        '--binlog_format=ROW',
        '--innodb_autoinc_lock_mode=2',
        ...(bootstrap ? ['--wsrep-new-cluster'] : []),
      ],
      { stdio: 'ignore' },
    );
    child = c;
    exited = watchExit(c);
    if (opts.waitSynced === false) return;
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!isRunning()) break;
      if ((await status('wsrep_local_state_comment')) === 'Synced') return;
      await sleep(250);
    }
    const log = await readFile(errorLog, 'utf8').catch(() => '(no error log)');
    throw new Error(`galera node ${index} (${host}) did not reach Synced:\n${log.split('\n').slice(-40).join('\n')}`);
  };

  return {
    index,
    host,
    gcommPort: GCOMM_PORT,
    datadir,
    socket,
    errorLog,
    sql,
    status,
    stop,
    start,
    running: isRunning,
  };
}
