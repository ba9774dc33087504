// What "reload TLS" runs on a node: per role, the inventory's override, `none`, sudo, Tungsten's
// restart — and the MariaDB default run for real, as the shell on a node would run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { awaitsRestart, providerReloads, reloadPlans } from '../../lib/reload/commands.js';
import { runLocal } from '../../lib/deliver/local.js';
import { shellQuote } from '../../lib/deliver/quote.js';
import { fileScope } from '../helpers/scope.js';
import { startMariadb } from '../helpers/mariadb.js';
import { tempDir } from '../helpers/tmp.js';
import { dbtls, run } from '../helpers/run.js';
import type { NodeSpec, Role } from '../../lib/inventory/model.js';

const scope = fileScope();

function node(roles: Role[], extra: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: 'n1',
    host: '10.0.0.1',
    roles,
    sans: [],
    localhost: false,
    transport: 'ssh',
    ssh: {},
    port: 3306,
    adminPort: 6032,
    keyType: 'rsa2048',
    ...extra,
  };
}

test('per role: the statement each server reloads TLS with; PD/TiKV need none; Tungsten is reported, restarted only when asked', () => {
  const [mysql] = reloadPlans(node(['mysql']));
  assert.equal(mysql?.kind, 'command');
  assert.match((mysql as { command: string }).command, /'ALTER INSTANCE RELOAD TLS'$/);
  const [maria] = reloadPlans(node(['mariadb']));
  assert.match((maria as { command: string }).command, /'FLUSH SSL'$/);
  const [proxy] = reloadPlans(node(['proxysql'], { adminPort: 6132 }));
  assert.match(
    (proxy as { command: string }).command,
    /--defaults-group-suffix=-proxysql-admin -h 127\.0\.0\.1 -P 6132 --batch -e 'PROXYSQL RELOAD TLS'$/,
  );
  const [tidb] = reloadPlans(node(['tidb'], { port: 4000 }));
  assert.match((tidb as { command: string }).command, /-P 4000 --batch -e 'ALTER INSTANCE RELOAD TLS'$/);
  assert.deepEqual(
    reloadPlans(node(['pd'])).map((p) => p.kind),
    ['none'],
  );
  assert.deepEqual(
    reloadPlans(node(['mysql', 'tungsten'])).map((p) => p.kind),
    ['command', 'restart-required'],
  );
  const restart = reloadPlans(node(['tungsten']), { restartTungsten: true });
  assert.equal(restart[0]?.kind, 'command');
  assert.match((restart[0] as { command: string }).command, /stopall.*startall/);
});

test('MaxScale: `maxctrl reload tls` with its own ~/.maxctrl.cnf credentials, never through sudo; MySQL Router: a restart, reported and not run', () => {
  const [mxs, ...more] = reloadPlans(node(['maxscale'], { port: 4006 }));
  assert.deepEqual(more, []);
  assert.deepEqual(mxs, { kind: 'command', command: 'maxctrl reload tls', describe: 'maxctrl reload tls' });
  // Neither a password nor a user on the command line: maxctrl reads them from the SSH user's ~/.maxctrl.cnf.
  assert.doesNotMatch((mxs as { command: string }).command, /-u|-p|--user|--password|sudo/);
  const [mxsSudo] = reloadPlans(node(['maxscale'], { become: 'sudo' }));
  assert.equal(
    (mxsSudo as { command: string }).command,
    'maxctrl reload tls',
    'sudo would change whose ~/.maxctrl.cnf is read',
  );

  assert.deepEqual(reloadPlans(node(['mysqlrouter'], { port: 6446 })), [
    {
      kind: 'restart-required',
      why: 'MySQL Router reads its certificates at start: restart required',
      command: 'systemctl restart mysqlrouter',
    },
  ]);
  const [routerSudo] = reloadPlans(node(['mysqlrouter'], { become: 'sudo' }));
  assert.equal((routerSudo as { command: string }).command, "sudo -n sh -c 'systemctl restart mysqlrouter'");
  // Asked for through the inventory, the restart is the node's reload command.
  const asked = reloadPlans(node(['mysqlrouter'], { reload: 'systemctl restart mysqlrouter' }));
  assert.deepEqual(
    asked.map((p) => p.kind),
    ['command'],
  );

  // A rotation probes a node only when something ran that makes it serve the new certificate.
  assert.equal(awaitsRestart(reloadPlans(node(['mysqlrouter']))), true);
  assert.equal(awaitsRestart(asked), false);
  assert.equal(awaitsRestart(reloadPlans(node(['maxscale']))), false);
  assert.equal(
    awaitsRestart(reloadPlans(node(['mysql', 'tungsten']))),
    false,
    'the MySQL reload serves the new certificate',
  );
  assert.equal(
    awaitsRestart(reloadPlans(node(['mariadb'], { reload: 'none' }))),
    false,
    'reload: none is still probed',
  );
});

