// A test bed for rotation: two real MariaDB servers, db1 (the primary) and db2 (its replica over
// verified TLS), each a "node" reached through its own loopback sshd. `dbtls apply` issues, renders
// and pushes over those sshd into each node's dest folder; each mariadbd then runs on the DELIVERED
// files (it `!include`s the pushed <dest>/dbtls/my.cnf, whose ssl_ca/ssl_cert/ssl_key name
// <dest>/*.pem), so a later push + FLUSH SSL rotates what it serves. The accounts and replication
// come from the delivered users.sql and replication.sql, as an operator would apply them.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { shellCommand } from '../../lib/deliver/quote.js';
import { writeInventory, type TestNode } from './inventory.js';
import { findMariadb, freePort, startMariadb, type MariadbServer } from './mariadb.js';
import { dbtls, run, type RunResult } from './run.js';
import { opensshArgs, startSshdFleet, type SshdServer } from './sshd.js';
import { tempDir } from './tmp.js';
import { which } from './which.js';
import { normalizeSerial, type TlsFiles } from './load-loop.js';
import type { Scope } from './scope.js';

/** What opts.reload is told about a node to build its `reload:` inventory field. */
export interface ReloadInput {
  name: string;
  dest: string;
  port: number;
  sshPort: number;
  /** The server's unix socket. */
  socket: string;
  /** The cluster's own reload command for this node (FLUSH SSL as root over the socket). */
  reloadCommand: string;
}

export interface TlsClusterOptions {
  /**
   * Gives each node a `reload:` field in the inventory (written once the servers run, since the
   * command needs their sockets). Without it the inventory has no `reload:` field at all.
   */
  reload?: (node: ReloadInput) => string;
  /** The CA's common name (default "Test Cluster CA"). */
  caCommonName?: string;
  /** Leaf validity in days (default: the inventory default). */
  leafDays?: number;
  /** leaf.keyType and ca.keyType of the inventory (default: RSA 2048). */
  leafKeyType?: string;
  caKeyType?: string;
  /** ca.crlDays: revocation on (the servers then read the delivered crl.pem as ssl_crl). */
  crlDays?: number;
  /** ca.intermediate: an offline root and an online intermediate (needs DBTLS_CA_PASSPHRASE in the environment). */
  intermediate?: boolean;
  /** Clients besides `app` (the load loop's). */
  moreClients?: string[];
}

export interface ClusterNode {
  name: 'db1' | 'db2';
  /** db1 is the primary, db2 replicates from it. */
  role: 'primary' | 'replica';
  /** The node's sshd (127.0.0.1:sshPort, login root with the scope's client key). */
  sshd: SshdServer;
  sshPort: number;
  /** Where push delivers this node's files; rendered snippets under <dest>/dbtls/. */
  dest: string;
  /** The MariaDB server (port = the node's SQL port in the inventory). */
  server: MariadbServer;
  /** The node's SQL port (= server.port). */
  port: number;
  /** A shell command that reloads TLS on the node: FLUSH SSL as root over the node's own socket. */
  reloadCommand: string;
  /** The delivered files the server serves from. */
  files: { ca: string; cert: string; key: string };
  /** Runs a shell command on the node through its sshd (OpenSSH client, strict known_hosts). */
  ssh(command: string, timeoutMs?: number): Promise<RunResult>;
}

export interface TlsCluster {
  dir: string;
  /** The inventory file. */
  inv: string;
  /** The PKI directory (inventory's `pki: ./pki`). */
  pki: string;
  knownHosts: string;
  /** The SSH client key every node authorizes. */
  identityFile: string;
  nodes: [ClusterNode, ClusterNode];
  primary: ClusterNode;
  replica: ClusterNode;
  node(name: string): ClusterNode;
  /** The MariaDB servers, in node order. */
  servers: MariadbServer[];
  /** The `app` client's files in the PKI directory (what the load loop logs in with). */
  appFiles: TlsFiles;
  /** The client account the load loop uses. */
  appUser: 'app';
  /** A table on the primary (replicated) whose columns all have defaults: the load loop's write target. */
  table: string;
  /** Stops both servers (replica first) and both sshd; the scope would do it too. Safe to call twice. */
  stop(): Promise<void>;
}

const NAMES = ['db1', 'db2'] as const;
/** The load loop's table: every column has a default, so `INSERT INTO t () VALUES ()` works. */
export const LOAD_TABLE = 'dbtls_load.ticks';

