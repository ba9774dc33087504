// `dbtls render`: the config each node's roles need, and each client's connection settings, from
// the inventory and the issued certificates. Deterministic (no dates, sorted inputs): the same inputs
// give the same bytes, so a re-run writes nothing and `--check` can diff against what is on disk.
import { mkdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { createEngine } from './engine.js';
import { propertiesValue, tomlString } from './escape.js';
import { buildContexts, type RenderClient, type RenderContext } from './context.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import { commitBatch, recoverBatch, type BatchFile } from '../store/batch.js';
import { acquireLock } from '../store/lock.js';
import { ensurePrivateDir } from '../store/pki-dir.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { inputError } from '../errors.js';
import { revocationNotes, type RevocationNote } from '../deliver/layout.js';
import type { Cluster, Role } from '../inventory/model.js';

/** Templates per role, relative to the templates folder; the output keeps the template's file name. */
export const ROLE_TEMPLATES: Record<Role, (ctx: RenderContext) => string[]> = {
  mysql: mysqlFamily,
  percona: mysqlFamily,
  mariadb: mysqlFamily,
  // The server's own files come with its mariadb/mysql/percona role; this adds the group channel's.
  galera: galeraFiles,
  pxc: galeraFiles,
  tidb: () => ['tidb/tidb.toml'],
  pd: () => ['tidb/pd.toml'],
  tikv: () => ['tidb/tikv.toml'],
  tiflash: () => ['tidb/tiflash.toml', 'tidb/tiflash-learner.toml'],
  ticdc: () => ['tidb/ticdc.toml'],
  tiproxy: () => ['tidb/tiproxy.toml'],
  proxysql: () => ['proxysql/proxysql.cnf', 'proxysql/proxysql-admin.sql'],
  maxscale: () => ['maxscale/maxscale.cnf'],
  mysqlrouter: () => ['mysqlrouter/mysqlrouter.conf'],
  tungsten: () => ['tungsten/tungsten.ini'],
};

function mysqlFamily(ctx: RenderContext): string[] {
  const dir = ctx.node.flavor === 'mariadb' ? 'mariadb' : 'mysql';
  return [
    `${dir}/my.cnf`,
    `${dir}/client.cnf`,
    `${dir}/users.sql`,
    ...(ctx.node.source ? [`${dir}/replication.sql`] : []),
    // Only MySQL and Percona nodes can have groupReplication (the inventory refuses it elsewhere).
    ...(ctx.node.groupReplication ? ['mysql/group-replication.cnf', 'mysql/adminapi.js'] : []),
  ];
}

function galeraFiles(ctx: RenderContext): string[] {
  return [ctx.node.flavor === 'mariadb' ? 'mariadb/galera.cnf' : 'mysql/galera.cnf'];
}

export const CLIENT_TEMPLATES = [
  'client/client.cnf',
  'client/connectorj.properties',
  'client/jdbc-url.txt',
  'client/mariadb-connector-j-url.txt',
  'client/go-dsn.md',
  'client/mysql2-ssl.js',
  'client/php-mysql.php',
];

export interface RenderOptions {
  out?: string;
  templates?: string;
  nodes?: string[];
  check?: boolean;
  generator: string;
}

export type FileState = 'new' | 'changed' | 'unchanged';

export interface RenderedFile {
  /** Relative to the output folder. */
  path: string;
  template: string;
  state: FileState;
  /** Only for --check: what is on disk now (undefined when new) and what would be written. */
  before?: string;
  after?: string;
}

export interface RenderReport {
  out: string;
  files: RenderedFile[];
  changed: boolean;
  /** With ca.crlDays: the nodes whose products do not (fully) enforce the CRL, and what that means. */
  revocation?: RevocationNote[];
}

/** --templates must name a folder: a typo would otherwise render the built-in templates, exit 0, and say nothing. */
async function checkTemplatesDir(dir: string): Promise<void> {
  const where = { file: dir, field: '--templates' };
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw inputError(
        'templates-missing',
        `no folder ${dir}`,
        where,
        'give --templates the folder that holds your copies (e.g. mysql/my.cnf)',
      );
    throw inputError('templates-unreadable', `cannot read ${dir}: ${(e as Error).message}`, where);
  }
  if (!st.isDirectory())
    throw inputError(
      'templates-not-dir',
      `${dir} is not a folder`,
      where,
      'give --templates the folder that holds your copies (e.g. mysql/my.cnf)',
    );
}

