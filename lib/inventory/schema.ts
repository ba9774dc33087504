// The dbtls YAML inventory, key by key. This table is the public contract: to add a key, add a
// line here, a field to RawInventory (and to the model in build.ts), and a row in docs/inventory.md.
import * as rules from './rules.js';
import { bool, int, list, map, required, str, type MapSpec } from './walk.js';
import type { SshSettings, SubjectFields } from './model.js';
import { LIMITS } from './limits.js';
import { providerOptions } from './galera-options.js';

/** The ssh mapping as written: proxyJump is still text (`[user@]host[:port]` or `none`). */
export type RawSsh = Omit<SshSettings, 'proxyJump'> & { proxyJump?: string };

/** The ssh mapping (cluster-wide, per node, and in `dbtls init` answers). */
export const SSH_SPEC = map({
  user: str(rules.sshUser),
  port: int(rules.port),
  identityFile: str(rules.filePath),
  knownHostsFile: str(rules.filePath),
  proxyJump: str(rules.proxyJump),
});

/** Subject fields other than CN (also what `dbtls init --answers` takes). */
export const SUBJECT_SPEC = map({
  C: str(rules.country),
  ST: str(rules.subjectText(128)),
  L: str(rules.subjectText(128)),
  O: str(rules.subjectText(64)),
  OU: str(rules.subjectText(64)),
});

export const CA_SPEC = map({
  commonName: str(rules.commonName),
  days: int(rules.days),
  keySize: int(rules.keySize),
  keyType: str(rules.keyType),
  crlDays: int(rules.integerIn(1, 365)),
  // An offline root (ca.pem, its key sealed) and an online intermediate that signs every leaf.
  intermediate: bool(),
  intermediateDays: int(rules.days),
  // The CA key in a PKCS#11 token: it signs there and never leaves it (lib/pki/pkcs11.ts).
  pkcs11: map({
    module: required(str(rules.pkcs11Module)),
    token: required(str(rules.pkcs11Label(32))),
    label: required(str(rules.pkcs11Label(128))),
  }),
});

/** A Galera node's group-channel settings (roles galera or pxc). */
export const GALERA_SPEC = map({
  providerOptions: str(providerOptions),
  port: int(rules.port),
  sst: str(rules.sstMethod),
  providerVersion: str(rules.providerVersion),
});

export const INVENTORY_SCHEMA: MapSpec = map({
  cluster: required(str(rules.clusterName)),
  pki: str(rules.filePath),
  subject: SUBJECT_SPEC,
  ca: CA_SPEC,
  leaf: map({ days: int(rules.days), keySize: int(rules.keySize), keyType: str(rules.keyType), localhost: bool() }),
  ssh: SSH_SPEC,
  nodes: required(
    list(
      map({
        name: required(str(rules.safeName)),
        host: required(str(rules.host)),
        roles: required(list(str(rules.role), { min: 1, what: 'role' })),
        sans: list(str(rules.san)),
        dest: str(rules.dest),
        transport: str(rules.transport),
        ssh: SSH_SPEC,
        localhost: bool(),
        port: int(rules.port),
        adminPort: int(rules.port),
        replicaOf: str(rules.safeName),
        version: str(rules.serverVersion),
        keyType: str(rules.keyType),
        owner: str(rules.unixName),
        group: str(rules.unixName),
        become: str(rules.become),
        reload: str(rules.reload),
        galera: GALERA_SPEC,
        groupReplication: map({
          stack: str(rules.grStack),
          localAddress: str(rules.hostPort),
          sslMode: str(rules.grSslMode),
        }),
      }),
      { min: 1, max: LIMITS.nodes, what: 'node' },
    ),
  ),
  clients: list(
    map({
      name: required(str(rules.safeName)),
      commonName: str(rules.commonName),
      keystore: str(rules.storeType),
      connectTo: str(rules.safeName),
    }),
  ),
});

/** What the walk keeps of a dbtls YAML inventory: only values that passed their rules. */
export interface RawInventory {
  cluster?: string;
  pki?: string;
  subject?: SubjectFields;
  ca?: {
    commonName?: string;
    days?: number;
    keySize?: number;
    keyType?: string;
    crlDays?: number;
    intermediate?: boolean;
    intermediateDays?: number;
    pkcs11?: { module?: string; token?: string; label?: string };
  };
  leaf?: { days?: number; keySize?: number; keyType?: string; localhost?: boolean };
  ssh?: RawSsh;
  nodes?: (RawNode | undefined)[];
  clients?: (RawClient | undefined)[];
}

export interface RawNode {
  name?: string;
  host?: string;
  roles?: (string | undefined)[];
  sans?: (string | undefined)[];
  dest?: string;
  transport?: string;
  ssh?: RawSsh;
  localhost?: boolean;
  port?: number;
  adminPort?: number;
  replicaOf?: string;
  version?: string;
  keyType?: string;
  owner?: string;
  group?: string;
  become?: string;
  reload?: string;
  galera?: RawGalera;
  groupReplication?: RawGroupReplication;
}

export interface RawGalera {
  providerOptions?: string;
  port?: number;
  sst?: string;
  providerVersion?: string;
}

/** A node's groupReplication mapping as written (an empty mapping `{}` = every default). */
export interface RawGroupReplication {
  stack?: string;
  localAddress?: string;
  sslMode?: string;
}

export interface RawClient {
  name?: string;
  commonName?: string;
  keystore?: string;
  connectTo?: string;
}