async function mariadbClient(): Promise<string> {
  const bins = await findMariadb();
  if (!bins) throw new Error('MariaDB not found (need mariadbd, mariadb-install-db, mariadb); run `make system-deps`');
  return bins.client;
}

// The client must not pick up a developer's MYSQL_HOST / MYSQL_PWD etc. (as in the harness).
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MYSQL_') || k.startsWith('MARIADB_')) delete env[k];
  return env;
}

/** Runs a SQL file as root over the server's socket (`mariadb < FILE`, as the files' headers say). */
export async function applySqlFile(server: MariadbServer, file: string): Promise<void> {
  const r = await run(await mariadbClient(), ['--no-defaults', `--socket=${server.socket}`, '-uroot'], {
    input: await readFile(file, 'utf8'),
    env: cleanEnv(),
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`${file} failed on the server at port ${server.port} (${r.code}): ${r.stderr}`);
}

/** SHOW SLAVE STATUS as field → value (empty when the server is no replica). */
export async function slaveStatus(server: MariadbServer): Promise<Record<string, string>> {
  const r = await run(
    await mariadbClient(),
    ['--no-defaults', `--socket=${server.socket}`, '-uroot', '-B', '-e', 'SHOW SLAVE STATUS'],
    {
      env: cleanEnv(),
      timeoutMs: 30_000,
    },
  );
  if (r.code !== 0) throw new Error(`SHOW SLAVE STATUS failed (${r.code}): ${r.stderr}`);
  const [names, values] = r.stdout.split('\n');
  if (!names || !values) return {};
  const v = values.split('\t');
  return Object.fromEntries(names.split('\t').map((n, i) => [n, v[i] ?? '']));
}

/** Polls PROBE every 100 ms until it returns a value, or throws after timeoutMs naming WHAT. */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the replica's IO and SQL threads both run; returns the status (throws with it otherwise). */
export async function waitReplicating(replica: MariadbServer, timeoutMs = 20_000): Promise<Record<string, string>> {
  let last: Record<string, string> = {};
  return poll(
    'Slave_IO_Running and Slave_SQL_Running = Yes',
    async () => {
      last = await slaveStatus(replica);
      return last.Slave_IO_Running === 'Yes' && last.Slave_SQL_Running === 'Yes' ? last : undefined;
    },
    timeoutMs,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last status: ${JSON.stringify(last)}`);
  });
}

/**
 * Inserts a fresh marker row on the primary and waits until the replica has it, then until the
 * replica holds every row the primary had at that moment. Returns the marker.
 */
export async function checkReplicates(cluster: TlsCluster, timeoutMs = 20_000): Promise<string> {
  const marker = `marker-${randomBytes(6).toString('hex')}`;
  await cluster.primary.server.sql(`INSERT INTO ${LOAD_TABLE} (note) VALUES ('${marker}')`);
  const count = Number((await cluster.primary.server.sql(`SELECT COUNT(*) FROM ${LOAD_TABLE}`)).trim());
  await poll(
    `${marker} and ${count} rows on the replica`,
    async () => {
      const r = (
        await cluster.replica.server.sql(`SELECT COUNT(*), SUM(note = '${marker}') FROM ${LOAD_TABLE}`).catch(() => '')
      )
        .trim()
        .split('\t');
      return Number(r[0]) >= count && r[1] === '1' ? true : undefined;
    },
    timeoutMs,
  );
  return marker;
}

/** The serial (normalized) of a PEM certificate file, as OpenSSL reads it. */
export async function fileSerial(path: string): Promise<string> {
  const r = await run('openssl', ['x509', '-noout', '-serial', '-in', path], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`openssl x509 -serial -in ${path} failed: ${r.stderr}`);
  return normalizeSerial(r.stdout);
}

/**
 * The certificate a MySQL-protocol server serves, as `openssl s_client -starttls mysql` sees it
 * (no verification: this only reads what is served). Returns its PEM and normalized serial.
 */
export async function servedCertificate(port: number, host = '127.0.0.1'): Promise<{ pem: string; serial: string }> {
  const r = await run('openssl', ['s_client', '-starttls', 'mysql', '-connect', `${host}:${port}`], {
    input: '',
    timeoutMs: 15_000,
  });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(r.stdout)?.[0];
  if (!pem)
    throw new Error(
      `openssl s_client -starttls mysql -connect ${host}:${port} showed no certificate (${r.code}): ${r.stdout.slice(0, 2000)}${r.stderr}`,
    );
  const x = await run('openssl', ['x509', '-noout', '-serial'], { input: pem, timeoutMs: 10_000 });
  if (x.code !== 0) throw new Error(`openssl x509 -serial failed: ${x.stderr}`);
  return { pem, serial: normalizeSerial(x.stdout) };
}

/** The serial (normalized) the PKI directory's manifest records for NODE's server certificate. */
export async function manifestServerSerial(pki: string, node: string): Promise<string> {
  const m = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8')) as {
    certificates: Array<{ owner: { kind: string; name: string }; profile: string; serial: string; cert: string }>;
  };
  const rec = m.certificates.find(
    (c) => c.owner.kind === 'node' && c.owner.name === node && c.cert.endsWith('server-cert.pem'),
  );
  if (!rec) throw new Error(`no server certificate for node ${node} in ${pki}/manifest.json`);
  return normalizeSerial(rec.serial);
}

async function distinctPorts(n: number, avoid: number[]): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; ports.length < n && i < 100; i++) {
    const p = await freePort();
    if (!ports.includes(p) && !avoid.includes(p)) ports.push(p);
  }
  if (ports.length < n) throw new Error('could not find distinct free ports');
  return ports;
}

/**
 * Starts the bed: 2 sshd, inventory, `dbtls apply`, 2 mariadbd on the delivered files, accounts,
 * replication db2 ← db1 over verified TLS, a table whose rows are checked to replicate. Everything
 * is stopped and removed when SCOPE ends. T (a TestContext, optional) gets timing diagnostics.
 */
export async function startTlsCluster(
  scope: Scope,
  t?: { diagnostic(message: string): void } | null,
  opts: TlsClusterOptions = {},
): Promise<TlsCluster> {
  const began = Date.now();
  const note = (what: string) => t?.diagnostic(`tls-cluster: ${what} at ${Date.now() - began} ms`);
  const client = await mariadbClient();
  const sshPath = await which('ssh', ['/usr/bin', '/usr/local/bin']);
  if (!sshPath) throw new Error('ssh (OpenSSH client) not found; run `make system-deps`');

  const dir = await tempDir(scope, 'dbtls-tls-cluster-');
  const sshd = await startSshdFleet(scope, 2);
  const sqlPorts = await distinctPorts(
    2,
    sshd.map((s) => s.port),
  );
  note('sshd up');
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, sshd.map((s) => s.knownHostsLine()).join('\n') + '\n');
  const identityFile = sshd[0]!.clientKeyPath;
  const dest = (i: number) => join(dir, 'remote', NAMES[i]!, 'ssl');
  for (let i = 0; i < 2; i++) await mkdir(dest(i), { recursive: true, mode: 0o755 });

  const testNodes = (reload?: (i: number) => string): TestNode[] =>
    NAMES.map((name, i) => ({
      name,
      host: '127.0.0.1',
      roles: ['mariadb'],
      // The host (127.0.0.1) is a SAN already; localhost adds `localhost` too.
      localhost: true,
      port: sqlPorts[i]!,
      dest: dest(i),
      ...(i === 1 ? { replicaOf: 'db1' } : {}),
      transport: 'ssh' as const,
      ssh: { port: sshd[i]!.port, user: 'root', identityFile, knownHostsFile: knownHosts },
      ...(reload ? { reload: reload(i) } : {}),
    }));
  const inventory = (reload?: (i: number) => string) =>
    writeInventory(dir, {
      nodes: testNodes(reload),
      clients: ['app', ...(opts.moreClients ?? [])],
      ...(opts.crlDays !== undefined ? { crlDays: opts.crlDays } : {}),
      ...(opts.intermediate ? { intermediate: true } : {}),
      ...(opts.caCommonName ? { caCommonName: opts.caCommonName } : {}),
      ...(opts.leafDays !== undefined ? { leafDays: opts.leafDays } : {}),
      ...(opts.leafKeyType ? { leafKeyType: opts.leafKeyType } : {}),
      ...(opts.caKeyType ? { caKeyType: opts.caKeyType } : {}),
    });
  const inv = await inventory();
  const pki = join(dir, 'pki');

  const applied = await dbtls(['apply', '-i', inv, '--json', '--reload', 'never'], { timeoutMs: 120_000 });
  if (applied.code !== 0) throw new Error(`dbtls apply failed (${applied.code}): ${applied.stdout}\n${applied.stderr}`);
  note('apply done');

  // Each server reads the node's delivered my.cnf through `!include`; the primary writes a binary log.
  const startNode = async (i: number): Promise<MariadbServer> => {
    const cnf = join(dir, `${NAMES[i]}-server.cnf`);
    await writeFile(cnf, `!include ${join(dest(i), 'dbtls', 'my.cnf')}\n`);
    // A private tmpdir: another test's mariadbd starting up would delete this one's temporary tables in /tmp.
    const tmp = join(dir, `${NAMES[i]}-tmp`);
    await mkdir(tmp, { recursive: true });
    const serverArgs = [`--tmpdir=${tmp}`, ...(i === 0 ? ['--log-bin=db1-bin', '--server-id=1'] : ['--server-id=2'])];
    // mariadb-install-db sometimes fails ("Unknown table 'mysql.tmp_user_sys'") when another mariadbd
    // starts meanwhile: every mariadbd clears the shared tmpdir's #sql* files at start-up, and the
    // bootstrap's temporary tables live there (/tmp). A fresh attempt gets a fresh datadir.
    for (let attempt = 1; ; attempt++) {
      try {
        return await startMariadb(scope, { defaultsFile: cnf, port: sqlPorts[i]!, serverArgs });
      } catch (e) {
        if (attempt >= 3 || !/mariadb-install-db failed/.test((e as Error).message)) throw e;
        note(`${NAMES[i]}: mariadb-install-db failed, attempt ${attempt + 1}`);
      }
    }
  };
  const servers = await Promise.all([startNode(0), startNode(1)]);
  const [primary, replica] = servers as [MariadbServer, MariadbServer];
  note('mariadbd up');

  // Accounts on both (db1's binary log carries them to db2 as well: IF NOT EXISTS keeps that harmless),
  // the load table and app's privileges on it, then replication.
  await applySqlFile(primary, join(dest(0), 'dbtls', 'users.sql'));
  await applySqlFile(replica, join(dest(1), 'dbtls', 'users.sql'));
  await primary.sql(
    'CREATE DATABASE dbtls_load; ' +
      `CREATE TABLE ${LOAD_TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)); ` +
      "GRANT SELECT, INSERT ON dbtls_load.* TO 'app'@'%'",
  );
  await applySqlFile(replica, join(dest(1), 'dbtls', 'replication.sql'));
  await waitReplicating(replica);
  note('replicating');

  const nodes = NAMES.map((name, i): ClusterNode => {
    const server = servers[i]!;
    const s = sshd[i]!;
    const files = {
      ca: join(dest(i), 'ca.pem'),
      cert: join(dest(i), 'server-cert.pem'),
      key: join(dest(i), 'server-key.pem'),
    };
    return {
      name,
      role: i === 0 ? 'primary' : 'replica',
      sshd: s,
      sshPort: s.port,
      dest: dest(i),
      server,
      port: server.port,
      reloadCommand: shellCommand([client, '--no-defaults', `--socket=${server.socket}`, '-uroot', '-e', 'FLUSH SSL']),
      files,
      ssh: (command, timeoutMs = 30_000) =>
        run(sshPath, [...opensshArgs(s, identityFile, knownHosts), command], { timeoutMs, env: cleanEnv() }),
    };
  }) as [ClusterNode, ClusterNode];

  if (opts.reload) {
    const reload = opts.reload;
    await inventory((i) => {
      const n = nodes[i]!;
      return reload({
        name: n.name,
        dest: n.dest,
        port: n.port,
        sshPort: n.sshPort,
        socket: n.server.socket,
        reloadCommand: n.reloadCommand,
      });
    });
  }

  let stopped: Promise<void> | undefined;
  const cluster: TlsCluster = {
    dir,
    inv,
    pki,
    knownHosts,
    identityFile,
    nodes,
    primary: nodes[0],
    replica: nodes[1],
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name} in the TLS cluster`);
      return n;
    },
    servers,
    appFiles: {
      ca: join(pki, 'ca.pem'),
      cert: join(pki, 'clients', 'app', 'client-cert.pem'),
      key: join(pki, 'clients', 'app', 'client-key.pem'),
    },
    appUser: 'app',
    table: LOAD_TABLE,
    stop: () =>
      (stopped ??= (async () => {
        await replica.stop();
        await primary.stop();
        await Promise.all(sshd.map((s) => s.stop()));
      })()),
  };

  await checkReplicates(cluster);
  note('rows replicate');
  return cluster;
}
