// What "reload TLS" means for each role, as a command run on the node itself over the same SSH
// connection the files came through. Why on the node and not over a SQL connection from here: the
// node's own client authenticates by the node's means (unix_socket/auth_socket for root, or an option
// file the operator keeps there), so no database password crosses the network, sits on a command line
// or passes through dbtls; it works where the SQL port is firewalled to the application tier; and it
// needs no SQL credentials in the inventory. Every default is an argv built by shellCommand().
import { shellCommand } from '../deliver/quote.js';
import { isGaleraNode, type NodeSpec, type Role } from '../inventory/model.js';

export type ReloadPlan =
  | { kind: 'command'; command: string; describe: string }
  | { kind: 'none'; why: string }
  | { kind: 'restart-required'; why: string; command: string };

/** The node's MySQL-protocol client: `mariadb` where it exists (MariaDB ≥ 10.5 names it so), else `mysql`. */
const PICK_CLIENT = 'if command -v mariadb >/dev/null 2>&1; then c=mariadb; else c=mysql; fi';
const CLIENT = `${PICK_CLIENT}; exec "$c" "$@"`;

function sqlOnNode(args: string[], statement: string): string[] {
  return ['sh', '-c', CLIENT, 'dbtls-reload', ...args, '--batch', '-e', statement];
}

/**
 * Credentials for admin interfaces reached over TCP come from an option-file group on the node
 * (e.g. [client-proxysql-admin] in the SSH user's ~/.my.cnf, mode 0600), never from dbtls.
 */
export const PROXYSQL_ADMIN_GROUP = '-proxysql-admin';
export const TIDB_GROUP = '-tidb';

/**
 * A Galera node's reload: the statement, then the node's own word that it is still a Synced member
 * of the cluster (wsrep_local_state_comment). A rollout goes on to the next node only after this
 * one passed, so a reload that threw a node out stops the roll before a second node could follow.
 * $1 is the statement; the client is chosen as in CLIENT.
 */
const GALERA_RELOAD = [
  's=$1; shift',
  PICK_CLIENT,
  '"$c" "$@" --batch -e "$s" || exit $?',
  'st=$("$c" "$@" --batch -N -e "SHOW STATUS LIKE \'wsrep_local_state_comment\'") || exit $?',
  'case "$st" in *Synced*) exit 0 ;; esac',
  'echo "after the reload the node is not a Synced cluster member (wsrep_local_state_comment: ${st:-none})" >&2',
  'exit 1',
].join('; ');

/** Galera 4 reloads its certificates live from 26.4.8 (socket.ssl_reload; FLUSH SSL reaches it). */
export function providerReloads(version: string | undefined): boolean {
  if (version === undefined) return true;
  const [maj = 0, min = 0, patch = 0] = version.split('.').map(Number);
  return maj > 26 || (maj === 26 && (min > 4 || (min === 4 && patch >= 8)));
}

function galeraPlans(node: NodeSpec): ReloadPlan[] {
  const mariadb = node.roles.includes('mariadb');
  const serverOnly = mariadb ? 'FLUSH SSL' : 'ALTER INSTANCE RELOAD TLS';
  if (!providerReloads(node.galera?.providerVersion))
    return [
      { kind: 'command', command: shellCommand(sqlOnNode([], serverOnly)), describe: serverOnly },
      {
        kind: 'restart-required',
        why: `Galera provider ${node.galera!.providerVersion} reads its certificates at start only (live reload needs 26.4.8): restart the node, one node at a time`,
        command: shellCommand(['systemctl', 'restart', mariadb ? 'mariadb' : 'mysql']),
      },
    ];
  // MariaDB's FLUSH SSL reloads the provider too (MDEV-22668); MySQL-wsrep and PXC need both statements.
  const statement = mariadb
    ? 'FLUSH SSL'
    : "ALTER INSTANCE RELOAD TLS; SET GLOBAL wsrep_provider_options = 'socket.ssl_reload=1'";
  return [
    {
      kind: 'command',
      command: shellCommand(['sh', '-c', GALERA_RELOAD, 'dbtls-reload', statement]),
      describe: `${statement} (server and Galera provider), then wsrep state Synced`,
    },
  ];
}

