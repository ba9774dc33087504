// A test bed for Galera rotation: three MariaDB Galera nodes on 127.0.0.1, .2 and .3 (test/helpers/galera.ts),
// each a dbtls node reached through its own sshd on the same address. `dbtls apply` issues, renders
// and pushes; each mariadbd then starts on the DELIVERED snippets only (it `!include`s the pushed
// <dest>/dbtls/my.cnf and galera.cnf: server TLS, the merged wsrep_provider_options line, [sst]), so
// the cluster forms the way an operator's would, and a later push + reload rotates what it serves.
// Each sshd session gets MYSQL_HOME (sshd_config SetEnv) naming a my.cnf whose [client] has the node's
// socket — as /etc/mysql/my.cnf does on a real node — so dbtls's DEFAULT reload for a Galera node
// (the mariadb client as root over the node's socket) runs unchanged.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeInventory, type TestNode } from './inventory.js';
import { startGalera, type GaleraCluster, type GaleraNode } from './galera.js';
import { dbtls } from './run.js';
import { sharedClientKey, startSshd, type SshdServer } from './sshd.js';
import { tempDir } from './tmp.js';
import type { TlsFiles } from './load-loop.js';
import type { Scope } from './scope.js';

export const GALERA_TABLE = 'dbtls_load.ticks';

export interface BedNode {
  name: string;
  host: string;
  sshd: SshdServer;
  dest: string;
  server: GaleraNode;
}

export interface GaleraBed {
  dir: string;
  inv: string;
  pki: string;
  nodes: BedNode[];
  cluster: GaleraCluster;
  appFiles: TlsFiles;
  /** Rewrites the inventory; CHANGE may alter each node's entry (a reload hook, say). */
  writeInventory(change?: (node: TestNode, i: number) => TestNode): Promise<void>;
}

const NAMES = ['g1', 'g2', 'g3'];

export async function startGaleraBed(scope: Scope, note: (what: string) => void = () => {}): Promise<GaleraBed> {
  const began = Date.now();
  const step = (what: string) => note(`galera-bed: ${what} at ${Date.now() - began} ms`);
  const dir = await tempDir(scope, 'dbtls-galera-bed-');
  await chmod(dir, 0o755); // the nodes run as mysql and read their delivered files below it
  // The servers are created first (not started): their sockets go into each sshd's environment.
  const cluster = await startGalera(scope, [], {
    includes: (i) => [join(dest(i - 1), 'dbtls', 'my.cnf'), join(dest(i - 1), 'dbtls', 'galera.cnf')],
  });
  const unused = { cert: '', key: '', ca: '' }; // the delivered snippets name the files
  for (let i = 0; i < 3; i++) await cluster.addNode(unused);
  const clientKey = await sharedClientKey(scope);
  const sshd = await Promise.all(
    cluster.nodes.map(async (n, i) => {
      const home = join(dir, 'client-home', NAMES[i]!);
      await mkdir(home, { recursive: true });
      await writeFile(join(home, 'my.cnf'), `[client]\nsocket = ${n.socket}\nuser = root\n`);
      return startSshd(scope, { clientKey, listenAddress: n.host, extraConfig: [`SetEnv MYSQL_HOME=${home}`] });
    }),
  );
  step('sshd up');
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, sshd.map((s) => s.knownHostsLine()).join('\n') + '\n');
  function dest(i: number): string {
    return join(dir, 'remote', NAMES[i]!, 'ssl');
  }
  for (let i = 0; i < 3; i++) await mkdir(dest(i), { recursive: true, mode: 0o755 });

  const base = (i: number): TestNode => {
    const host = cluster.nodes[i]!.host;
    return {
      name: NAMES[i]!,
      host,
      roles: ['mariadb', 'galera'],
      port: 3306,
      dest: dest(i),
      transport: 'ssh',
      ssh: { port: sshd[i]!.port, user: 'root', identityFile: clientKey.path, knownHostsFile: knownHosts },
      // mariadbd runs as mysql: it must read its key.
      owner: 'mysql',
      group: 'mysql',
      galera: { providerOptions: `gmcast.listen_addr=tcp://${host}:4567; ist.recv_addr=${host}:4568; gcache.size=16M` },
    };
  };
  let inv = '';
  const rewrite = async (change?: (node: TestNode, i: number) => TestNode) => {
    inv = await writeInventory(dir, {
      cluster: 'galera',
      nodes: NAMES.map((_, i) => (change ? change(base(i), i) : base(i))),
      clients: ['app'],
    });
  };
  await rewrite();
  const applied = await dbtls(['apply', '-i', inv, '--json', '--reload', 'never'], { timeoutMs: 120_000 });
  if (applied.code !== 0) throw new Error(`dbtls apply failed (${applied.code}): ${applied.stdout}\n${applied.stderr}`);
  step('apply done');

  // The first node bootstraps; the others join by SST (rsync through stunnel, as the [sst] section says).
  for (const n of cluster.nodes) await n.start({ waitSynced: true });
  step('cluster synced');
  const g1 = cluster.nodes[0]!;
  await g1.sql((await readFile(join(dest(0), 'dbtls', 'users.sql'), 'utf8')).replace(/^\s*--.*$/gm, ''));
  await g1.sql(
    'CREATE DATABASE dbtls_load; ' +
      `CREATE TABLE ${GALERA_TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)); ` +
      "GRANT SELECT, INSERT ON dbtls_load.* TO 'app'@'%'",
  );
  // Accounts and DDL replicate to every member (TOI): wait until each has them.
  for (const n of cluster.nodes) {
    const deadline = Date.now() + 30_000;
    while ((await n.sql("SELECT COUNT(*) FROM mysql.user WHERE user = 'app'").catch(() => '')).trim() !== '1') {
      if (Date.now() > deadline) throw new Error(`${n.host}: the app account did not arrive`);
      await sleep(100);
    }
  }
  step('accounts everywhere');
  return {
    dir,
    get inv() {
      return inv;
    },
    pki: join(dir, 'pki'),
    nodes: cluster.nodes.map((server, i) => ({
      name: NAMES[i]!,
      host: server.host,
      sshd: sshd[i]!,
      dest: dest(i),
      server,
    })),
    cluster,
    appFiles: {
      ca: join(dir, 'pki', 'ca.pem'),
      cert: join(dir, 'pki', 'clients', 'app', 'client-cert.pem'),
      key: join(dir, 'pki', 'clients', 'app', 'client-key.pem'),
    },
    writeInventory: rewrite,
  };
}

/** Samples wsrep_cluster_size on every node every 200 ms until stopped: the smallest size any node reported. */
export function watchClusterSize(bed: GaleraBed): { stop(): Promise<{ min: number; samples: number; low: string[] }> } {
  let running = true;
  let min = Infinity;
  let samples = 0;
  const low: string[] = [];
  const loop = (async () => {
    const deadline = Date.now() + 10 * 60_000; // bounded even if never stopped
    while (running && Date.now() < deadline) {
      const sizes = await Promise.all(bed.nodes.map((n) => n.server.status('wsrep_cluster_size')));
      sizes.forEach((s, i) => {
        const size = Number(s || 0);
        if (size < 3 && low.length < 20)
          low.push(`${new Date().toISOString()} ${bed.nodes[i]!.name}: ${s || 'no answer'}`);
        min = Math.min(min, size);
      });
      samples++;
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { min, samples, low };
    },
  };
}