test('Group Replication: the server reloads its TLS, and the group restart is reported with its command, never run (one member at a time)', () => {
  const gr = {
    stack: 'MYSQL' as const,
    localAddress: { host: '10.0.0.1', port: 3306 },
    sslMode: 'VERIFY_IDENTITY' as const,
  };
  const plans = reloadPlans(node(['mysql'], { groupReplication: gr }));
  assert.deepEqual(
    plans.map((p) => p.kind),
    ['command', 'restart-required'],
  );
  assert.match((plans[0] as { command: string }).command, /'ALTER INSTANCE RELOAD TLS'$/);
  const restart = plans[1] as Extract<(typeof plans)[number], { kind: 'restart-required' }>;
  assert.match(restart.command, /--batch -e 'STOP GROUP_REPLICATION; START GROUP_REPLICATION'$/);
  assert.match(restart.why, /ALTER INSTANCE RELOAD TLS does not reach Group Replication/);
  assert.match(restart.why, /one member at a time/);
  // Through sudo like the other defaults; a node without groupReplication has no such step.
  const sudo = reloadPlans(node(['percona'], { groupReplication: gr, become: 'sudo' }));
  assert.match((sudo[1] as { command: string }).command, /^sudo -n sh -c .*STOP GROUP_REPLICATION/);
  assert.deepEqual(
    reloadPlans(node(['mysql'])).map((p) => p.kind),
    ['command'],
  );
});

test('TiFlash and TiCDC need nothing (new connections read the files); TiProxy re-reads within the hour, and says so', () => {
  for (const role of ['tiflash', 'ticdc'] as const) {
    const [plan] = reloadPlans(node([role]));
    assert.equal(plan?.kind, 'none');
    assert.match((plan as { why: string }).why, new RegExp(`^${role} read their certificates per connection`));
  }
  const [proxy] = reloadPlans(node(['tiproxy']));
  assert.equal(proxy?.kind, 'none');
  assert.match(
    (proxy as { why: string }).why,
    /tiproxy reads its certificate files again within an hour \(restart it for an urgent swap\)/,
  );
});

test('the inventory decides: reload: none, a command of its own (through sudo -n with become), nothing by default for transport: local', () => {
  assert.deepEqual(
    reloadPlans(node(['mariadb'], { reload: 'none' })).map((p) => p.kind),
    ['none'],
  );
  const own = reloadPlans(node(['mariadb'], { reload: "systemctl reload mariadb && echo 'done'" }))[0] as {
    command: string;
  };
  assert.equal(own.command, `sh -c 'systemctl reload mariadb && echo '\\''done'\\'''`);
  const sudo = reloadPlans(node(['mariadb'], { become: 'sudo' }))[0] as { command: string };
  assert.match(sudo.command, /^sudo -n sh -c /);
  assert.deepEqual(
    reloadPlans(node(['mariadb'], { transport: 'local' })).map((p) => p.kind),
    ['none'],
  );
});