/**
 * MaxScale >= 22.08: `maxctrl reload tls` (REST POST /v1/maxscale/tls/reload) re-reads the certificate
 * files of every listener, server and the REST API. It is not transactional (a failure part-way leaves
 * part of it reloaded), which is why a rotation probes the listener after it. maxctrl takes the REST
 * API's user and password from its own ~/.maxctrl.cnf on the node (section [maxctrl], u= and p=, a file
 * only its owner may read), never from dbtls; it needs no root, so it runs as the SSH user even with
 * become: sudo (whose ~ could be root's).
 */
const MAXSCALE_RELOAD = ['maxctrl', 'reload', 'tls'];

/** MySQL Router reads its certificates only at start (nothing documents a reload; SIGHUP reopens logs). */
const MYSQLROUTER_RESTART = ['systemctl', 'restart', 'mysqlrouter'];

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
    case 'galera':
    case 'pxc':
      return undefined; // galeraPlans: the server's own reload together with the provider's
    case 'maxscale':
      return { kind: 'command', command: shellCommand(MAXSCALE_RELOAD), describe: 'maxctrl reload tls' };
    case 'mysqlrouter':
      return {
        kind: 'restart-required',
        why: 'MySQL Router reads its certificates at start: restart required',
        command: shellCommand(MYSQLROUTER_RESTART),
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
 * each role's default in order — the first MySQL-protocol server wins; a Group Replication member adds
 * the group restart it needs, MySQL Router and Tungsten their restarts, all reported and not run
 * (Tungsten's runs with restartTungsten; Router's when the inventory's reload: says so).
 */
export function reloadPlans(node: NodeSpec, opts: { restartTungsten?: boolean } = {}): ReloadPlan[] {
  const sudo = (cmd: string) => (node.become === 'sudo' ? shellCommand(['sudo', '-n', 'sh', '-c', cmd]) : cmd);
  if (node.reload === 'none') return [{ kind: 'none', why: 'reload: none in the inventory' }];
  if (node.reload !== undefined)
    return [{ kind: 'command', command: sudo(shellCommand(['sh', '-c', node.reload])), describe: node.reload }];
  if (node.transport === 'local')
    return [{ kind: 'none', why: 'transport: local delivers into a folder; give reload: to run a command' }];
  const plans: ReloadPlan[] = [];
  if (isGaleraNode(node))
    return galeraPlans(node).map((p) => (p.kind === 'command' ? { ...p, command: sudo(p.command) } : p));
  const first = node.roles.find((r) => roleDefault(node, r)?.kind === 'command');
  const sql = first && (roleDefault(node, first) as Extract<ReloadPlan, { kind: 'command' }>);
  // maxctrl needs no root and reads the SSH user's own ~/.maxctrl.cnf: never through sudo.
  if (sql) plans.push({ ...sql, command: first === 'maxscale' ? sql.command : sudo(sql.command) });
  if (node.roles.includes('mysqlrouter')) {
    const r = roleDefault(node, 'mysqlrouter') as Extract<ReloadPlan, { kind: 'restart-required' }>;
    plans.push({ ...r, command: sudo(r.command) });
  }
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

/**
 * True when nothing of the plans makes the node serve its new certificate: only a restart that was
 * reported, not run (MySQL Router). A probe right after would find the old certificate and roll the
 * node's files back, so a rotation leaves such a node for its restart instead.
 */
export function awaitsRestart(plans: readonly ReloadPlan[]): boolean {
  return plans.some((p) => p.kind === 'restart-required') && !plans.some((p) => p.kind === 'command');
}
