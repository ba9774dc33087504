// Revocation without a server: what `ca.crlDays` turns on (a first CRL at issue, ssl_crl in the
// configs of the servers that honour a CRL and crl.pem in their delivery, none for the others), what
// `revoke` records and signs (OpenSSL then refuses the revoked certificate), and the mistakes that
// exit 2 with nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { nodeDelivery } from '../../lib/deliver/plan.js';

const NODES = [
  { name: 'db1', host: '10.0.0.1', roles: ['mariadb'] },
  { name: 'my1', host: '10.0.0.2', roles: ['mysql'] },
  { name: 'kv1', host: '10.0.0.3', roles: ['tikv'] },
  { name: 'g1', host: '10.0.0.4', roles: ['mariadb', 'galera'] },
  { name: 'px1', host: '10.0.0.5', roles: ['proxysql'] },
  { name: 'mxs1', host: '10.0.0.6', roles: ['maxscale'] },
  { name: 'rt1', host: '10.0.0.7', roles: ['mysqlrouter'] },
];

test('ca.crlDays: issue signs a first CRL; the CRL settings and crl.pem only for the products that honour one', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes: NODES, clients: ['app'], crlDays: 7 });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const pki = join(dir, 'pki');
  const text = (await run('openssl', ['crl', '-in', join(pki, 'crl.pem'), '-noout', '-text'])).stdout;
  assert.match(text, /X509v3 CRL Number: \n\s+1\n/);
  // Only the revocation canary (check --live presents it: a server that takes it enforces nothing).
  const canary = new X509Certificate(await readFile(join(pki, 'revocation-canary/client-cert.pem')));
  assert.deepEqual(
    [...text.matchAll(/Serial Number: (\S+)/g)].map((m) => m[1]!.toLowerCase()),
    [canary.serialNumber.toLowerCase()],
  );
  assert.equal((await stat(join(pki, 'revocation-canary/client-key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(pki, 'crl.pem'))).mode & 0o777, 0o644);
  const render = await dbtls(['render', '-i', inv]);
  assert.equal(render.code, 0);
  // The rest are told what revocation means for them.
  assert.match(
    render.stdout,
    /^revocation on kv1: not enforced: tikv read no CRL, so revocation here means rotation \(dbtls rotate leaf --node kv1 --all\)$/m,
  );
  assert.match(
    render.stdout,
    /^revocation on g1: the SQL port enforces the CRL; the Galera group channel and SST do not/m,
  );
  assert.match(
    render.stdout,
    /^revocation on px1: ProxySQL checks its backends against the CRL; its frontend does not/m,
  );
  assert.doesNotMatch(render.stdout, /revocation on (db1|my1|mxs1|rt1)/);
  const rendered = (node: string, file: string) => readFile(join(pki, 'rendered', node, file), 'utf8');
  assert.match(await rendered('db1', 'my.cnf'), /^ssl_crl = \/etc\/mysql\/ssl\/crl\.pem$/m);
  assert.match(await rendered('my1', 'my.cnf'), /^ssl_crl = \/etc\/mysql\/ssl\/crl\.pem$/m);
  assert.match(await rendered('g1', 'my.cnf'), /^ssl_crl = /m, 'the SQL side of a Galera node reads it');
  assert.doesNotMatch(await rendered('kv1', 'tikv.toml'), /crl/i);
  // ProxySQL checks its backends against it, MaxScale its listener's clients (REFERENCE-2 §4.1).
  assert.match(await rendered('px1', 'proxysql.cnf'), /^ {2}ssl_p2s_crl = "\/var\/lib\/proxysql\/crl\.pem"$/m);
  assert.match(
    await rendered('px1', 'proxysql-admin.sql'),
    /^SET mysql-ssl_p2s_crl='\/var\/lib\/proxysql\/crl\.pem';$/m,
  );
  const listener = (await rendered('mxs1', 'maxscale.cnf')).split(/^\[Read-Write-Listener\]$/m)[1]!;
  assert.match(listener, /^ssl_crl=\/etc\/maxscale\/ssl\/crl\.pem$/m);
  // Router checks both legs: the certificates clients send and the servers' (REFERENCE-2 §2).
  const router = await rendered('rt1', 'mysqlrouter.conf');
  assert.match(router, /^client_ssl_crl=\/etc\/mysqlrouter\/ssl\/crl\.pem$/m);
  assert.match(router, /^server_ssl_crl=\/etc\/mysqlrouter\/ssl\/crl\.pem$/m);
  const cluster = await loadInventory(inv);
  const delivered = async (name: string) =>
    (
      await nodeDelivery(
        cluster,
        cluster.nodes.find((n) => n.name === name)!,
        join(pki, 'rendered'),
      )
    ).map((i) => i.remote);
  assert.ok((await delivered('db1')).includes('/etc/mysql/ssl/crl.pem'));
  assert.ok(!(await delivered('kv1')).some((p) => p.endsWith('crl.pem')));

  // Without ca.crlDays, nothing of it.
  const off = await tempDir(t);
  const plain = await writeInventory(off, { nodes: NODES.slice(0, 1) });
  assert.equal((await dbtls(['issue', '-i', plain])).code, 0);
  await assert.rejects(stat(join(off, 'pki', 'crl.pem')));
  assert.equal((await dbtls(['render', '-i', plain])).code, 0);
  assert.doesNotMatch(await readFile(join(off, 'pki/rendered/db1/my.cnf'), 'utf8'), /ssl_crl/);
});

test('revoke --node: both of its certificates go into the next CRL, which OpenSSL enforces; again is a no-op', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes: NODES.slice(0, 2), crlDays: 7 });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const pki = join(dir, 'pki');
  const r = await dbtls(['revoke', '-i', inv, '--node', 'my1', '--reason', 'cessationOfOperation', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.revoked.map((x: { id: string }) => x.id).sort(), ['nodes/my1/client', 'nodes/my1/server']);
  assert.equal(report.crl.number, 2);
  const verify = (cert: string) =>
    run('openssl', [
      'verify',
      '-crl_check',
      '-CRLfile',
      join(pki, 'crl.pem'),
      '-CAfile',
      join(pki, 'ca.pem'),
      join(pki, cert),
    ]);
  assert.match(
    (await verify('nodes/my1/server-cert.pem')).stdout + (await verify('nodes/my1/server-cert.pem')).stderr,
    /certificate revoked/,
  );
  assert.equal((await verify('nodes/db1/server-cert.pem')).code, 0);
  const text = (await run('openssl', ['crl', '-in', join(pki, 'crl.pem'), '-noout', '-text'])).stdout;
  assert.equal(text.match(/Cessation Of Operation/g)?.length, 3, "my1's two, and the canary");
  const again = JSON.parse((await dbtls(['revoke', '-i', inv, '--node', 'my1', '--json'])).stdout);
  assert.deepEqual([again.revoked.length, again.already.length], [0, 2]);
});