test("the MariaDB default, run by a shell as on a node, reloads a real server (and its failure carries the server's message)", async (t) => {
  const dir = await tempDir(t);
  assert.equal((await dbtls(['setup', '--datadir', dir, '--san', '127.0.0.1'])).code, 0);
  const server = await startMariadb(scope, {
    ssl: { ca: join(dir, 'ca.pem'), cert: join(dir, 'server-cert.pem'), key: join(dir, 'server-key.pem') },
  });
  const plan = reloadPlans(node(['mariadb']))[0] as { command: string };
  // The node's client finds the server as on a node: through the SSH user's ~/.my.cnf (here HOME is
  // a folder of the test's, pointing at the test server's socket as root).
  await writeFile(join(dir, '.my.cnf'), `[client]\nsocket=${server.socket}\nuser=root\n`, { mode: 0o600 });
  const env = { ...process.env, HOME: dir };
  const ok = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    import('node:child_process').then(({ execFile }) =>
      execFile('/bin/sh', ['-c', plan.command], { env }, (err, _o, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
  });
  assert.equal(ok.code, 0, ok.stderr);
  // A key that does not match: FLUSH SSL refuses, with the server's words.
  await server.sql('SELECT 1');
  const { copyFile } = await import('node:fs/promises');
  const other = await tempDir(t);
  assert.equal((await dbtls(['setup', '--datadir', other])).code, 0);
  await copyFile(join(other, 'server-key.pem'), join(dir, 'server-key.pem'));
  const bad = await runLocal(`HOME=${shellQuote(dir)} ${plan.command}`);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ERROR 1105/);
});

test('reload: FLUSH SSL (MariaDB) or both statements (PXC, MySQL-wsrep), each followed by the Synced check; an old provider is restart-required', async () => {
  const galeraNode = (roles: Role[], providerVersion?: string) =>
    node(roles, {
      galera: { providerOptions: [], port: 4567, sst: 'rsync', ...(providerVersion ? { providerVersion } : {}) },
    });
  const [maria] = reloadPlans(galeraNode(['mariadb', 'galera']));
  assert.equal(maria!.kind, 'command');
  assert.match(maria!.kind === 'command' ? maria!.command : '', /'FLUSH SSL'$/);
  assert.match(maria!.kind === 'command' ? maria!.command : '', /wsrep_local_state_comment/);
  const [pxc] = reloadPlans(galeraNode(['percona', 'pxc']));
  assert.match(
    pxc!.kind === 'command' ? pxc!.command : '',
    /ALTER INSTANCE RELOAD TLS; SET GLOBAL wsrep_provider_options = '\\''socket\.ssl_reload=1'\\''/,
  );
  const old = reloadPlans(galeraNode(['mariadb', 'galera'], '26.4.7'));
  assert.deepEqual(
    old.map((p) => p.kind),
    ['command', 'restart-required'],
  );
  assert.match(old[1]!.kind === 'restart-required' ? old[1]!.why : '', /26\.4\.7 reads its certificates at start only/);
  assert.equal(providerReloads('26.4.8'), true);
  assert.equal(providerReloads('26.4.23'), true);
  assert.equal(providerReloads('25.3.37'), false);
});

test('the Galera reload script: the statement, then Synced or exit 1 with the state (run by sh with a stand-in client)', async (t) => {
  const dir = await tempDir(t);
  const [plan] = reloadPlans(
    node(['mariadb', 'galera'], { galera: { providerOptions: [], port: 4567, sst: 'rsync' } }),
  );
  assert.ok(plan && plan.kind === 'command');
  // A `mariadb` on PATH that logs its statement and answers SHOW STATUS with $STATE.
  const client = join(dir, 'mariadb');
  await writeFile(
    client,
    '#!/bin/sh\nfor a; do last=$a; done\necho "$last" >> "$LOG"\ncase "$last" in SHOW*) printf "wsrep_local_state_comment\\t%s\\n" "$STATE";; esac\n',
    { mode: 0o755 },
  );
  const log = join(dir, 'log');
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, LOG: log };
  const synced = await run('sh', ['-c', plan.command], { env: { ...env, STATE: 'Synced' } });
  assert.equal(synced.code, 0, synced.stderr);
  const donor = await run('sh', ['-c', plan.command], { env: { ...env, STATE: 'Donor/Desynced' } });
  assert.equal(donor.code, 1);
  assert.match(donor.stderr, /not a Synced cluster member \(wsrep_local_state_comment: .*Donor\/Desynced\)/);
  const lines = (await run('cat', [log])).stdout.trim().split('\n');
  assert.deepEqual(lines, [
    'FLUSH SSL',
    "SHOW STATUS LIKE 'wsrep_local_state_comment'",
    'FLUSH SSL',
    "SHOW STATUS LIKE 'wsrep_local_state_comment'",
  ]);
});
