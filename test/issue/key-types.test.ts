// Key types: what `issue` makes for each keyType (checked by OpenSSL), which node gets which, that a
// change of key type re-issues exactly the certificates it touches, and the combinations refused
// before anything is written (TiKV/PD and what dials TiKV, old ProxySQL, a contradicting keySize).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

async function text(file: string): Promise<string> {
  const r = await run('openssl', ['x509', '-noout', '-text', '-in', file], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('P-256 leaves under a P-384 CA, a node overriding with RSA 3072, the RSA pair still RSA; OpenSSL verifies every chain', async (t) => {
  const dir = await tempDir(t);
  const inv = join(dir, 'inv.yml');
  await writeFile(
    inv,
    `cluster: ec
ca: { keyType: p384 }
leaf: { keyType: p256 }
nodes:
  - { name: db1, host: 10.0.0.1, roles: [mysql], transport: local }
  - { name: db2, host: 10.0.0.2, roles: [mariadb], transport: local, keyType: rsa3072 }
clients: [{ name: app }]
`,
  );
  const issued = await dbtls(['issue', '-i', inv]);
  assert.equal(issued.code, 0, issued.stderr);
  const pki = join(dir, 'pki', 'ec');
  assert.match(await text(join(pki, 'ca.pem')), /NIST CURVE: P-384[\s\S]*Signature Algorithm: ecdsa-with-SHA384/);
  const db1 = await text(join(pki, 'nodes/db1/server-cert.pem'));
  assert.match(db1, /NIST CURVE: P-256/);
  assert.match(db1, /X509v3 Key Usage: critical\s+Digital Signature\n/, 'an EC key signs, it does not encipher keys');
  assert.match(await text(join(pki, 'clients/app/client-cert.pem')), /NIST CURVE: P-256/);
  const db2 = await text(join(pki, 'nodes/db2/server-cert.pem'));
  assert.match(db2, /Public-Key: \(3072 bit\)/);
  assert.match(db2, /Digital Signature, Key Encipherment/);
  assert.match(db2, /Signature Algorithm: ecdsa-with-SHA384/, 'an RSA leaf signed by the EC CA');
  const pair = await run('openssl', ['pkey', '-noout', '-text', '-in', join(pki, 'nodes/db1/private_key.pem')]);
  assert.match(pair.stdout, /Private-Key: \(2048 bit, 2 primes\)/, "caching_sha2_password's pair stays RSA");
  for (const leaf of ['nodes/db1/server-cert.pem', 'nodes/db1/client-cert.pem', 'nodes/db2/server-cert.pem']) {
    const v = await run('openssl', ['verify', '-CAfile', join(pki, 'ca.pem'), join(pki, leaf)]);
    assert.equal(v.code, 0, `${leaf}: ${v.stdout}${v.stderr}`);
  }
  const check = await dbtls(['check', '-i', inv]);
  assert.equal(check.code, 0, check.stdout);

  // P-256 → P-384 for the leaves: the EC certificates are re-issued, db2 (its own RSA 3072) is not.
  await writeFile(inv, (await readFile(inv, 'utf8')).replace('leaf: { keyType: p256 }', 'leaf: { keyType: p384 }'));
  const plan = await dbtls(['issue', '-i', inv, '--check', '--json']);
  const items = (JSON.parse(plan.stdout) as { issued: Array<{ id: string; reason: string }> }).issued;
  assert.deepEqual(items.map((i) => [i.id, i.reason]).sort(), [
    ['clients/app/client', 'key ECDSA P-256 → ECDSA P-384'],
    ['nodes/db1/client', 'key ECDSA P-256 → ECDSA P-384'],
    ['nodes/db1/server', 'key ECDSA P-256 → ECDSA P-384'],
  ]);
});

test('refused with the line, the field and why, and nothing written: what TiKV, PD and old ProxySQL cannot take', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, RegExp]> = [
    [
      'leaf: { keyType: p256 }\nnodes:\n  - { name: kv1, host: 10.0.0.1, roles: [tikv], transport: local }',
      /:4:\d+: nodes\[0\]\.roles: p256 \(from leaf\.keyType\): TiKV and PD cannot use ECDSA certificates/,
    ],
    [
      'nodes:\n  - { name: pd1, host: 10.0.0.1, roles: [pd], transport: local, keyType: p384 }',
      /:3:\d+: nodes\[0\]\.keyType: p384: TiKV and PD cannot use ECDSA certificates \(tikv\/tikv#12617\); set keyType: rsa2048 on pd1/,
    ],
    [
      'nodes:\n  - { name: kv1, host: 10.0.0.1, roles: [tikv], transport: local }\n  - { name: tidb1, host: 10.0.0.2, roles: [tidb], transport: local, keyType: p256 }',
      /:4:\d+: nodes\[1\]\.keyType: p256: tidb1 dials TiKV, which cannot verify ECDSA certificates/,
    ],
    [
      'ca: { keyType: p256 }\nnodes:\n  - { name: kv1, host: 10.0.0.1, roles: [tikv], transport: local }',
      /:2:\d+: ca\.keyType: p256: TiKV cannot verify an ECDSA-signed chain/,
    ],
    [
      'nodes:\n  - { name: px1, host: 10.0.0.1, roles: [proxysql], transport: local, version: "2.2.0", keyType: p256 }',
      /:3:\d+: nodes\[0\]\.keyType: p256: ProxySQL 2\.2\.0 reads RSA keys only/,
    ],
    [
      'leaf: { keySize: 3072, keyType: rsa2048 }\nnodes:\n  - { name: db1, host: 10.0.0.1, transport: local }',
      /:2:\d+: leaf\.keyType: rsa2048 contradicts keySize 3072/,
    ],
    [
      'ca: { intermediateDays: 100 }\nnodes:\n  - { name: db1, host: 10.0.0.1, transport: local }',
      /:2:\d+: ca\.intermediateDays: is for ca\.intermediate: true/,
    ],
    [
      'ca: { intermediate: true, days: 100, intermediateDays: 200 }\nnodes:\n  - { name: db1, host: 10.0.0.1, transport: local }',
      /:2:\d+: ca\.intermediateDays: 200 is longer than the root's ca\.days 100/,
    ],
    [
      'leaf: { keyType: ed25519 }\nnodes:\n  - { name: db1, host: 10.0.0.1, transport: local }',
      /:2:\d+: leaf\.keyType: "ed25519" is not a key type; use rsa2048, rsa3072, rsa4096, p256, p384/,
    ],
  ];
  for (const [i, [body, want]] of cases.entries()) {
    const file = join(dir, `inv${i}.yml`);
    await writeFile(file, `cluster: c${i}\n${body}\n`);
    const r = await dbtls(['issue', '-i', file]);
    assert.equal(r.code, 2, body);
    assert.match(r.stderr, new RegExp(`inv${i}\\.yml${want.source}`), `${body}\n${r.stderr}`);
    await assert.rejects(access(join(dir, 'pki', `c${i}`)), `${body}: nothing written`);
  }
  // ProxySQL 2.3 and later, and a version not given, take EC keys.
  const ok = join(dir, 'ok.yml');
  await writeFile(
    ok,
    'cluster: ok\nnodes:\n  - { name: px1, host: 10.0.0.1, roles: [proxysql], transport: local, version: "2.3.0", keyType: p256 }\n',
  );
  assert.equal((await dbtls(['check', '-i', ok])).code, 2, 'nothing issued yet, but the inventory is accepted');
  assert.doesNotMatch((await dbtls(['check', '-i', ok])).stderr, /keyType/);
});
