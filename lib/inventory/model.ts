// The cluster as dbtls sees it once an inventory (dbtls YAML or Ansible INI/YAML) is loaded and
// validated. Every later step (issue, render, push, check) reads this model, never the raw file.
import type { KeyType } from '../pki/keys.js';
import type { StoreType } from '../keystore/types.js';

export const ROLES = [
  'mysql',
  'mariadb',
  'percona',
  'galera',
  'pxc',
  'tidb',
  'pd',
  'tikv',
  'tiflash',
  'ticdc',
  'tiproxy',
  'proxysql',
  'maxscale',
  'mysqlrouter',
  'tungsten',
] as const;
export type Role = (typeof ROLES)[number];

/** The TiDB stack: each component checks the others' certificate CNs (cert-allowed-cn, cluster-verify-cn). */
export const TIDB_STACK: readonly Role[] = ['tidb', 'pd', 'tikv', 'tiflash', 'ticdc', 'tiproxy'];

/** Roles that can run Group Replication (the MySQL plugin; MariaDB has none). */
export const GROUP_REPLICATION_ROLES: readonly Role[] = ['mysql', 'percona'];
/** group_replication_communication_stack: MYSQL is MySQL Shell's default for new clusters since 8.0.30. */
export const GR_STACKS = ['MYSQL', 'XCOM'] as const;
export type GrStack = (typeof GR_STACKS)[number];
/** group_replication_ssl_mode without DISABLED: dbtls does not render unencrypted group traffic. */
export const GR_SSL_MODES = ['REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type GrSslMode = (typeof GR_SSL_MODES)[number];

/** A node that is a Group Replication member (InnoDB Cluster), with its defaults applied. */
export interface GroupReplication {
  stack: GrStack;
  /** group_replication_local_address (default: the node's host; MYSQL stack: its SQL port, XCOM: that × 10 + 1). */
  localAddress: { host: string; port: number };
  sslMode: GrSslMode;
}

export const GR_DEFAULTS = { stack: 'MYSQL' as GrStack, sslMode: 'VERIFY_IDENTITY' as GrSslMode };

/** Roles whose servers use the caching_sha2_password / sha256_password RSA key pair. */
export const RSA_PAIR_ROLES: readonly Role[] = ['mysql', 'percona'];

export const TRANSPORTS = ['ssh', 'local'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface SshSettings {
  user?: string;
  port?: number;
  identityFile?: string;
  knownHostsFile?: string;
  /** The bastion the connection goes through (OpenSSH's ProxyJump); absent = direct. */
  proxyJump?: JumpHost;
}

/** One ProxyJump hop. Its host key is checked against the node's known_hosts; it authenticates with the node's identity. */
export interface JumpHost {
  /** Default: the node's ssh.user. */
  user: string;
  host: string;
  /** Default 22. */
  port: number;
}

/** Subject fields other than CN, applied to every certificate of the cluster (CA and leaves). */
export interface SubjectFields {
  C?: string;
  ST?: string;
  L?: string;
  O?: string;
  OU?: string;
}

export interface CaSettings {
  commonName: string;
  days: number;
  keyType: KeyType;
  /** Revocation is on: the CA signs a CRL valid this many days, delivered to the products that honour it. */
  crlDays?: number;
  /** An offline root and an online intermediate (valid `days`) that signs every leaf. */
  intermediate?: { days: number };
  /** The CA key is in this PKCS#11 token (never on disk); its PIN comes as the CA passphrase does. */
  pkcs11?: { module: string; token: string; label: string };
}

export interface LeafSettings {
  days: number;
  /** The key of every node and client certificate, unless a node says otherwise. */
  keyType: KeyType;
  /** Add localhost and 127.0.0.1 to every server certificate (default false). */
  localhost: boolean;
}

export interface NodeSpec {
  name: string;
  /** Address for SSH and a SAN (DNS name or IP). */
  host: string;
  roles: Role[];
  /** Extra SANs as the user wrote them (already validated). */
  sans: string[];
  /** Add localhost and 127.0.0.1 to this node's server certificate (default: leaf.localhost). */
  localhost: boolean;
  /** Absolute directory on the node; undefined = the per-role default (decided by delivery). */
  dest?: string;
  transport: Transport;
  /** Cluster-wide ssh settings merged with the node's overrides. */
  ssh: SshSettings;
  /**
   * The SQL port, or for a component without one its TLS service port (default by role: 3306, TiDB 4000,
   * ProxySQL 6033, PD 2379, TiKV 20160, TiFlash 3930, TiCDC 8300, TiProxy 6000, MaxScale 4006,
   * MySQL Router 6446); for the proxies, the port clients dial and the probe checks.
   */
  port: number;
  /** ProxySQL's admin port (default 6032). */
  adminPort: number;
  /** The node this one replicates from (MySQL-family replication over TLS). */
  replicaOf?: string;
  /** The server version, e.g. "8.0.22": older MySQL gets the MASTER_SSL_* spelling. */
  version?: string;
  /** The key of this node's server and client certificates (the inventory's keyType, else leaf.keyType). */
  keyType: KeyType;
  /** Owner and group of the delivered files on the node (default: the SSH user's). */
  owner?: string;
  group?: string;
  /** Install through `sudo -n` (for root-owned destinations when the SSH user is not root). */
  become?: 'sudo';
  /**
   * Shell command run on the node after its files changed (one line, written by the inventory's
   * owner); 'none' = no reload; undefined = the per-role default (decided by the reload step).
   */
  reload?: string;
  /** Set when the node is a Group Replication member (mysql/percona only). */
  groupReplication?: GroupReplication;
  /** Galera (role galera or pxc): the group channel's settings. */
  galera?: GaleraSettings;
}

/** Roles that make a MySQL-family server a Galera node: `galera` (MariaDB Galera, MySQL-wsrep) and `pxc` (Percona XtraDB Cluster). */
export const GALERA_ROLES: readonly Role[] = ['galera', 'pxc'];

export const SST_METHODS = ['rsync', 'mariabackup', 'xtrabackup-v2'] as const;
export type SstMethod = (typeof SST_METHODS)[number];

export interface GaleraSettings {
  /**
   * The node's other provider options (gcache.size, gmcast.segment, …) in the inventory's order:
   * Galera reads only the last wsrep_provider_options line, so the rendered line must carry them all.
   * socket.ssl_cert/key/ca are dbtls's and never here.
   */
  providerOptions: Array<[string, string]>;
  /** The group-communication port (gcomm, TLS from the first byte): what check --live probes. Default 4567. */
  port: number;
  /** The state-transfer method, which decides the [sst] TLS settings (MariaDB: rsync; PXC: xtrabackup-v2). */
  sst: SstMethod;
  /** The provider's version when the inventory gives it: before 26.4.8 certificates are read at start only. */
  providerVersion?: string;
}

export function isGaleraNode(node: Pick<NodeSpec, 'roles'>): boolean {
  return node.roles.some((r) => GALERA_ROLES.includes(r));
}

/** Roles that speak MySQL replication. */
export const MYSQL_FAMILY: readonly Role[] = ['mysql', 'mariadb', 'percona'];

/** The SQL port a node serves on when the inventory gives none: its first role's. */
export function defaultPort(roles: Role[]): number {
  const byRole: Record<Role, number> = {
    mysql: 3306,
    mariadb: 3306,
    percona: 3306,
    galera: 3306,
    pxc: 3306,
    tidb: 4000,
    proxysql: 6033,
    // The Read-Write-Listener of MaxScale's shipped etc/maxscale.cnf.template.
    maxscale: 4006,
    // The classic-protocol read-write port `mysqlrouter --bootstrap` configures.
    mysqlrouter: 6446,
    pd: 2379,
    tikv: 20160,
    // TiFlash's flash_service_port (TiDB's gRPC to it, TLS under [security]); its tcp_port 9000 is
    // ClickHouse's native protocol, which dbtls does not serve.
    tiflash: 3930,
    ticdc: 8300,
    tiproxy: 6000,
    tungsten: 3306,
  };
  const first = roles.find((r) => r !== 'tungsten') ?? roles[0];
  return first ? byRole[first] : 3306;
}

export interface ClientSpec {
  name: string;
  /** CN of the client certificate (default: the name). */
  commonName: string;
  /** Also make a Java keystore (key + chain) and truststore (CA) of this type. */
  keystore?: StoreType;
  /** The node its rendered connection settings point at (default: a ProxySQL, MaxScale or MySQL Router, else a TiDB, else the first source). */
  connectTo?: string;
}

export interface Cluster {
  cluster: string;
  /** The inventory file, absolute. */
  file: string;
  /** The local PKI directory, absolute (default <inventory dir>/pki/<cluster>). */
  pki: string;
  subject: SubjectFields;
  ca: CaSettings;
  leaf: LeafSettings;
  ssh: SshSettings;
  nodes: NodeSpec[];
  clients: ClientSpec[];
}

export const DEFAULTS = {
  ca: { days: 3650, keyType: 'rsa2048' as KeyType, intermediateDays: 1825 },
  leaf: { days: 825, keyType: 'rsa2048' as KeyType, localhost: false },
  ssh: { user: 'root', port: 22 },
};
