// What templates see: the cluster, the node being rendered (with the paths its files will have on
// it after the push), the accounts that authenticate by certificate, and the links between nodes.
// Built from the inventory and the issued certificates, never from the templates' own logic.
import { basename, join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { crlPath, isMysqlFamily, nodePaths, type NodePaths } from '../deliver/layout.js';
import { pkiLayout } from '../store/pki-dir.js';
import { readManifest } from '../store/manifest.js';
import { nodeClientCn } from '../issue/plan.js';
import { inputError, isDbtlsError } from '../errors.js';
import { readFileNoFollow, readIfExists } from '../store/safe-fs.js';
import { onelineOrRefuse } from './x509-name.js';
import {
  TIDB_STACK,
  type Cluster,
  type GrSslMode,
  type GrStack,
  type NodeSpec,
  type Role,
  type SstMethod,
} from '../inventory/model.js';

/** An account that logs in with its certificate: `CREATE USER … REQUIRE SUBJECT … AND ISSUER …`. */
/** The node's paths, with its CRL's when revocation is on and its server reads one. */
function withCrl(cluster: Cluster, n: NodeSpec): NodePaths {
  const crl = crlPath(cluster, n);
  return crl ? { ...nodePaths(n), crl } : nodePaths(n);
}

export interface CertAccount {
  user: string;
  /** The certificate's subject as MySQL and MariaDB compare it (X509_NAME_oneline: "/C=DE/O=Example/CN=app"). */
  subject: string;
  issuer: string;
}

export type Flavor = 'mysql' | 'mariadb';

export interface RenderNode {
  name: string;
  host: string;
  port: number;
  adminPort: number;
  roles: string[];
  /** MySQL-family servers: which spellings apply (MariaDB has no ssl-mode, no CHANGE REPLICATION SOURCE). */
  flavor?: Flavor;
  version?: string;
  paths: NodePaths;
  /** This node's own client identity (replication, ProxySQL backends, cluster links). */
  account: CertAccount;
  /** Galera nodes: the group channel (gcomm/IST) and state transfer settings. */
  galera?: RenderGalera;
  /** Set when the node replicates from another. */
  source?: { name: string; host: string; port: number; syntax: 'source' | 'master' };
  /** Set when the node is a Group Replication member. */
  groupReplication?: RenderGroupReplication;
}

export interface RenderGroupReplication {
  stack: GrStack;
  sslMode: GrSslMode;
  /** group_replication_local_address as MySQL writes it: host:port, an IPv6 address in brackets. */
  localAddress: string;
  /**
   * The subject and issuer of the certificate the member presents to the others (its server certificate,
   * serverAuth + clientAuth), in the X509_NAME_oneline form the AdminAPI's certSubject/certIssuer compare.
   */
  certSubject: string;
  certIssuer: string;
}

export interface RenderGalera {
  /** The whole wsrep_provider_options value: the inventory's options, then socket.ssl_cert/key/ca. */
  providerOptions: string;
  port: number;
  sst: SstMethod;
  /** Percona XtraDB Cluster (pxc-encrypt-cluster-traffic, [sst] encrypt=4). */
  pxc: boolean;
}

export interface RenderClient {
  name: string;
  account: CertAccount;
  keystore?: string;
  /** Local paths of the client's files in the PKI directory (clients run where the user puts them). */
  files: { ca: string; cert: string; key: string; keystore?: string; truststore?: string };
  /** The node the client's settings dial; `ip` when its host is an IP address (TLS has no server name for it). */
  target: { name: string; host: string; port: number; ip: boolean };
}

export interface RenderContext {
  generator: string;
  inventory: string;
  cluster: { name: string; ca: { subject: string } };
  node: RenderNode;
  nodes: RenderNode[];
  /** Accounts other nodes use to replicate from this one. */
  replicas: CertAccount[];
  clients: RenderClient[];
  /** ProxySQL, MaxScale: the MySQL-family servers behind it, writers in hostgroup 10, replicas in 20. */
  backends: Array<{ name: string; host: string; port: number; hostgroup: number; role: 'writer' | 'replica' }>;
  /**
   * The TiDB stack: the CNs of every TiDB, PD, TiKV, TiFlash, TiCDC and TiProxy node's certificates (server
   * and client), for cluster-verify-cn / cert-allowed-cn, so that every component accepts every other.
   */
  clusterCns: string[];
  /** The roles some node of the cluster has (sorted), e.g. PD's Dashboard settings need a TiDB. */
  clusterRoles: string[];
  /** The Group Replication members, in inventory order (the first one seeds the group). */
  groupMembers: RenderNode[];
  /** The Java store password (Tungsten's tpm and JDBC settings need it in clear), when stores exist. */
  storepass?: string;
  tls: { versions: string[] };
}

/** The roles a client dials by default, first found first: the proxies, then TiDB's SQL layer. */
export const ENTRY_ROLES: readonly Role[] = ['proxysql', 'maxscale', 'mysqlrouter', 'tidb'];

function flavorOf(node: NodeSpec): Flavor | undefined {
  if (!isMysqlFamily(node)) return undefined;
  return node.roles.includes('mysql') || node.roles.includes('percona') ? 'mysql' : 'mariadb';
}

/** CHANGE REPLICATION SOURCE TO exists from MySQL 8.0.23; MariaDB and older MySQL say MASTER. */
export function replicationSyntax(flavor: Flavor | undefined, version: string | undefined): 'source' | 'master' {
  if (flavor !== 'mysql') return 'master';
  if (!version) return 'source';
  const [maj, min, patch] = version.split('.').map(Number) as [number, number, number | undefined];
  return maj > 8 || (maj === 8 && (min > 0 || (patch ?? 0) >= 23)) ? 'source' : 'master';
}

/**
 * One provider line, because Galera reads only the last wsrep_provider_options: the node's own options
 * first, then the certificate files (paths are `dest` paths, whose rule allows no ";", "=" or quote).
 */
function renderGalera(n: NodeSpec): RenderGalera {
  const g = n.galera!;
  const paths = nodePaths(n);
  const options: Array<[string, string]> = [
    ...g.providerOptions,
    ['socket.ssl_cert', paths.serverCert],
    ['socket.ssl_key', paths.serverKey],
    ['socket.ssl_ca', paths.ca],
  ];
  return {
    providerOptions: options.map(([k, v]) => `${k}=${v}`).join(';'),
    port: g.port,
    sst: g.sst,
    pxc: n.roles.includes('pxc'),
  };
}

/** A certificate of the PKI directory, read without following links, or "run issue first". */
async function certificateDer(root: string, rel: string): Promise<Buffer> {
  const file = join(root, rel);
  try {
    return Buffer.from(new X509Certificate(await readFileNoFollow(file)).raw);
  } catch (e) {
    if (isDbtlsError(e)) throw e; // a link, a non-regular file, a file too large: said as it is
    throw inputError('not-issued', `${file} is missing or unreadable`, { file }, 'run dbtls issue first');
  }
}

const NAME_HINT =
  'change the subject (or commonName) in the inventory to leave out "/", "+" and "\\x", and run dbtls issue again';

/** The subject (or issuer) of a certificate of the PKI directory as MySQL and MariaDB compare it (X509_NAME_oneline). */
async function onelineOf(root: string, rel: string, which: 'subject' | 'issuer'): Promise<string> {
  return onelineOrRefuse(await certificateDer(root, rel), which, join(root, rel), NAME_HINT);
}

/** host:port, an IPv6 address in brackets (as group_replication_local_address and MySQL Shell take it). */
function hostPort(a: { host: string; port: number }): string {
  return `${isIP(a.host) === 6 ? `[${a.host}]` : a.host}:${a.port}`;
}

export interface ClusterRenderData {
  contexts: Map<string, RenderContext>;
  clients: RenderClient[];
}

/** Builds every node's context at once (nodes refer to each other). */
export async function buildContexts(cluster: Cluster, generator: string): Promise<ClusterRenderData> {
  const layout = pkiLayout(cluster.pki);
  await readManifest(layout.manifest, cluster.cluster); // refuses a PKI directory of another cluster
  const caSubject = await onelineOf(layout.root, 'ca.pem', 'subject');
  const storepass = (await readIfExists(join(layout.root, 'storepass')))?.toString('utf8').replace(/\r?\n$/, '');
  // The issuer is read from each certificate itself (what the server compares), not assumed to be the CA's subject.
  const account = async (user: string, certRel: string): Promise<CertAccount> => ({
    user,
    subject: await onelineOf(layout.root, certRel, 'subject'),
    issuer: await onelineOf(layout.root, certRel, 'issuer'),
  });

  const byName = new Map(cluster.nodes.map((n) => [n.name, n]));
  const nodes: RenderNode[] = await Promise.all(
    cluster.nodes.map(async (n) => {
      const flavor = flavorOf(n);
      const src = n.replicaOf ? byName.get(n.replicaOf) : undefined;
      return {
        name: n.name,
        host: n.host,
        port: n.port,
        adminPort: n.adminPort,
        roles: [...n.roles],
        ...(flavor ? { flavor } : {}),
        ...(n.version ? { version: n.version } : {}),
        paths: withCrl(cluster, n),
        ...(n.galera ? { galera: renderGalera(n) } : {}),
        account: await account(nodeClientCn(n), `nodes/${n.name}/client-cert.pem`),
        ...(src
          ? { source: { name: src.name, host: src.host, port: src.port, syntax: replicationSyntax(flavor, n.version) } }
          : {}),
        ...(n.groupReplication
          ? {
              groupReplication: {
                stack: n.groupReplication.stack,
                sslMode: n.groupReplication.sslMode,
                localAddress: hostPort(n.groupReplication.localAddress),
                certSubject: await onelineOf(layout.root, `nodes/${n.name}/server-cert.pem`, 'subject'),
                certIssuer: await onelineOf(layout.root, `nodes/${n.name}/server-cert.pem`, 'issuer'),
              },
            }
          : {}),
      };
    }),
  );
  const renderNodes = new Map(nodes.map((n) => [n.name, n]));

  // A client dials its connectTo, else a proxy (ProxySQL, MaxScale, MySQL Router, in that order), else a
  // TiDB, else the first server that is not a replica.
  const entry =
    ENTRY_ROLES.map((r) => nodes.find((n) => n.roles.includes(r))).find(Boolean) ??
    nodes.find((n) => n.flavor && !n.source) ??
    nodes[0]!;
  const clients: RenderClient[] = await Promise.all(
    cluster.clients.map(async (c) => {
      const dir = join(layout.root, 'clients', c.name);
      const ext = c.keystore === 'pkcs12' ? 'p12' : 'jks';
      const target = c.connectTo ? renderNodes.get(c.connectTo)! : entry;
      return {
        name: c.name,
        account: await account(c.name, `clients/${c.name}/client-cert.pem`),
        ...(c.keystore ? { keystore: c.keystore } : {}),
        files: {
          ca: layout.ca,
          cert: join(dir, 'client-cert.pem'),
          key: join(dir, 'client-key.pem'),
          ...(c.keystore ? { keystore: join(dir, `keystore.${ext}`), truststore: join(dir, `truststore.${ext}`) } : {}),
        },
        target: { name: target.name, host: target.host, port: target.port, ip: isIP(target.host) !== 0 },
      };
    }),
  );

  const backends = nodes
    .filter((n) => n.flavor)
    .map((n) => ({
      name: n.name,
      host: n.host,
      port: n.port,
      hostgroup: n.source ? 20 : 10,
      role: n.source ? ('replica' as const) : ('writer' as const),
    }));
  // No `<cluster>-client` CN (the certificate TiUP controls a cluster with, REFERENCE-2 §3): dbtls issues
  // none, and an inventory client that happened to have that name is an application, not a component.
  const clusterCns = cluster.nodes
    .filter((n) => n.roles.some((r) => TIDB_STACK.includes(r)))
    .flatMap((n) => [n.name, nodeClientCn(n)]);
  const clusterRoles = [...new Set(cluster.nodes.flatMap((n) => n.roles))].sort();
  const groupMembers = nodes.filter((n) => n.groupReplication);

  const contexts = new Map<string, RenderContext>();
  for (const node of nodes) {
    contexts.set(node.name, {
      generator,
      // It lands in comments: a line break in a file name must not start a config line.
      inventory: basename(cluster.file).replace(/[\r\n\u2028\u2029]/g, '?'),
      cluster: { name: cluster.cluster, ca: { subject: caSubject } },
      node,
      nodes,
      replicas: nodes.filter((n) => n.source?.name === node.name).map((n) => n.account),
      clients,
      backends: backends.filter((b) => b.name !== node.name),
      clusterCns,
      clusterRoles,
      groupMembers,
      ...(storepass !== undefined ? { storepass } : {}),
      tls: { versions: ['TLSv1.2', 'TLSv1.3'] },
    });
  }
  return { contexts, clients };
}
