// ca.intermediate without a server: what issue makes (a sealed root, an intermediate with pathlen 0,
// leaf files of leaf + intermediate), what it refuses (an unsealed root, half an intermediate, a
// recorded one gone), the CRLs (one per CA; the root's kept as it is when a leaf is revoked, so the
// root key stays offline), check's chain lint, and rotate intermediate / rotate ca on local nodes.
// The live proof (MariaDB, Java, rotation under load) is test/e2e/intermediate-chain.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run, type RunOptions } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';

const PASS = 'root-passphrase-for-tests';
const sealed: RunOptions = { env: { ...process.env, DBTLS_CA_PASSPHRASE: PASS }, timeoutMs: 60_000 };
const open: RunOptions = { env: { ...process.env, DBTLS_CA_PASSPHRASE: '' }, timeoutMs: 60_000 };
delete open.env!.DBTLS_CA_PASSPHRASE;

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const certs = async (file: string) =>
  ((await readFile(file, 'utf8')).match(PEM) ?? []).map((p) => new X509Certificate(p));

function inventory(dir: string, extra: Partial<TestInventory> = {}): TestInventory {
  return {
    nodes: [
      {
        name: 'db1',
        host: '10.9.0.1',
        roles: ['mariadb'],
        transport: 'local',
        dest: '/etc/mysql/ssl',
        reload: `echo db1 >> ${join(dir, 'reloads.log')}`,
      },
    ],
    clients: ['app'],
    intermediate: true,
    ...extra,
  };
}

test('issue: a sealed root, an intermediate (CA, pathlen 0) that signs every leaf; leaf files carry leaf + intermediate; an unsealed root is refused', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir));
  const pki = join(dir, 'pki');
  const unsealed = await dbtls(['issue', '-i', inv], open);
  assert.equal(unsealed.code, 2);
  assert.match(unsealed.stderr, /keeps the root key offline, but it would be written unencrypted/);
  await assert.rejects(stat(join(pki, 'ca.pem')), 'nothing written');

  const r = await dbtls(['issue', '-i', inv, '--json'], sealed);
  assert.equal(r.code, 0, r.stderr);
  assert.match(await readFile(join(pki, 'ca-key.pem'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.doesNotMatch(await readFile(join(pki, 'intermediate-key.pem'), 'utf8'), /ENCRYPTED/, 'online: no passphrase');
  const [root] = await certs(join(pki, 'ca.pem'));
  const [intermediate] = await certs(join(pki, 'intermediate.pem'));
  const text = (await run('openssl', ['x509', '-in', join(pki, 'intermediate.pem'), '-noout', '-text'])).stdout;
  assert.match(text, /CA:TRUE, pathlen:0/);
  assert.match(text, /Certificate Sign, CRL Sign/);
  assert.ok(intermediate!.verify(root!.publicKey));
  for (const file of ['nodes/db1/server-cert.pem', 'nodes/db1/client-cert.pem', 'clients/app/client-cert.pem']) {
    const chain = await certs(join(pki, file));
    assert.deepEqual(
      chain.map((c) => c.fingerprint256),
      [chain[0]!.fingerprint256, intermediate!.fingerprint256],
      `${file}: leaf then intermediate`,
    );
    assert.ok(chain[0]!.verify(intermediate!.publicKey), `${file} is signed by the intermediate`);
    // OpenSSL with the root alone as trust, the file's own chain as the untrusted part.
    const v = await run('openssl', [
      'verify',
      '-CAfile',
      join(pki, 'ca.pem'),
      '-untrusted',
      join(pki, file),
      join(pki, file),
    ]);
    assert.equal(v.code, 0, v.stderr);
  }
  const manifest = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8'));
  assert.equal(manifest.intermediate.fingerprint256, intermediate!.fingerprint256);
  assert.equal((await dbtls(['check', '-i', inv], open)).code, 0, 'check needs no passphrase');
  const again = await dbtls(['issue', '-i', inv, '--json'], open);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).issued, [], 'up to date, and the root is not asked');
});

