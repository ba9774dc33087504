// The cluster as dbtls sees it once an inventory (dbtls YAML or Ansible INI/YAML) is loaded and
// validated. Every later step (issue, render, push, check) reads this model, never the raw file.
import type { RsaKeySize } from '../pki/keys.js';
import type { StoreType } from '../keystore/types.js';

export const ROLES = ['mysql', 'mariadb', 'percona', 'tidb', 'pd', 'tikv', 'proxysql', 'tungsten'] as const;
export type Role = (typeof ROLES)[number];

/** Roles whose servers use the caching_sha2_password / sha256_password RSA key pair. */
export const RSA_PAIR_ROLES: readonly Role[] = ['mysql', 'percona'];

export const TRANSPORTS = ['ssh', 'local'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface SshSettings {
  user?: string;
  port?: number;
  identityFile?: string;
  knownHostsFile?: string;
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
  keySize: RsaKeySize;
}

export interface LeafSettings {
  days: number;
  keySize: RsaKeySize;
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
}

export interface ClientSpec {
  name: string;
  /** CN of the client certificate (default: the name). */
  commonName: string;
  /** Also make a Java keystore (key + chain) and truststore (CA) of this type. */
  keystore?: StoreType;
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
  ca: { days: 3650, keySize: 2048 as RsaKeySize },
  leaf: { days: 825, keySize: 2048 as RsaKeySize, localhost: false },
  ssh: { user: 'root', port: 22 },
};