test('mistakes exit 2 with the reason, and write nothing', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes: NODES.slice(0, 1), crlDays: 7 });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const manifest = await readFile(join(dir, 'pki/manifest.json'), 'utf8');
  const crl = await readFile(join(dir, 'pki/crl.pem'), 'utf8');
  const cases: Array<[string[], RegExp]> = [
    [['--node', 'db1', '--client', 'app'], /give exactly one of --node, --client or --serial/],
    [[], /give exactly one of --node, --client or --serial/],
    [['--node', 'db9'], /the manifest has no certificate of node "db9"/],
    [['--client', 'db1', '--reason', 'bored'], /--reason must be one of unspecified, keyCompromise/],
    [['--serial', 'xyz'], /--serial "xyz" is not hexadecimal/],
  ];
  for (const [args, want] of cases) {
    const r = await dbtls(['revoke', '-i', inv, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
  }
  assert.equal(await readFile(join(dir, 'pki/manifest.json'), 'utf8'), manifest);
  assert.equal(await readFile(join(dir, 'pki/crl.pem'), 'utf8'), crl);

  const off = await writeInventory(dir, { nodes: NODES.slice(0, 1) }, 'off.yml');
  const r = await dbtls(['revoke', '-i', off, '--node', 'db1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /does not turn revocation on: set ca\.crlDays/);
});

test('a second CA in ca.pem needs its own CRL: check says which is missing, and crl refresh refuses without that CA key', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes: NODES.slice(0, 1), crlDays: 7 });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const other = join(dir, 'other');
  await mkdir(other);
  assert.equal((await dbtls(['setup', '--datadir', other])).code, 0);
  const pki = join(dir, 'pki');
  const otherCa = await readFile(join(other, 'ca.pem'), 'utf8');
  await writeFile(join(pki, 'ca.pem'), (await readFile(join(pki, 'ca.pem'), 'utf8')) + otherCa);
  const crl = await readFile(join(pki, 'crl.pem'), 'utf8');
  const checked = await dbtls(['check', '-i', inv, '--json']);
  assert.equal(checked.code, 1, checked.stdout);
  const item = JSON.parse(checked.stdout).items.find((i: { id: string }) => i.id === 'crl');
  const serial = new X509Certificate(otherCa).serialNumber.toLowerCase();
  assert.equal(item.status, 'invalid');
  assert.match(item.problems.join(), new RegExp(`holds no CRL of the CA serial ${serial}`));
  const refresh = await dbtls(['crl', 'refresh', '-i', inv]);
  assert.equal(refresh.code, 2, refresh.stderr);
  assert.match(refresh.stderr, new RegExp(`trusts the CA serial ${serial}, but its key is neither in`));
  assert.equal(await readFile(join(pki, 'crl.pem'), 'utf8'), crl, 'nothing written');
});