test('damaged intermediate state is refused, never replaced; check names a leaf file that lacks the intermediate', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir));
  const pki = join(dir, 'pki');
  assert.equal((await dbtls(['issue', '-i', inv], sealed)).code, 0);

  // A leaf file cut to the leaf alone: peers could not build the chain.
  const file = join(pki, 'nodes/db1/server-cert.pem');
  const whole = await readFile(file, 'utf8');
  await writeFile(file, whole.match(PEM)![0] + '\n');
  const checked = await dbtls(['check', '-i', inv, '--json'], open);
  assert.equal(checked.code, 1);
  const item = JSON.parse(checked.stdout).items.find((i: { id: string }) => i.id === 'nodes/db1/server');
  assert.match(item.problems.join(), /chain incomplete: nodes\/db1\/server-cert\.pem lacks the intermediate/);
  await writeFile(file, whole);

  const key = join(pki, 'intermediate-key.pem');
  await rename(key, `${key}.away`);
  const half = await dbtls(['issue', '-i', inv, '--force'], sealed);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /intermediate-key\.pem is missing but .*intermediate\.pem is there/);
  await rename(join(pki, 'intermediate.pem'), join(pki, 'intermediate.pem.away'));
  const gone = await dbtls(['issue', '-i', inv, '--force'], sealed);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /records the intermediate .* that signed this cluster's leaves/);
  await assert.rejects(stat(join(pki, 'intermediate.pem')), 'not silently replaced');
});

test('CRLs: one from the intermediate and one from the root; revoking a leaf needs no root key and keeps the root CRL byte for byte; OpenSSL checks the whole chain', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir, { crlDays: 7 }));
  const pki = join(dir, 'pki');
  assert.equal((await dbtls(['issue', '-i', inv], sealed)).code, 0);
  const blocks = async () =>
    (await readFile(join(pki, 'crl.pem'), 'utf8')).match(/-----BEGIN X509 CRL-----[^-]+-----END X509 CRL-----/g)!;
  const [, rootCrl] = await blocks();
  const next = (await run('openssl', ['crl', '-noout', '-nextupdate'], { input: rootCrl })).stdout;
  assert.ok(Date.parse(next.split('=')[1]!) - Date.now() > 170 * 86_400_000, `the root's CRL is long-lived: ${next}`);

  const revoked = await dbtls(['revoke', '-i', inv, '--client', 'app'], open);
  assert.equal(revoked.code, 0, revoked.stderr);
  const after = await blocks();
  assert.equal(after.length, 2);
  assert.equal(after[1], rootCrl, 'the root CRL is kept as it was');
  const verify = (cert: string) =>
    run('openssl', [
      'verify',
      '-crl_check_all',
      '-CRLfile',
      join(pki, 'crl.pem'),
      '-CAfile',
      join(pki, 'ca.pem'),
      '-untrusted',
      join(pki, cert),
      join(pki, cert),
    ]);
  assert.equal((await verify('nodes/db1/server-cert.pem')).code, 0);
  const refused = await verify('clients/app/client-cert.pem');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /certificate revoked/);
  assert.equal((await dbtls(['check', '-i', inv], open)).code, 1, 'the revoked certificate is still in use');
  const rotate = await dbtls(['rotate', 'intermediate', '-i', inv, '--yes'], sealed);
  assert.equal(rotate.code, 2);
  assert.match(rotate.stderr, /rotate intermediate with revocation on .* is not supported yet/);
});

