// The inventory `dbtls init` writes: dbtls YAML with a comment above each section saying what it is
// for, block style throughout (so a person can extend it), values quoted by the YAML library only where
// YAML needs it. The text is read back through the inventory loader before it is written, so the wizard
// never leaves a file that `dbtls issue` would refuse.
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { stringify } from 'yaml';
import type { Cluster } from '../inventory/model.js';
import { Problems } from '../inventory/errors.js';
import { parseYaml } from '../inventory/yaml-source.js';
import { fromDbtlsYaml } from '../inventory/dbtls-yaml.js';
import { transportOf, type InitAnswers, type SshAnswers } from './model.js';
import type { NodeAnswer, NodeSsh } from './nodes.js';

/** One YAML scalar, quoted only when YAML needs it; never folded. */
const scalar = (v: string | number | boolean): string => stringify(v, { lineWidth: 0 }).trimEnd();
const flowList = (items: string[]): string => `[${items.map(scalar).join(', ')}]`;

/** How a path is written: `~/…` as given, inside the inventory's folder relative to it, else absolute. */
export function inventoryPath(path: string, inventoryDir: string): string {
  if (path.startsWith('~/') || !isAbsolute(path)) return path;
  const rel = relative(inventoryDir, path);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

function sshLines(ssh: Partial<SshAnswers> | NodeSsh, dir: string, indent: string): string[] {
  const out: string[] = [];
  if (ssh.user !== undefined) out.push(`${indent}user: ${scalar(ssh.user)}`);
  if (ssh.port !== undefined) out.push(`${indent}port: ${ssh.port}`);
  if (ssh.identityFile) out.push(`${indent}identityFile: ${scalar(inventoryPath(ssh.identityFile, dir))}`);
  if (ssh.knownHostsFile) out.push(`${indent}knownHostsFile: ${scalar(inventoryPath(ssh.knownHostsFile, dir))}`);
  if (ssh.proxyJump) out.push(`${indent}proxyJump: ${scalar(ssh.proxyJump)}`);
  return out;
}

function nodeLines(a: InitAnswers, n: NodeAnswer, dir: string): string[] {
  const out = [`  - name: ${scalar(n.name)}`, `    host: ${scalar(n.host)}`, `    roles: ${flowList(n.roles)}`];
  if (n.sans?.length) out.push(`    sans: ${flowList(n.sans)}`);
  const dest = n.dest ?? a.dest;
  if (dest) out.push(`    dest: ${scalar(dest)}`);
  const transport = transportOf(a, n);
  if (transport !== 'ssh') out.push(`    transport: ${transport}`);
  else {
    const own = n.ssh ? sshLines(n.ssh, dir, '      ') : [];
    if (own.length) out.push('    ssh:', ...own);
  }
  if (n.reload !== undefined) out.push(`    reload: ${scalar(n.reload)}`);
  return out;
}

/** The commented inventory for ANSWERS; GENERATOR names the tool in the header ("dbtls 0.1.0"). */
export function renderInventory(a: InitAnswers, generator: string): string {
  const dir = dirname(a.inventory);
  const anySsh = a.nodes.some((n) => transportOf(a, n) === 'ssh');
  const lines: string[] = [
    `# dbtls inventory of the cluster "${a.cluster}", written by \`dbtls init\` (${generator}).`,
    '# Every key is described in docs/inventory.md. After an edit, `dbtls apply -i <this file>` issues what',
    '# changed, renders the configs and pushes them; a second run changes nothing.',
    '',
    '# The cluster\'s name (a-z, 0-9, "-"): it names the CA and the default PKI folder.',
    `cluster: ${scalar(a.cluster)}`,
    '',
    '# The local PKI directory: the CA, every certificate and key, manifest.json, the rendered configs.',
    "# A relative path is relative to this file's folder. Keep it private: it holds the CA key.",
    `pki: ${scalar(inventoryPath(a.pki, dir))}`,
    '',
  ];
  const subject = Object.entries(a.subject).filter(([, v]) => v !== undefined && v !== '');
  if (subject.length) {
    lines.push(
      '# Subject fields besides the CN (C country, ST state, L city, O organisation, OU unit),',
      '# put on every certificate of the cluster.',
      'subject:',
    );
    for (const [k, v] of subject) lines.push(`  ${k}: ${scalar(v as string)}`);
    lines.push('');
  }
  lines.push(
    "# The cluster's one CA. Its CN must differ from every node's and client's CN; days and keySize",
    '# apply when a CA is made (an existing one in the PKI directory is kept).',
    'ca:',
    `  commonName: ${scalar(a.ca.commonName)}`,
    `  days: ${a.ca.days}`,
    ...(a.ca.keyType ? [`  keyType: ${scalar(a.ca.keyType)}`] : [`  keySize: ${a.ca.keySize}`]),
    ...(a.ca.crlDays !== undefined
      ? [
          '  # Revocation on: a CRL valid this many days, delivered to the servers that read one.',
          `  crlDays: ${a.ca.crlDays}`,
        ]
      : []),
    ...(a.ca.intermediate
      ? [
          '  # An offline root (its key sealed with the CA passphrase) and an online intermediate.',
          '  intermediate: true',
        ]
      : []),
    '',
    '# Node and client certificates: validity in days (renew before it ends: `dbtls rotate`), RSA key size.',
    'leaf:',
    `  days: ${a.leaf.days}`,
    a.leaf.keyType ? `  keyType: ${scalar(a.leaf.keyType)}` : `  keySize: ${a.leaf.keySize}`,
    '',
  );
  if (anySsh) {
    lines.push(
      '# How `dbtls push` reaches the nodes over SSH; a node can override any of these in its own `ssh:`.',
      '# Host keys are checked strictly against knownHostsFile (default ~/.ssh/known_hosts).',
      'ssh:',
      ...sshLines(a.ssh, dir, '  '),
      '',
    );
  }
  lines.push(
    "# The servers. name: the server certificate's CN and the folder nodes/<name>/ in the PKI directory;",
    '# host: where to connect, and a subject alternative name; roles: what runs there (it decides the',
    '# files the node gets and the configs rendered for it); dest: the folder on the node (left out:',
    "# each role's default, /etc/mysql/ssl for MySQL); transport: local writes on this machine instead",
    '# (under --local-root/<name>/), for a try-out.',
    'nodes:',
    ...a.nodes.flatMap((n) => nodeLines(a, n, dir)),
    '',
  );
  if (a.clients.length) {
    lines.push(
      '# Client identities (applications, replication, monitoring): clients/<name>/client-cert.pem and',
      "# client-key.pem; commonName is what `REQUIRE SUBJECT '/CN=…'` matches (default: the name);",
      '# keystore: also a Java keystore and truststore (jks or pkcs12) for Connector/J.',
      'clients:',
    );
    for (const c of a.clients) {
      lines.push(`  - name: ${scalar(c.name)}`);
      if (c.commonName !== undefined && c.commonName !== c.name) lines.push(`    commonName: ${scalar(c.commonName)}`);
      if (c.keystore) lines.push(`    keystore: ${c.keystore}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Reads inventory TEXT as if it were the file FILE (absolute): the Cluster, or an InventoryError. */
export function parseInventoryText(text: string, file: string): Cluster {
  const problems = new Problems(file);
  const cluster = fromDbtlsYaml(parseYaml(text), file, problems);
  if (!cluster || !problems.empty) throw problems.error();
  return cluster;
}