test('a node taken out of the inventory: issue says its certificates stay valid; issue --revoke-removed revokes them and drops them from the manifest', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes: NODES.slice(0, 2), crlDays: 7 });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const pki = join(dir, 'pki');
  const before = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8'));
  const my1 = before.certificates.filter((c: { owner: { name: string } }) => c.owner.name === 'my1');
  assert.equal(my1.length, 2);
  await writeInventory(dir, { nodes: NODES.slice(0, 1), crlDays: 7 });
  const noted = await dbtls(['issue', '-i', inv]);
  assert.equal(noted.code, 0);
  assert.match(
    noted.stdout,
    /note: node\/my1 is no longer in the inventory, but its certificates stay valid: revoke them with dbtls issue --revoke-removed/,
  );
  const r = await dbtls(['issue', '-i', inv, '--revoke-removed', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout)
      .revokedRemoved.map((x: { id: string }) => x.id)
      .sort(),
    ['nodes/my1/client', 'nodes/my1/server'],
  );
  const after = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8'));
  assert.ok(!after.certificates.some((c: { owner: { name: string } }) => c.owner.name === 'my1'), 'records dropped');
  assert.equal(after.revoked.filter((r: { id: string }) => r.id.startsWith('nodes/my1/')).length, 2);
  const refused = await run('openssl', [
    'verify',
    '-crl_check',
    '-CRLfile',
    join(pki, 'crl.pem'),
    '-CAfile',
    join(pki, 'ca.pem'),
    join(pki, 'nodes/my1/server-cert.pem'),
  ]);
  assert.match(refused.stdout + refused.stderr, /certificate revoked/);
  const check = JSON.parse((await dbtls(['check', '-i', inv, '--json'])).stdout);
  assert.deepEqual(check.orphans, []);
  const again = await dbtls(['issue', '-i', inv, '--revoke-removed']);
  assert.equal(again.code, 0);
  assert.doesNotMatch(again.stdout, /revoked|note:/);

  // Revocation off: the note says what is left, and --revoke-removed is refused.
  const off = await tempDir(t);
  const plain = await writeInventory(off, { nodes: NODES.slice(0, 2) });
  assert.equal((await dbtls(['issue', '-i', plain])).code, 0);
  await writeInventory(off, { nodes: NODES.slice(0, 1) });
  assert.match(
    (await dbtls(['issue', '-i', plain])).stdout,
    /with revocation off \(ca\.crlDays\) only a CA rotation ends them/,
  );
  const refusedFlag = await dbtls(['issue', '-i', plain, '--revoke-removed']);
  assert.equal(refusedFlag.code, 2);
  assert.match(refusedFlag.stderr, /does not turn revocation on/);
});