export async function runRender(cluster: Cluster, opts: RenderOptions): Promise<RenderReport> {
  const out = opts.out ?? join(cluster.pki, 'rendered');
  const unknown = (opts.nodes ?? []).filter((n) => !cluster.nodes.some((x) => x.name === n));
  if (unknown.length)
    throw inputError('unknown-node', `no node named ${unknown.map((n) => `"${n}"`).join(', ')} in ${cluster.file}`, {
      field: '--node',
    });
  if (cluster.nodes.some((n) => n.name === 'clients'))
    throw inputError('reserved-name', 'a node named "clients" would share the rendered clients/ folder', {
      file: cluster.file,
    });

  if (opts.templates !== undefined) await checkTemplatesDir(opts.templates);
  const engine = createEngine(opts.templates);
  const { contexts, clients } = await buildContexts(cluster, opts.generator);
  const wanted: Array<{ path: string; template: string; context: object }> = [];
  for (const node of cluster.nodes) {
    if (opts.nodes && !opts.nodes.includes(node.name)) continue;
    const ctx = contexts.get(node.name)!;
    const templates = [...new Set(node.roles.flatMap((r) => ROLE_TEMPLATES[r](ctx)))];
    for (const t of templates)
      wanted.push({ path: posix.join(node.name, posix.basename(t)), template: t, context: ctx });
  }
  if (!opts.nodes) {
    const base = contexts.values().next().value as RenderContext;
    for (const client of clients) {
      const context: RenderContext & { client: RenderClient } = { ...base, client };
      for (const t of CLIENT_TEMPLATES)
        wanted.push({ path: posix.join('clients', client.name, posix.basename(t)), template: t, context });
    }
  }

  const rendered = await Promise.all(
    wanted.map(async (w) => ({ ...w, text: await engine.render(w.template, w.context) })),
  );
  const notes = revocationNotes(cluster);
  const report: RenderReport = { out, files: [], changed: false, ...(notes.length ? { revocation: notes } : {}) };
  const files: BatchFile[] = [];
  const storepass = (contexts.values().next().value as RenderContext | undefined)?.storepass;
  const secretForms = storepass
    ? [
        ...new Set([
          storepass,
          propertiesValue(storepass),
          JSON.stringify(storepass).slice(1, -1),
          tomlString(storepass).slice(1, -1),
        ]),
      ]
    : [];
  for (const r of rendered) {
    const abs = join(out, r.path);
    const before = await readTextIfExists(abs); // what is there now, no link followed
    const state: FileState = before === undefined ? 'new' : before === r.text ? 'unchanged' : 'changed';
    report.files.push({
      path: r.path,
      template: r.template,
      state,
      ...(opts.check && state !== 'unchanged' ? { before, after: r.text } : {}),
    });
    // A file that carries the store password (tungsten.ini, JDBC settings), in any escaping, is as private as a key.
    if (state !== 'unchanged')
      files.push({ path: abs, data: r.text, mode: secretForms.some((f) => r.text.includes(f)) ? KEY_MODE : CERT_MODE });
  }
  report.changed = files.length > 0;
  if (opts.check || files.length === 0) return report;

  await mkdir(out, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(join(out, '.dbtls.lock'));
  try {
    await recoverBatch(join(out, '.dbtls.journal'));
    for (const dir of new Set(files.map((f) => posix.dirname(f.path)))) await ensurePrivateDir(out, dir);
    await commitBatch(files, join(out, '.dbtls.journal'));
  } finally {
    await lock.release();
  }
  return report;
}
