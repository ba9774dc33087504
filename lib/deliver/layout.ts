// Where each file lives on a node after the push. Rendered configs point at these paths, and the
// delivery plan copies to them, so both read them from here. Files keep the PKI directory's names in
// the node's `dest`, except where a product fixes its own (ProxySQL's datadir files, Tungsten's share).
import { posix } from 'node:path';
import { MYSQL_FAMILY, RSA_PAIR_ROLES, type Cluster, type NodeSpec, type Role } from '../inventory/model.js';
import { TUNGSTEN_STORES, JGROUPS_STORE } from '../issue/stores.js';

/** Per-role default for `dest` (the first of a node's roles that has one wins). */
export const DEFAULT_DEST: Record<Role, string> = {
  mysql: '/etc/mysql/ssl',
  mariadb: '/etc/mysql/ssl',
  percona: '/etc/mysql/ssl',
  // Outside the datadir: a state transfer (SST) wipes the joiner's datadir.
  galera: '/etc/mysql/ssl',
  pxc: '/etc/mysql/ssl',
  tidb: '/etc/tidb/tls',
  pd: '/etc/tidb/tls',
  tikv: '/etc/tidb/tls',
  tiflash: '/etc/tidb/tls',
  ticdc: '/etc/tidb/tls',
  tiproxy: '/etc/tidb/tls',
  proxysql: '/var/lib/proxysql',
  maxscale: '/etc/maxscale/ssl',
  mysqlrouter: '/etc/mysqlrouter/ssl',
  tungsten: '/opt/continuent/share',
};

/** ProxySQL reads its frontend certificate only from these fixed names in its datadir. */
export const PROXYSQL_DATADIR = '/var/lib/proxysql';
export const TUNGSTEN_SHARE = '/opt/continuent/share';

export interface NodePaths {
  dest: string;
  ca: string;
  /** The CRL, for a node whose server honours one, when the inventory turns revocation on (crlPath). */
  crl?: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** mysql/percona: the caching_sha2_password RSA pair. */
  rsa?: { private: string; public: string };
  proxysql?: { ca: string; cert: string; key: string };
  tungsten?: {
    keystore: string;
    truststore: string;
    tlsKeystore: string;
    connectorKeystore: string;
    connectorTruststore: string;
    jgroups: string;
  };
}

export function nodeDest(node: NodeSpec): string {
  if (node.dest) return node.dest;
  const role = node.roles.find((r) => r !== 'tungsten') ?? node.roles[0]!;
  return DEFAULT_DEST[role];
}

/**
 * Products that check certificates against a CRL file (REFERENCE-2 §4.1): MySQL, Percona and MariaDB
 * servers (ssl_crl, re-read by ALTER INSTANCE RELOAD TLS / FLUSH SSL), ProxySQL towards its backends
 * (mysql-ssl_p2s_crl), MaxScale's listener (ssl_crl), MySQL Router on both legs (client_ssl_crl,
 * server_ssl_crl). Galera's provider, the TiDB stack and ProxySQL's
 * frontend do not honour a CRL: revocation there means rotation.
 */
export const CRL_ROLES: readonly Role[] = ['mysql', 'mariadb', 'percona', 'proxysql', 'maxscale', 'mysqlrouter'];

/** Where the node's CRL goes, or undefined when revocation is off or its server does not read one. */
export function crlPath(cluster: Pick<Cluster, 'ca'>, node: NodeSpec): string | undefined {
  if (cluster.ca.crlDays === undefined || !node.roles.some((r) => CRL_ROLES.includes(r))) return undefined;
  return posix.join(nodeDest(node), 'crl.pem');
}

export function nodePaths(node: NodeSpec): NodePaths {
  const dest = nodeDest(node);
  const at = (name: string) => posix.join(dest, name);
  const paths: NodePaths = {
    dest,
    ca: at('ca.pem'),
    serverCert: at('server-cert.pem'),
    serverKey: at('server-key.pem'),
    clientCert: at('client-cert.pem'),
    clientKey: at('client-key.pem'),
  };
  if (node.roles.some((r) => RSA_PAIR_ROLES.includes(r)))
    paths.rsa = { private: at('private_key.pem'), public: at('public_key.pem') };
  if (node.roles.includes('proxysql')) {
    const d = (n: string) => posix.join(PROXYSQL_DATADIR, n);
    paths.proxysql = { ca: d('proxysql-ca.pem'), cert: d('proxysql-cert.pem'), key: d('proxysql-key.pem') };
  }
  if (node.roles.includes('tungsten')) {
    const s = (n: string) => posix.join(TUNGSTEN_SHARE, n);
    paths.tungsten = {
      keystore: s(TUNGSTEN_STORES.keystore),
      truststore: s(TUNGSTEN_STORES.truststore),
      tlsKeystore: s(TUNGSTEN_STORES.tlsKeystore),
      connectorKeystore: s(TUNGSTEN_STORES.connectorKeystore),
      connectorTruststore: s(TUNGSTEN_STORES.connectorTruststore),
      jgroups: s(JGROUPS_STORE),
    };
  }
  return paths;
}

export function isMysqlFamily(node: NodeSpec): boolean {
  return node.roles.some((r) => MYSQL_FAMILY.includes(r));
}

/** With ca.crlDays: what a node's products do with the CRL, for those that do not enforce it fully. */
export interface RevocationNote {
  node: string;
  enforced: 'partly' | 'no';
  note: string;
}

export function revocationNotes(cluster: Cluster): RevocationNote[] {
  if (cluster.ca.crlDays === undefined) return [];
  const out: RevocationNote[] = [];
  for (const n of cluster.nodes) {
    const rotate = `dbtls rotate leaf --node ${n.name} --all`;
    if (!crlPath(cluster, n))
      out.push({
        node: n.name,
        enforced: 'no',
        note: `not enforced: ${n.roles.join(', ')} read no CRL, so revocation here means rotation (${rotate})`,
      });
    else if (n.roles.includes('galera') || n.roles.includes('pxc'))
      out.push({
        node: n.name,
        enforced: 'partly',
        note: `the SQL port enforces the CRL; the Galera group channel and SST do not (there, ${rotate})`,
      });
    else if (n.roles.includes('proxysql'))
      out.push({
        node: n.name,
        enforced: 'partly',
        note: 'ProxySQL checks its backends against the CRL; its frontend does not check client certificates against it',
      });
  }
  return out;
}