test('rotate intermediate: the root signs a new one, every leaf moves to it, the trust file on the node does not change; rotate ca then moves root and intermediate', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir));
  const pki = join(dir, 'pki');
  const root = join(dir, 'nodes');
  assert.equal((await dbtls(['apply', '-i', inv, '--local-root', root], sealed)).code, 0);
  const node = (f: string) => join(root, 'db1/etc/mysql/ssl', f);
  const trust = await readFile(node('ca.pem'), 'utf8');
  const [old] = await certs(join(pki, 'intermediate.pem'));

  const noRoot = await dbtls(['rotate', 'intermediate', '-i', inv, '--local-root', root, '--yes'], open);
  assert.equal(noRoot.code, 2, 'the root key is sealed');
  assert.match(noRoot.stderr, /ca-key\.pem is encrypted and no passphrase was given/);

  const r = await dbtls(['rotate', 'intermediate', '-i', inv, '--local-root', root, '--yes', '--json'], sealed);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.notEqual(report.new.serial, report.old.serial);
  const [fresh] = await certs(join(pki, 'intermediate.pem'));
  assert.notEqual(fresh!.fingerprint256, old!.fingerprint256);
  assert.deepEqual(
    (await certs(join(report.archived, 'intermediate.pem'))).map((c) => c.fingerprint256),
    [old!.fingerprint256],
    'the old one archived',
  );
  const served = await certs(node('server-cert.pem'));
  assert.equal(served[1]!.fingerprint256, fresh!.fingerprint256);
  assert.ok(served[0]!.verify(fresh!.publicKey));
  assert.equal(await readFile(node('ca.pem'), 'utf8'), trust, 'no trust change');

  const ca = await dbtls(['rotate', 'ca', '-i', inv, '--local-root', root, '--yes'], sealed);
  assert.equal(ca.code, 0, ca.stdout + ca.stderr);
  assert.match(ca.stdout, /new intermediate \S+, signed by the new root/);
  const [newRoot] = await certs(node('ca.pem'));
  const chain = await certs(node('server-cert.pem'));
  assert.ok(chain[1]!.verify(newRoot!.publicKey), "the node's intermediate is the new root's");
  assert.ok(chain[0]!.verify(chain[1]!.publicKey));
  const v = await run('openssl', [
    'verify',
    '-CAfile',
    node('ca.pem'),
    '-untrusted',
    node('server-cert.pem'),
    node('server-cert.pem'),
  ]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal((await dbtls(['check', '-i', inv], open)).code, 0);
});

test('behind ProxySQL (which sends no intermediate, proxysql#5204) the servers trust root + intermediate, and keep the previous one through rotate intermediate', async (t) => {
  const dir = await tempDir(t);
  const reload = (n: string) => `echo ${n} >> ${join(dir, 'reloads.log')}`;
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: '10.9.0.1', roles: ['mariadb'], dest: '/etc/mysql/ssl', reload: reload('db1') },
      { name: 'px1', host: '10.9.0.2', roles: ['proxysql'], dest: '/etc/proxysql/ssl', reload: reload('px1') },
    ],
    intermediate: true,
  });
  const pki = join(dir, 'pki');
  const root = join(dir, 'nodes');
  assert.equal((await dbtls(['apply', '-i', inv, '--local-root', root], sealed)).code, 0);
  const [rootCa] = await certs(join(pki, 'ca.pem'));
  const [first] = await certs(join(pki, 'intermediate.pem'));
  const fps = async (file: string) => (await certs(file)).map((c) => c.fingerprint256);
  const db1Trust = join(root, 'db1/etc/mysql/ssl/ca.pem');
  assert.deepEqual(await fps(db1Trust), [rootCa!.fingerprint256, first!.fingerprint256]);
  assert.deepEqual(
    await fps(join(root, 'px1/etc/proxysql/ssl/ca.pem')),
    [rootCa!.fingerprint256],
    'ProxySQL: the root',
  );
  // What ProxySQL presents to db1: its client leaf without the intermediate. db1's trust verifies it; the root alone cannot.
  const leafOnly = join(dir, 'px1-leaf.pem');
  await writeFile(leafOnly, (await readFile(join(pki, 'nodes/px1/client-cert.pem'), 'utf8')).match(PEM)![0] + '\n');
  assert.equal((await run('openssl', ['verify', '-CAfile', db1Trust, leafOnly])).code, 0);
  assert.notEqual((await run('openssl', ['verify', '-CAfile', join(pki, 'ca.pem'), leafOnly])).code, 0);

  const rotated = await dbtls(['rotate', 'intermediate', '-i', inv, '--local-root', root, '--yes'], sealed);
  assert.equal(rotated.code, 0, rotated.stdout + rotated.stderr);
  const [second] = await certs(join(pki, 'intermediate.pem'));
  assert.deepEqual(
    await fps(db1Trust),
    [rootCa!.fingerprint256, second!.fingerprint256, first!.fingerprint256],
    'the new one, and the previous one while a ProxySQL may still present its leaves',
  );
});

