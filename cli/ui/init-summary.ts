// The wizard's words on screen: the review before anything is written, and the summary after.
import { relative } from 'node:path';
import type { InitPlan } from '../../lib/init/flow.js';
import type { InitSummary } from '../../lib/init/summary.js';
import { transportOf } from '../../lib/init/model.js';
import { plural } from './mode.js';

/** A path as short as it can be said: relative to the working folder when inside it. */
export function shown(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : path;
}

/** A word for a shell command line: quoted only when it must be. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./~:@=+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function reviewText(plan: InitPlan): string {
  const a = plan.answers;
  const out = ['', 'Ready to write:'];
  out.push(`  inventory  ${shown(a.inventory)}${plan.replaces ? ' (replacing the existing file)' : ''}`);
  out.push(`  PKI        ${shown(plan.cluster.pki)}`);
  out.push(
    `  CA         CN=${a.ca.commonName}, ${a.ca.days} days, RSA ${a.ca.keySize}; certificates ${a.leaf.days} days, RSA ${a.leaf.keySize}`,
  );
  for (const n of plan.cluster.nodes) {
    const how = n.transport === 'local' ? 'local' : `ssh ${n.ssh.user ?? 'root'}@${n.host}:${n.ssh.port ?? 22}`;
    out.push(`  node       ${n.name} (${n.roles.join(', ')}) ${n.host}, ${how}${n.dest ? `, into ${n.dest}` : ''}`);
  }
  for (const c of plan.cluster.clients)
    out.push(`  client     ${c.name}${c.keystore ? ` (+ ${c.keystore} keystore)` : ''}`);
  if (plan.acceptedKeys.length) out.push(`  known_hosts ${plural(plan.acceptedKeys.length, 'host key')} to add`);
  const local = a.nodes.some((n) => transportOf(a, n) === 'local');
  if (local) out.push('  (transport: local nodes receive their files on this machine, under --local-root)');
  return out.join('\n') + '\n';
}

export function summaryText(s: InitSummary): string {
  const out = ['', 'Made, and where:'];
  out.push(`  inventory    ${shown(s.inventory)}${s.replaced ? ' (replaced)' : ''}`);
  for (const k of s.knownHosts) out.push(`  known_hosts  ${shown(k.file)}: added ${k.hosts.join(', ')}`);
  out.push(
    `  PKI folder   ${shown(s.pki)}  (${s.issued} issued, ${s.upToDate} up to date${s.stores ? `, ${s.stores} Java stores built` : ''})`,
  );
  out.push(
    `  CA           ${shown(s.ca.cert)} + ca-key.pem  ${s.ca.subject}, until ${s.ca.notAfter.slice(0, 10)} (${s.ca.action})`,
  );
  out.push(`               SHA-256 ${s.ca.fingerprint256}`);
  const label = (kind: string, name: string) => `${kind} ${name}`.padEnd(12);
  for (const n of s.nodes) out.push(`  ${label('node', n.name)} ${shown(n.dir)}/  ${n.files.join(' ')}`);
  for (const c of s.clients) out.push(`  ${label('client', c.name)} ${shown(c.dir)}/  ${c.files.join(' ')}`);
  out.push(
    `  configs      ${shown(s.rendered.dir)}/  ${s.rendered.files} files (${s.rendered.written} written): include them from each server's own config`,
  );
  return out.join('\n') + '\n';
}
