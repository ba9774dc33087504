// `dbtls check` exit codes and findings, on certificates issued for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';

const execFileP = promisify(execFile);

const TWO: TestInventory = {
  nodes: [
    { name: 'db1', host: '10.0.0.11', roles: ['mysql'] },
    { name: 'db2', host: '10.0.0.12' },
  ],
  clients: ['app'],
};
// Tests that check what a plain issue made, or damage it, start from their own copy of one issue.
const issuedTwo = issuedPki(fileScope(), TWO);

async function check(inv: string, extra: string[] = []) {
  const r = await dbtls(['check', '-i', inv, '--json', ...extra]);
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

const statuses = (report: { items: Array<{ id: string; status: string }> }) =>
  Object.fromEntries(report.items.map((i) => [i.id, i.status]));

test('all good: exit 0; certificates issued for 1 day: exit 1 within 30d, exit 0 within 12h', async (t) => {
  const { inv } = await issuedTwo(t);
  const ok = await check(inv);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.report.ok, true);
  assert.equal(ok.report.items.length, 1 + 2 + 2 + 1 + 1); // CA, db1 (server, client, rsa), db2 (server, client), app
  const text = await dbtls(['check', '-i', inv]);
  assert.match(text.stdout, /all 7 ok for at least 30d/);

  const dir1 = await tempDir(t);
  const short = await writeInventory(dir1, { ...TWO, leafDays: 1 });
  assert.equal((await dbtls(['issue', '-i', short])).code, 0);
  const soon = await check(short, ['--within', '30d']);
  assert.equal(soon.code, 1);
  assert.equal(statuses(soon.report)['nodes/db1/server'], 'expiring');
  assert.equal(statuses(soon.report)['ca'], 'ok');
  assert.match(
    soon.report.items.find((i: { id: string }) => i.id === 'nodes/db1/server').problems[0],
    /expires in 0 days/,
  );
  const human = await dbtls(['check', '-i', short]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /EXPIRING nodes\/db1\/server/);
  assert.equal((await check(short, ['--within', '12h'])).code, 0);
});

test('missing, mismatched and outdated files: exit 1, each named', async (t) => {
  const { dir, inv, pki } = await issuedTwo(t);
  await unlink(join(pki, 'nodes/db2/client-cert.pem'));
  // db1's server key replaced by db2's: the key no longer matches the certificate.
  await writeFile(join(pki, 'nodes/db1/server-key.pem'), await readFile(join(pki, 'nodes/db2/server-key.pem')));
  // The inventory grew a SAN that was not issued yet.
  const grown = structuredClone(TWO);
  grown.nodes[1]!.sans = ['db2.example.com'];
  await writeInventory(dir, grown);
  const r = await check(inv);
  assert.equal(r.code, 1);
  const s = statuses(r.report);
  assert.equal(s['nodes/db2/client'], 'missing');
  assert.equal(s['nodes/db1/server'], 'invalid');
  assert.equal(s['nodes/db2/server'], 'outdated');
  assert.equal(s['nodes/db1/client'], 'ok');
  const problems = r.report.items.flatMap((i: { problems: string[] }) => i.problems).join('\n');
  assert.match(problems, /server-key.pem does not belong to nodes\/db1\/server-cert.pem/);
  assert.match(problems, /SANs differ from the inventory: missing DNS:db2.example.com/);
});

test('a certificate from another CA is invalid; a node gone from the inventory is a note, not a failure', async (t) => {
  const { dir, inv } = await issuedTwo(t);
  // Another CA: an issue of its own.
  const other = await tempDir(t);
  const otherInv = await writeInventory(other, TWO);
  assert.equal((await dbtls(['issue', '-i', otherInv])).code, 0);
  const { copyFile } = await import('node:fs/promises');
  for (const f of ['server-cert.pem', 'server-key.pem'])
    await copyFile(join(other, 'pki/nodes/db2', f), join(dir, 'pki/nodes/db2', f));
  const r = await check(inv);
  assert.equal(r.code, 1);
  const db2 = r.report.items.find((i: { id: string }) => i.id === 'nodes/db2/server');
  assert.equal(db2.status, 'invalid');
  assert.match(db2.problems.join(), /chain: no trusted CA signed CN=db2/);

  const shrunk = { ...TWO, nodes: [TWO.nodes[0]!] };
  const { dir: dir3, inv: inv3 } = await issuedTwo(t);
  await writeInventory(dir3, shrunk);
  const r3 = await check(inv3);
  assert.equal(r3.code, 0, r3.stdout);
  assert.deepEqual(r3.report.orphans, ['nodes/db2/client', 'nodes/db2/server']);
});

/**
 * db1's server certificate made again by hand, as an openssl recipe would: the same CA, name and
 * SANs, with KEY (default: db1's own) and the extended key usage EKU.
 */
