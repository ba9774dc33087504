// What "reload TLS" means for each role, as a command run on the node itself over the same SSH
// connection the files came through. Why on the node and not over a SQL connection from here: the
// node's own client authenticates by the node's means (unix_socket/auth_socket for root, or an option
// file the operator keeps there), so no database password crosses the network, sits on a command line
// or passes through dbtls; it works where the SQL port is firewalled to the application tier; and it
// needs no SQL credentials in the inventory. Every default is an argv built by shellCommand().
import { shellCommand } from '../deliver/quote.js';
import type { NodeSpec, Role } from '../inventory/model.js';

export type ReloadPlan =
  | { kind: 'command'; command: string; describe: string }
  | { kind: 'none'; why: string }
  | { kind: 'restart-required'; why: string; command: string };

/** The node's MySQL-protocol client: `mariadb` where it exists (MariaDB ≥ 10.5 names it so), else `mysql`. */
const CLIENT = 'if command -v mariadb >/dev/null 2>&1; then c=mariadb; else c=mysql; fi; exec "$c" "$@"';

function sqlOnNode(args: string[], statement: string): string[] {
  return ['sh', '-c', CLIENT, 'dbtls-reload', ...args, '--batch', '-e', statement];
}

/**
 * Credentials for admin interfaces reached over TCP come from an option-file group on the node
 * (e.g. [client-proxysql-admin] in the SSH user's ~/.my.cnf, mode 0600), never from dbtls.
 */
export const PROXYSQL_ADMIN_GROUP = '-proxysql-admin';
export const TIDB_GROUP = '-tidb';

const TUNGSTEN_RESTART = [
  'sh',
  '-c',
  'set -e; b=/opt/continuent/tungsten/cluster-home/bin; "$b/stopall"; "$b/startall"',
];

function roleDefault(node: NodeSpec, role: Role): ReloadPlan | undefined {
  switch (role) {
    case 'mysql':
    case 'percona':
      return {
        kind: 'command',
        command: shellCommand(sqlOnNode([], 'ALTER INSTANCE RELOAD TLS')),
        describe: 'ALTER INSTANCE RELOAD TLS',
      };
    case 'mariadb':
      return { kind: 'command', command: shellCommand(sqlOnNode([], 'FLUSH SSL')), describe: 'FLUSH SSL' };
    case 'proxysql':
      return {
        kind: 'command',
        command: shellCommand(
          sqlOnNode(
            [`--defaults-group-suffix=${PROXYSQL_ADMIN_GROUP}`, '-h', '127.0.0.1', '-P', String(node.adminPort)],
            'PROXYSQL RELOAD TLS',
          ),
        ),
        describe: 'PROXYSQL RELOAD TLS (admin interface)',
      };
    case 'tidb':
      return {
        kind: 'command',
        command: shellCommand(
          sqlOnNode(
            [`--defaults-group-suffix=${TIDB_GROUP}`, '-h', '127.0.0.1', '-P', String(node.port)],
            'ALTER INSTANCE RELOAD TLS',
          ),
        ),
        describe: 'ALTER INSTANCE RELOAD TLS (client-facing certificate)',
      };
    case 'pd':
    case 'tikv':
    case 'tiflash': // since v6.6 (pingcap/tiflash#5503)
    case 'ticdc': // since v6.5 (pingcap/docs-cn#12914)
      return undefined; // they read their certificate files again for each new connection
    case 'tiproxy':
      return undefined; // it reads them again about once an hour (see noReloadWhy)
    case 'tungsten':
      return {
        kind: 'restart-required',
        why: 'Tungsten reads its stores at start: restart required',
        command: shellCommand(TUNGSTEN_RESTART),
      };
  }
}

/**
 * Group Replication's group communication keeps the TLS context it started with: ALTER INSTANCE RELOAD TLS
 * does not reach it (REFERENCE-2 §2.3). Restarting it on several members at once can take the group below
 * its majority, so dbtls reports the command and leaves running it, one member at a time, to the operator.
 */
const GROUP_REPLICATION_RESTART = 'STOP GROUP_REPLICATION; START GROUP_REPLICATION';

function groupReplicationRestart(): Extract<ReloadPlan, { kind: 'restart-required' }> {
  return {
    kind: 'restart-required',
    why:
      'ALTER INSTANCE RELOAD TLS does not reach Group Replication traffic: run STOP GROUP_REPLICATION; START GROUP_REPLICATION ' +
      'on one member at a time (wait for ONLINE in performance_schema.replication_group_members before the next)',
    command: shellCommand(sqlOnNode([], GROUP_REPLICATION_RESTART)),
  };
}

/** Why a node with nothing to run needs nothing: per connection, except TiProxy's hourly re-read. */
function noReloadWhy(node: NodeSpec): string {
  const perConnection = node.roles.filter((r) => r !== 'tiproxy');
  const parts: string[] = [];
  if (perConnection.length) parts.push(`${perConnection.join(', ')} read their certificates per connection`);
  if (node.roles.includes('tiproxy'))
    parts.push('tiproxy reads its certificate files again within an hour (restart it for an urgent swap)');
  return `${parts.join('; ')}: nothing to reload`;
}

/**
 * The reload for a node: the inventory's `reload:` when given (a shell line of the operator's), else
 * each role's default in order — the first MySQL-protocol server wins, a Group Replication member adds
 * the group restart it needs (reported, never run), Tungsten adds its restart.
 */
export function reloadPlans(node: NodeSpec, opts: { restartTungsten?: boolean } = {}): ReloadPlan[] {
  const sudo = (cmd: string) => (node.become === 'sudo' ? shellCommand(['sudo', '-n', 'sh', '-c', cmd]) : cmd);
  if (node.reload === 'none') return [{ kind: 'none', why: 'reload: none in the inventory' }];
  if (node.reload !== undefined)
    return [{ kind: 'command', command: sudo(shellCommand(['sh', '-c', node.reload])), describe: node.reload }];
  if (node.transport === 'local')
    return [{ kind: 'none', why: 'transport: local delivers into a folder; give reload: to run a command' }];
  const plans: ReloadPlan[] = [];
  const sql = node.roles.map((r) => roleDefault(node, r)).find((p) => p?.kind === 'command');
  if (sql && sql.kind === 'command') plans.push({ ...sql, command: sudo(sql.command) });
  if (node.groupReplication) {
    const gr = groupReplicationRestart();
    plans.push({ ...gr, command: sudo(gr.command) });
  }
  if (node.roles.includes('tungsten')) {
    const t = roleDefault(node, 'tungsten') as Extract<ReloadPlan, { kind: 'restart-required' }>;
    plans.push(
      opts.restartTungsten
        ? { kind: 'command', command: sudo(t.command), describe: 'Tungsten stopall && startall' }
        : t,
    );
  }
  if (plans.length === 0) plans.push({ kind: 'none', why: noReloadWhy(node) });
  return plans;
}
