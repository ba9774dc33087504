// What `dbtls init` has collected once every question is answered: enough to write the inventory.
// Paths are absolute (or start with `~/`, kept so the inventory stays portable between users).
import type { Role, SubjectFields, Transport } from '../inventory/model.js';
import type { RsaKeySize } from '../pki/keys.js';
import type { StoreType } from '../keystore/types.js';
import type { NodeAnswer } from './nodes.js';

export interface SshAnswers {
  user: string;
  port: number;
  identityFile?: string;
  knownHostsFile?: string;
  /** `[user@]host[:port]`. */
  proxyJump?: string;
}

export interface ClientAnswer {
  name: string;
  commonName?: string;
  keystore?: StoreType;
}

export interface InitAnswers {
  cluster: string;
  /** The roles the cluster uses (what nodes were offered). */
  roles: Role[];
  /** The transport of nodes that do not say otherwise. */
  transport: Transport;
  nodes: NodeAnswer[];
  /** Folder on the nodes for nodes that have none of their own; undefined: each role's default. */
  dest?: string;
  /** Only written when some node uses ssh. */
  ssh: SshAnswers;
  subject: SubjectFields;
  /** keyType, crlDays and intermediate come from an answers file only (the terminal does not ask). */
  ca: {
    commonName: string;
    days: number;
    keySize: RsaKeySize;
    keyType?: string;
    crlDays?: number;
    intermediate?: boolean;
  };
  leaf: { days: number; keySize: RsaKeySize; keyType?: string };
  clients: ClientAnswer[];
  /** The inventory file to write, absolute. */
  inventory: string;
  /** The PKI directory, absolute. */
  pki: string;
}

/** The transport a node ends up with. */
export function transportOf(a: Pick<InitAnswers, 'transport'>, n: NodeAnswer): Transport {
  return n.transport ?? a.transport;
}
