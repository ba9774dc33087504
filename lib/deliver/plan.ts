// What each node receives: its certificates and keys under `dest` with the PKI directory's names,
// the products' fixed files (ProxySQL's datadir PEMs, Tungsten's stores in /opt/continuent/share),
// and its rendered configs under <dest>/dbtls/ (snippets to include, never a product's own config).
import { readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { crlPath, isMysqlFamily, nodePaths } from './layout.js';
import { KEY_MODE, CERT_MODE } from '../store/atomic-write.js';
import { TUNGSTEN_STORES, JGROUPS_STORE } from '../issue/stores.js';
import { inputError } from '../errors.js';
import type { Cluster, NodeSpec } from '../inventory/model.js';

export interface DeliveryItem {
  /** Local file (absolute). */
  source: string;
  /** Path on the node (absolute). */
  remote: string;
  mode: number;
  owner?: string;
  group?: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Folder on the node for the rendered configs. */
export const RENDERED_DIR = 'dbtls';

export async function nodeDelivery(cluster: Cluster, node: NodeSpec, renderedDir: string): Promise<DeliveryItem[]> {
  const paths = nodePaths(node);
  const nodeDir = join(cluster.pki, 'nodes', node.name);
  const items: DeliveryItem[] = [];
  const add = (source: string, remote: string, mode: number) =>
    items.push({
      source,
      remote,
      mode,
      ...(node.owner ? { owner: node.owner } : {}),
      ...(node.group ? { group: node.group } : {}),
    });

  const crl = crlPath(cluster, node);
  // A MySQL-family server behind ProxySQL trusts the intermediate too (lib/issue/intermediate.ts).
  const behindProxysql =
    cluster.ca.intermediate && isMysqlFamily(node) && cluster.nodes.some((n) => n.roles.includes('proxysql'));
  const required: Array<[string, string, number]> = [
    [join(cluster.pki, behindProxysql ? 'trust-backends.pem' : 'ca.pem'), paths.ca, CERT_MODE],
    ...(crl ? ([[join(cluster.pki, 'crl.pem'), crl, CERT_MODE]] as Array<[string, string, number]>) : []),
    [join(nodeDir, 'server-cert.pem'), paths.serverCert, CERT_MODE],
    [join(nodeDir, 'server-key.pem'), paths.serverKey, KEY_MODE],
    [join(nodeDir, 'client-cert.pem'), paths.clientCert, CERT_MODE],
    [join(nodeDir, 'client-key.pem'), paths.clientKey, KEY_MODE],
  ];
  if (paths.rsa)
    required.push(
      [join(nodeDir, 'private_key.pem'), paths.rsa.private, KEY_MODE],
      [join(nodeDir, 'public_key.pem'), paths.rsa.public, CERT_MODE],
    );
  if (paths.proxysql) {
    required.push(
      [join(cluster.pki, 'ca.pem'), paths.proxysql.ca, CERT_MODE],
      [join(nodeDir, 'server-cert.pem'), paths.proxysql.cert, CERT_MODE],
      [join(nodeDir, 'server-key.pem'), paths.proxysql.key, KEY_MODE],
    );
  }
  if (paths.tungsten) {
    const t = join(nodeDir, 'tungsten');
    const s = paths.tungsten;
    required.push(
      [join(t, TUNGSTEN_STORES.keystore), s.keystore, KEY_MODE],
      [join(t, TUNGSTEN_STORES.truststore), s.truststore, CERT_MODE],
      [join(t, TUNGSTEN_STORES.tlsKeystore), s.tlsKeystore, KEY_MODE],
      [join(t, TUNGSTEN_STORES.connectorKeystore), s.connectorKeystore, KEY_MODE],
      [join(t, TUNGSTEN_STORES.connectorTruststore), s.connectorTruststore, CERT_MODE],
      [join(t, JGROUPS_STORE), s.jgroups, KEY_MODE],
    );
  }
  for (const [source, remote, mode] of required) {
    if (!(await isFile(source)))
      throw inputError(
        'not-issued',
        `${source} is missing for node ${node.name}`,
        { file: source },
        `run: dbtls issue -i ${cluster.file}`,
      );
    add(source, remote, mode);
  }
  for (const store of ['keystore.jks', 'truststore.jks']) {
    const source = join(nodeDir, store);
    if (await isFile(source))
      add(source, posix.join(paths.dest, store), store.startsWith('key') ? KEY_MODE : CERT_MODE);
  }
  // Rendered configs keep their local mode (0600 for those holding the store password).
  const rendered = join(renderedDir, node.name);
  for (const name of (await readdir(rendered).catch(() => [] as string[])).sort()) {
    const source = join(rendered, name);
    if (name.startsWith('.') || !(await isFile(source))) continue;
    add(source, posix.join(paths.dest, RENDERED_DIR, name), (await stat(source)).mode & 0o777);
  }
  return items;
}

/** `--files GLOB… --dest DIR`: the same local files to one folder on every node (the seed's scp loop). */
export async function filesDelivery(files: string[], dest: string): Promise<DeliveryItem[]> {
  const items: DeliveryItem[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const st = await stat(file);
    if (!st.isFile() || seen.has(file)) continue;
    seen.add(file);
    items.push({ source: file, remote: posix.join(dest, posix.basename(file)), mode: st.mode & 0o777 });
  }
  return items;
}
