// A node's `groupReplication:` mapping: the checks that need the rest of the inventory (the node's
// roles, its certificate's names, the other members), and the defaults. The values themselves were
// checked by their rules in schema.ts.
import { GROUP_REPLICATION_ROLES, GR_DEFAULTS, type GroupReplication, type GrSslMode, type GrStack } from './model.js';
import { parseHostPort } from './rules.js';
import { parseSan, type San } from '../pki/san.js';
import type { RawInventory, RawNode } from './schema.js';

type Report = (path: string, message: string) => void;
type Line = (path: string) => number | undefined;

/**
 * The node's settings with the defaults applied (the raw values passed their rules). The default local
 * address is the node's host and, on the MYSQL stack, its SQL port: group traffic then runs over the
 * server's own listener, and the manual requires an address and port mysqld listens on. On XCOM it is
 * MySQL Shell's default, the SQL port × 10 + 1 (33061 for 3306), a port of its own.
 */
export function groupReplicationOf(node: RawNode, sqlPort: number): GroupReplication | undefined {
  const gr = node.groupReplication;
  if (gr === undefined) return undefined;
  const stack = (gr.stack ?? GR_DEFAULTS.stack) as GrStack;
  const parsed = gr.localAddress === undefined ? undefined : parseHostPort(gr.localAddress);
  const localAddress =
    parsed && typeof parsed !== 'string'
      ? parsed
      : { host: node.host!, port: stack === 'MYSQL' ? sqlPort : sqlPort * 10 + 1 };
  return { stack, localAddress, sslMode: (gr.sslMode ?? GR_DEFAULTS.sslMode) as GrSslMode };
}

/**
 * Group Replication only on MySQL and Percona nodes; with VERIFY_IDENTITY the local address must be one of
 * the names in the node's certificate (each member checks the others' certificates against the host in
 * their group_replication_local_address); and every member of the group on one stack and one SSL mode.
 */
export function checkGroupReplication(
  raw: RawInventory,
  report: Report,
  line: Line,
  sqlPort: (n: RawNode) => number,
): void {
  const members: Array<{ i: number; name: string; gr: GroupReplication }> = [];
  (raw.nodes ?? []).forEach((n, i) => {
    if (n?.groupReplication === undefined) return;
    const at = `nodes[${i}].groupReplication`;
    const roles = (n.roles ?? []) as string[];
    if (!roles.some((r) => (GROUP_REPLICATION_ROLES as readonly string[]).includes(r))) {
      report(
        at,
        `Group Replication needs a mysql or percona role on the node (it has ${roles.join(', ') || 'none'}); MariaDB has no Group Replication plugin`,
      );
      return;
    }
    if (n.host === undefined || n.name === undefined) return; // already reported
    const gr = groupReplicationOf(n, sqlPort(n))!;
    if (gr.sslMode === 'VERIFY_IDENTITY' && n.groupReplication.localAddress !== undefined) {
      const wanted = parseSan(gr.localAddress.host);
      const names = certificateNames(n, raw);
      if (wanted && !names.some((s) => matches(s, wanted)))
        report(
          `${at}.localAddress`,
          `host "${gr.localAddress.host}" is not a name in ${n.name}'s certificate (${names.map((s) => s.value).join(', ')}), so sslMode VERIFY_IDENTITY would refuse it; add it to the node's sans, or use sslMode VERIFY_CA`,
        );
    }
    members.push({ i, name: n.name, gr });
  });
  const first = members[0];
  if (!first) return;
  for (const m of members.slice(1)) {
    for (const key of ['stack', 'sslMode'] as const) {
      if (m.gr[key] === first.gr[key]) continue;
      const written = raw.nodes![m.i]!.groupReplication![key] !== undefined;
      const where = line(`nodes[${first.i}].groupReplication`);
      report(
        `nodes[${m.i}].groupReplication${written ? `.${key}` : ''}`,
        `${key} ${m.gr[key]} differs from ${first.gr[key]} on node "${first.name}"${where ? ` (line ${where})` : ''}; every member of the group must use the same ${key === 'stack' ? 'communication stack' : 'group_replication_ssl_mode'}`,
      );
    }
  }
}

/** The names dbtls puts in the node's server certificate (as nodeSans in lib/issue/plan.ts does). */
function certificateNames(n: RawNode, raw: RawInventory): San[] {
  const localhost = n.localhost ?? raw.leaf?.localhost ?? false;
  const inputs = [n.name!, n.host!, ...((n.sans ?? []).filter(Boolean) as string[])];
  if (localhost) inputs.push('localhost', '127.0.0.1');
  return inputs.map(parseSan).filter((s): s is San => s !== null);
}

/** A SAN matches a host as a TLS client matches it: IPs exactly, DNS names without case, "*." one label. */
function matches(san: San, host: San): boolean {
  if (san.type !== host.type) return false;
  if (san.type === 'ip') return san.value.toLowerCase() === host.value.toLowerCase();
  if (san.value.startsWith('*.')) {
    const dot = host.value.indexOf('.');
    return dot > 0 && host.value.slice(dot + 1) === san.value.slice(2);
  }
  return san.value === host.value;
}