async function handMade(dir: string, pki: string, eku: string, key?: string): Promise<void> {
  const node = join(pki, 'nodes/db1');
  const ext = join(dir, 'hand.ext');
  await writeFile(ext, `subjectAltName = DNS:db1, IP:10.0.0.11\nextendedKeyUsage = ${eku}\n`);
  const csr = join(dir, 'db1.csr');
  const keyFile = key ?? join(node, 'server-key.pem');
  await execFileP('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=db1', '-out', csr]);
  // prettier-ignore
  await execFileP('openssl', ['x509', '-req', '-in', csr, '-CA', join(pki, 'ca.pem'), '-CAkey', join(pki, 'ca-key.pem'), '-days', '365', '-extfile', ext, '-out', join(node, 'server-cert.pem')]);
  if (key) await writeFile(join(node, 'server-key.pem'), await readFile(key));
}

const db1Server = (report: { items: Array<{ id: string; status: string; problems: string[] }> }) =>
  report.items.find((i) => i.id === 'nodes/db1/server')!;

test('a node certificate without clientAuth is invalid: the node dials its peers with it', async (t) => {
  const { dir, inv, pki } = await issuedTwo(t);
  await handMade(dir, pki, 'serverAuth');
  const r = await check(inv);
  assert.equal(r.code, 1, r.stdout);
  assert.deepEqual(
    [db1Server(r.report).status, db1Server(r.report).problems],
    [
      'invalid',
      [
        'its extended key usage lacks clientAuth: the node serves and dials its peers (Galera, MaxScale, replication, TiDB) with it',
      ],
    ],
  );
  assert.equal(statuses(r.report)['nodes/db2/server'], 'ok');
});

test('a certificate whose key is not the type the inventory asks for is outdated, naming both', async (t) => {
  const { dir, inv, pki } = await issuedTwo(t);
  const key = join(dir, 'ec-key.pem');
  await execFileP('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await handMade(dir, pki, 'serverAuth, clientAuth', key);
  const r = await check(inv);
  assert.equal(r.code, 1, r.stdout);
  assert.deepEqual(
    [db1Server(r.report).status, db1Server(r.report).problems],
    ['outdated', ['its key is ECDSA P-256, the inventory asks for RSA 2048']],
  );
});

test('usage and input errors exit 2: nothing issued yet, a bad --within', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, TWO);
  const none = await dbtls(['check', '-i', inv]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /nothing has been issued for cluster "test" yet/);
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const bad = await dbtls(['check', '-i', inv, '--within', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /option '--within <duration>' argument 'soon' is invalid\. It must be a number with an optional unit/,
  );
});

test('Java stores: checked for presence, the kept password (integrity), and the certificates the manifest records', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, {
    nodes: [{ name: 'db1', host: '10.0.0.11', roles: ['mariadb', 'tungsten'] }],
    clients: [{ name: 'app', keystore: 'pkcs12' }],
  });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const pki = join(dir, 'pki');
  const ok = await check(inv);
  assert.equal(ok.code, 0, ok.stdout);
  const ids = Object.keys(statuses(ok.report));
  for (const store of [
    'clients/app/keystore.p12',
    'clients/app/truststore.p12',
    'nodes/db1/tungsten/tungsten_keystore.jks',
    'nodes/db1/tungsten/tungsten_jgroups_keystore.jceks',
  ]) {
    assert.ok(ids.includes(store), `${store} is checked (${ids.join(', ')})`);
  }

  // A truststore of another CA, made with the right password: it opens, but trusts the wrong CA.
  const other = await tempDir(t);
  assert.equal((await dbtls(['setup', '-d', other])).code, 0);
  const storepassFile = join(pki, 'storepass');
  const trust = join(pki, 'clients/app/truststore.p12');
  assert.equal(
    (
      await dbtls([
        'keystore',
        'trust',
        '--ca',
        join(other, 'ca.pem'),
        '--out',
        trust,
        '--force',
        '--storepass-file',
        storepassFile,
      ])
    ).code,
    0,
  );
  // A keystore that no longer opens with the kept password, and a JKS gone.
  await writeFile(join(pki, 'clients/app/keystore.p12'), Buffer.from('not a store'));
  await unlink(join(pki, 'nodes/db1/tungsten/tungsten_keystore.jks'));
  const bad = await check(inv);
  assert.equal(bad.code, 1);
  const s = statuses(bad.report);
  assert.equal(s['clients/app/truststore.p12'], 'outdated');
  assert.equal(s['clients/app/keystore.p12'], 'invalid');
  assert.equal(s['nodes/db1/tungsten/tungsten_keystore.jks'], 'missing');
  assert.equal(s['nodes/db1/tungsten/tungsten_jgroups_keystore.jceks'], 'ok');

  // dbtls issue puts them right again.
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const fixed = await check(inv);
  assert.equal(fixed.code, 0, fixed.stdout);
});
