// What `dbtls init` made and where, as data for the closing summary: the inventory, host keys added to
// known_hosts, the CA, each node's and client's files (read from the PKI directory, so a re-run over an
// existing one lists what is there, not only what was new), and the rendered configs.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster } from '../inventory/model.js';
import type { IssueReport } from '../issue/issue.js';
import type { RenderReport } from '../render/render.js';
import type { OfferedKey } from './host-keys.js';

export interface OwnerFiles {
  name: string;
  /** Absolute folder. */
  dir: string;
  /** File names in it (sorted), subfolders as `name/`. */
  files: string[];
}

export interface InitSummary {
  inventory: string;
  replaced: boolean;
  knownHosts: Array<{ file: string; hosts: string[] }>;
  pki: string;
  ca: { cert: string; key: string; subject: string; notAfter: string; action: string; fingerprint256: string };
  nodes: OwnerFiles[];
  clients: OwnerFiles[];
  issued: number;
  upToDate: number;
  stores: number;
  rendered: { dir: string; files: number; written: number };
}

async function listing(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.name.startsWith('.'))
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort();
}

export async function summarize(
  cluster: Cluster,
  issue: IssueReport,
  render: RenderReport,
  opts: { replaced: boolean; knownHosts: readonly OfferedKey[] },
): Promise<InitSummary> {
  const byFile = new Map<string, string[]>();
  for (const k of opts.knownHosts)
    byFile.set(k.file, [...(byFile.get(k.file) ?? []), k.port === 22 ? k.host : `[${k.host}]:${k.port}`]);
  const owners = async (kind: 'nodes' | 'clients', names: string[]) =>
    Promise.all(
      names.map(async (name) => ({
        name,
        dir: join(issue.pki, kind, name),
        files: await listing(join(issue.pki, kind, name)),
      })),
    );
  return {
    inventory: cluster.file,
    replaced: opts.replaced,
    knownHosts: [...byFile].map(([file, hosts]) => ({ file, hosts })),
    pki: issue.pki,
    ca: {
      cert: join(issue.pki, 'ca.pem'),
      key: join(issue.pki, 'ca-key.pem'),
      subject: issue.ca.subject,
      notAfter: issue.ca.notAfter,
      action: issue.ca.action,
      fingerprint256: issue.ca.fingerprint256,
    },
    nodes: await owners(
      'nodes',
      cluster.nodes.map((n) => n.name),
    ),
    clients: await owners(
      'clients',
      cluster.clients.map((c) => c.name),
    ),
    issued: issue.issued.length,
    upToDate: issue.unchanged.length,
    stores: issue.stores.length,
    rendered: {
      dir: render.out,
      files: render.files.length,
      written: render.files.filter((f) => f.state !== 'unchanged').length,
    },
  };
}
