// Writes small dbtls inventories for tests: a cluster of nodes on transport local, a PKI folder beside it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface TestNode {
  name: string;
  host: string;
  roles?: string[];
  sans?: string[];
  localhost?: boolean;
  /** The SQL port (default by role). */
  port?: number;
  /** Where the node's files go (default by role). */
  dest?: string;
  /** The node this one replicates from. */
  replicaOf?: string;
  /** The server version, e.g. "8.0.22" (chooses the replication SQL spelling). */
  version?: string;
  /** ssh (then `ssh` says how) or local (the default here). */
  transport?: 'ssh' | 'local';
  ssh?: { port?: number; user?: string; identityFile?: string; knownHostsFile?: string };
  owner?: string;
  group?: string;
  become?: 'sudo';
  /** The command that reloads TLS on the node after a push (`none` to skip); written only when given. */
  reload?: string;
  /** A Galera node's settings (roles galera or pxc), written as given. */
  galera?: { providerOptions?: string; port?: number; sst?: string; providerVersion?: string };
  /** The node's own key type (rsa2048 … p384); written only when given. */
  keyType?: string;
}

export interface TestInventory {
  cluster?: string;
  nodes: TestNode[];
  clients?: Array<string | { name: string; keystore?: 'jks' | 'pkcs12'; connectTo?: string }>;
  leafDays?: number;
  /** leaf.keyType and ca.keyType; written only when given. */
  leafKeyType?: string;
  caKeyType?: string;
  /** ca.crlDays: revocation on. */
  crlDays?: number;
  caCommonName?: string;
  /** ca.pkcs11: the CA key in a PKCS#11 token. */
  pkcs11?: { module: string; token: string; label: string };
  /** ca.intermediate: an offline root (needs DBTLS_CA_PASSPHRASE) and an online intermediate signing the leaves. */
  intermediate?: boolean;
}

/** Writes DIR/inventory.yml (pki: ./pki) and returns its path. */
export async function writeInventory(dir: string, inv: TestInventory, name = 'inventory.yml'): Promise<string> {
  const doc: Record<string, unknown> = {
    cluster: inv.cluster ?? 'test',
    pki: './pki',
    ca: {
      commonName: inv.caCommonName ?? 'Test Cluster CA',
      ...(inv.caKeyType ? { keyType: inv.caKeyType } : {}),
      ...(inv.crlDays ? { crlDays: inv.crlDays } : {}),
      ...(inv.pkcs11 ? { pkcs11: inv.pkcs11 } : {}),
      ...(inv.intermediate ? { intermediate: true } : {}),
    },
    nodes: inv.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      roles: n.roles ?? ['mariadb'],
      ...(n.sans ? { sans: n.sans } : {}),
      ...(n.localhost !== undefined ? { localhost: n.localhost } : {}),
      ...(n.port !== undefined ? { port: n.port } : {}),
      ...(n.dest !== undefined ? { dest: n.dest } : {}),
      ...(n.replicaOf !== undefined ? { replicaOf: n.replicaOf } : {}),
      ...(n.version !== undefined ? { version: n.version } : {}),
      transport: n.transport ?? 'local',
      ...(n.ssh ? { ssh: n.ssh } : {}),
      ...(n.owner ? { owner: n.owner } : {}),
      ...(n.group ? { group: n.group } : {}),
      ...(n.become ? { become: n.become } : {}),
      ...(n.reload !== undefined ? { reload: n.reload } : {}),
      ...(n.galera ? { galera: n.galera } : {}),
      ...(n.keyType ? { keyType: n.keyType } : {}),
    })),
  };
  if (inv.leafDays !== undefined || inv.leafKeyType !== undefined)
    doc.leaf = {
      ...(inv.leafDays !== undefined ? { days: inv.leafDays } : {}),
      ...(inv.leafKeyType ? { keyType: inv.leafKeyType } : {}),
    };
  if (inv.clients) doc.clients = inv.clients.map((c) => (typeof c === 'string' ? { name: c } : c));
  const path = join(dir, name);
  // lineWidth 0: long values (a reload command) stay on one line instead of being folded.
  await writeFile(path, stringify(doc, { lineWidth: 0 }));
  return path;
}