test('an intermediate brought from your own PKI (root → policy CA → issuing CA): ca.pem is its root, leaves carry the chain, the root key is never asked for', async (t) => {
  const dir = await tempDir(t);
  const o = (args: string[]) => run('openssl', args, { cwd: dir });
  const ext = (pathlen: number) =>
    `basicConstraints=critical,CA:TRUE,pathlen:${pathlen}\nkeyUsage=critical,keyCertSign,cRLSign\n`;
  await writeFile(join(dir, 'mid.ext'), ext(1));
  await writeFile(join(dir, 'iss.ext'), ext(0));
  const steps = [
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'root.key',
      '-out',
      'root.pem',
      '-subj',
      '/CN=Corp Root',
      '-days',
      '3650',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'mid.key', '-out', 'mid.csr', '-subj', '/CN=Corp Policy CA'],
    [
      'x509',
      '-req',
      '-in',
      'mid.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-out',
      'mid.pem',
      '-days',
      '3000',
      '-extfile',
      'mid.ext',
    ],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'iss.key', '-out', 'iss.csr', '-subj', '/CN=Corp Issuing CA'],
    [
      'x509',
      '-req',
      '-in',
      'iss.csr',
      '-CA',
      'mid.pem',
      '-CAkey',
      'mid.key',
      '-CAcreateserial',
      '-out',
      'iss.pem',
      '-days',
      '2000',
      '-extfile',
      'iss.ext',
    ],
  ];
  for (const s of steps) assert.equal((await o(s)).code, 0, s.join(' '));
  const pem = (f: string) => readFile(join(dir, f), 'utf8');
  await writeFile(join(dir, 'chain.pem'), (await pem('iss.pem')) + (await pem('mid.pem')) + (await pem('root.pem')));
  const inv = await writeInventory(dir, inventory(dir));
  const pki = join(dir, 'pki');
  const notAChain = await dbtls(
    ['issue', '-i', inv, '--ca-cert', join(dir, 'iss.pem'), '--ca-key', join(dir, 'iss.key')],
    open,
  );
  assert.equal(notAChain.code, 2);
  assert.match(notAChain.stderr, /holds one certificate; with ca\.intermediate it must be a chain/);
  await assert.rejects(stat(join(pki, 'ca.pem')));

  const r = await dbtls(
    ['issue', '-i', inv, '--ca-cert', join(dir, 'chain.pem'), '--ca-key', join(dir, 'iss.key')],
    open,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(await readFile(join(pki, 'ca.pem'), 'utf8'), (await pem('root.pem')).trim() + '\n', 'ca.pem: the root');
  await assert.rejects(stat(join(pki, 'ca-key.pem')), 'no root key here');
  const leaf = join(pki, 'nodes/db1/server-cert.pem');
  assert.equal((await certs(leaf)).length, 3, 'leaf, issuing CA, policy CA');
  const v = await run('openssl', ['verify', '-CAfile', join(pki, 'ca.pem'), '-untrusted', leaf, leaf]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal((await dbtls(['check', '-i', inv], open)).code, 0);
  // push checks each pair before it leaves: through the two CAs the leaf file carries.
  const applied = await dbtls(['apply', '-i', inv, '--local-root', join(dir, 'nodes')], open);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  const again = await dbtls(['issue', '-i', inv, '--force', '--json'], open);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).issued.length, 3);
  const rotate = await dbtls(['rotate', 'intermediate', '-i', inv, '--yes'], sealed);
  assert.equal(rotate.code, 2);
  assert.match(rotate.stderr, /belongs to your own PKI .* cannot sign with it/);

  const crl = await tempDir(t);
  const withCrl = await writeInventory(crl, inventory(crl, { crlDays: 7 }));
  const refused = await dbtls(
    ['issue', '-i', withCrl, '--ca-cert', join(dir, 'chain.pem'), '--ca-key', join(dir, 'iss.key')],
    open,
  );
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /servers would need your root's CRL too/);
});
