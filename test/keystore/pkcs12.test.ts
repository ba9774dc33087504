// PKCS#12 stores from lib/keystore/pkcs12.ts, checked with the real readers (OpenJDK keytool and
// OpenSSL 3 without -legacy), and our reader on stores that keytool and OpenSSL made.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRsaKey } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { readPkcs12, writePkcs12, type Pkcs12Options } from '../../lib/keystore/pkcs12.js';
import type { StoreInput } from '../../lib/keystore/types.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

const PASS = 'changeit';
const dir = await tempDir({ after });

const [rootKey, interKey, leafKey, otherKey] = await Promise.all([
  generateRsaKey(),
  generateRsaKey(),
  generateRsaKey(),
  generateRsaKey(),
]);
const root = issueCertificate({
  profile: 'ca',
  subject: { CN: 'P12 Root CA', O: 'dbtls' },
  days: 3650,
  subjectKey: rootKey,
});
const other = issueCertificate({
  profile: 'ca',
  subject: { CN: 'P12 Other CA', O: 'dbtls' },
  days: 3650,
  subjectKey: otherKey,
});
const inter = issueCertificate({
  profile: 'ca',
  subject: { CN: 'P12 Intermediate CA', O: 'dbtls' },
  days: 1825,
  subjectKey: interKey,
  issuer: loadIssuer(root.pem, rootKey),
});
const leaf = issueCertificate({
  profile: 'server',
  subject: { CN: 'db1.example.com' },
  sans: [],
  days: 30,
  subjectKey: leafKey,
  issuer: loadIssuer(root.pem, rootKey),
});
const deepLeaf = issueCertificate({
  profile: 'client',
  subject: { CN: 'app1' },
  days: 30,
  subjectKey: leafKey,
  issuer: loadIssuer(inter.pem, interKey),
});
const der = (pem: string): Buffer => new X509Certificate(pem).raw;

const keyEntry: StoreInput = {
  kind: 'private-key',
  alias: 'Server',
  key: leafKey,
  chain: [der(leaf.pem), der(root.pem)],
};
const trustRoot: StoreInput = { kind: 'trusted-cert', alias: 'root-ca', cert: der(root.pem) };
const trustOther: StoreInput = { kind: 'trusted-cert', alias: 'other-ca', cert: der(other.pem) };

let fileNo = 0;
async function store(entries: StoreInput[], opts?: Pkcs12Options, password = PASS): Promise<string> {
  const file = join(dir, `store-${++fileNo}.p12`);
  await writeFile(file, writePkcs12(entries, password, opts));
  return file;
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

const keytoolList = (file: string, type = 'PKCS12', password = PASS): Promise<RunResult> =>
  run('keytool', ['-list', '-v', '-storetype', type, '-keystore', file, '-storepass', password]);

async function listed(file: string, type = 'PKCS12'): Promise<string> {
  const r = await keytoolList(file, type);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout;
}

const count = (text: string, re: RegExp): number => text.match(new RegExp(re.source, 'g'))?.length ?? 0;
const pkcs8 = (k: KeyObject): Buffer => k.export({ type: 'pkcs8', format: 'der' });
const fingerprints = (certs: X509Certificate[]): string[] => certs.map((c) => c.fingerprint256);

test('keytool lists a key store as one PrivateKeyEntry with its alias and a chain of 2', async () => {
  const out = await listed(await store([keyEntry]));
  assert.match(out, /Your keystore contains 1 entry\b/);
  assert.match(out, /Alias name: server\n/);
  assert.match(out, /Entry type: PrivateKeyEntry/);
  assert.match(out, /Certificate chain length: 2/);
  assert.match(out, /Certificate\[1\]:\nOwner: CN=db1\.example\.com/);
  assert.match(out, /Certificate\[2\]:\nOwner: CN=P12 Root CA, O=dbtls/);
});

test('keytool lists a truststore of 2 CAs as 2 trustedCertEntry (the Oracle trusted-key-usage attribute)', async () => {
  const out = await listed(await store([trustRoot, trustOther]));
  assert.match(out, /Your keystore contains 2 entries/);
  assert.equal(count(out, /Entry type: trustedCertEntry/), 2);
  assert.match(out, /Alias name: root-ca\n[\s\S]*?Owner: CN=P12 Root CA, O=dbtls/);
  assert.match(out, /Alias name: other-ca\n[\s\S]*?Owner: CN=P12 Other CA, O=dbtls/);
});

test('keytool lists a mixed store with both kinds of entry', async () => {
  const out = await listed(await store([keyEntry, trustRoot, trustOther]));
  assert.match(out, /Your keystore contains 3 entries/);
  assert.equal(count(out, /Entry type: PrivateKeyEntry/), 1);
  assert.equal(count(out, /Entry type: trustedCertEntry/), 2);
  assert.match(out, /Certificate chain length: 2/);
});

test('3DES stores are listed by keytool and read by OpenSSL 3 without -legacy', async () => {
  const file = await store([keyEntry, trustOther], { algorithm: '3des' });
  const out = await listed(file);
  assert.match(out, /Your keystore contains 2 entries/);
  assert.match(out, /Entry type: PrivateKeyEntry/);
  assert.match(out, /Entry type: trustedCertEntry/);
  const info = await ok('openssl', ['pkcs12', '-info', '-nokeys', '-passin', `pass:${PASS}`, '-in', file]);
  assert.match(info, /PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 10000/);
  assert.match(info, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
});

test('a wrong password fails in keytool and in OpenSSL', async () => {
  const file = await store([keyEntry, trustRoot]);
  const k = await keytoolList(file, 'PKCS12', 'not-the-password');
  assert.notEqual(k.code, 0);
  assert.match(k.stdout + k.stderr, /keystore password was incorrect/);
  const o = await run('openssl', ['pkcs12', '-info', '-nokeys', '-passin', 'pass:not-the-password', '-in', file]);
  assert.notEqual(o.code, 0);
  assert.match(o.stdout + o.stderr, /Mac verify error/);
});

test('OpenSSL 3 (no -legacy) reads the store: AES-256 PBES2, SHA-1 MAC, certificates, attributes, the same key', async () => {
  const file = await store([keyEntry, trustOther]);
  const info = await ok('openssl', ['pkcs12', '-info', '-nokeys', '-passin', `pass:${PASS}`, '-in', file]);
  assert.match(info, /MAC: sha1, Iteration 10000/);
  assert.match(info, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
  assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
  assert.match(info, /friendlyName: server\n\s+localKeyID: [0-9A-F ]+\nsubject=CN = db1\.example\.com/);
  assert.match(
    info,
    /friendlyName: other-ca\n\s+2\.16\.840\.1\.113894\.746875\.1\.1: .*\nsubject=O = dbtls, CN = P12 Other CA/,
  );
  assert.equal(count(info, /-----BEGIN CERTIFICATE-----/), 3);

  const keyPem = await ok('openssl', ['pkcs12', '-in', file, '-nocerts', '-nodes', '-passin', `pass:${PASS}`]);
  assert.deepEqual(pkcs8(createPrivateKey(keyPem)), pkcs8(leafKey));
});

test('keytool -importkeystore converts our PKCS12 to JKS, and back to a PKCS12 our reader reads', async () => {
  const src = await store([keyEntry, trustRoot]);
  const jks = join(dir, 'converted.jks');
  const back = join(dir, 'back.p12');
  const common = ['-noprompt', '-srcstorepass', PASS, '-deststorepass', PASS];
  await ok('keytool', [
    '-importkeystore',
    '-srckeystore',
    src,
    '-srcstoretype',
    'PKCS12',
    '-destkeystore',
    jks,
    '-deststoretype',
    'JKS',
    ...common,
  ]);
  const out = await listed(jks, 'JKS');
  assert.match(out, /Keystore type: JKS/);
  assert.match(out, /Alias name: server\n[\s\S]*Entry type: PrivateKeyEntry\nCertificate chain length: 2/);
  assert.match(out, /Alias name: root-ca\n[\s\S]*?Entry type: trustedCertEntry/);

  await ok('keytool', [
    '-importkeystore',
    '-srckeystore',
    jks,
    '-srcstoretype',
    'JKS',
    '-destkeystore',
    back,
    '-deststoretype',
    'PKCS12',
    ...common,
  ]);
  const listing = readPkcs12(await readFile(back), PASS);
  const byAlias = new Map(listing.entries.map((e) => [e.alias, e]));
  assert.deepEqual([...byAlias.keys()].sort(), ['root-ca', 'server']);
  assert.deepEqual(pkcs8(byAlias.get('server')!.key!), pkcs8(leafKey));
  assert.deepEqual(
    fingerprints(byAlias.get('server')!.certificates),
    [leaf.pem, root.pem].map((p) => new X509Certificate(p).fingerprint256),
  );
});

test('readPkcs12 round-trips our stores (AES and 3DES): aliases, kinds, chains, keys, MAC verified', () => {
  for (const algorithm of ['aes256', '3des'] as const) {
    const deepEntry: StoreInput = {
      kind: 'private-key',
      alias: 'deep',
      key: leafKey,
      chain: [deepLeaf, inter, root].map((c) => der(c.pem)),
    };
    const entries = [keyEntry, deepEntry, trustRoot];
    const listing = readPkcs12(writePkcs12(entries, PASS, { algorithm, iterations: 2048 }), PASS);
    assert.equal(listing.type, 'pkcs12');
    assert.equal(listing.verified, true);
    assert.deepEqual(
      listing.entries.map((e) => [e.alias, e.kind, e.date]),
      [
        ['server', 'private-key', undefined],
        ['deep', 'private-key', undefined],
        ['root-ca', 'trusted-cert', undefined],
      ],
    );
    const [server, deep, trusted] = listing.entries;
    assert.deepEqual(
      fingerprints(server!.certificates),
      [leaf, root].map((c) => new X509Certificate(c.pem).fingerprint256),
    );
    assert.deepEqual(
      fingerprints(deep!.certificates),
      [deepLeaf, inter, root].map((c) => new X509Certificate(c.pem).fingerprint256),
    );
    assert.deepEqual(fingerprints(trusted!.certificates), [new X509Certificate(root.pem).fingerprint256]);
    assert.deepEqual(pkcs8(server!.key!), pkcs8(leafKey));
    assert.equal(trusted!.key, undefined);
  }
});

test('readPkcs12 with a wrong password is a clear input error', () => {
  const buf = writePkcs12([keyEntry], PASS);
  assert.throws(
    () => readPkcs12(buf, 'wrong'),
    (e: unknown) =>
      isDbtlsError(e) &&
      e.kind === 'input' &&
      e.code === 'keystore-password' &&
      e.message === 'the keystore password is wrong (the PKCS#12 MAC does not verify)',
  );
});

test('readPkcs12 reads a store keytool made: a PrivateKeyEntry and an imported trustedCertEntry', async () => {
  const file = join(dir, 'keytool.p12');
  const rootFile = join(dir, 'root.pem');
  await writeFile(rootFile, root.pem);
  await ok('keytool', [
    '-genkeypair',
    '-storetype',
    'PKCS12',
    '-keystore',
    file,
    '-storepass',
    PASS,
    '-alias',
    'MyKey',
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-dname',
    'CN=keytool test',
    '-validity',
    '30',
  ]);
  await ok('keytool', [
    '-importcert',
    '-trustcacerts',
    '-noprompt',
    '-storetype',
    'PKCS12',
    '-keystore',
    file,
    '-storepass',
    PASS,
    '-alias',
    'TheRoot',
    '-file',
    rootFile,
  ]);
  // keytool 17 writes the SHA-256 MAC that our writer avoids: the reader must still verify it.
  assert.match(
    await ok('openssl', ['pkcs12', '-info', '-noout', '-passin', `pass:${PASS}`, '-in', file]),
    /MAC: sha256/,
  );

  const listing = readPkcs12(await readFile(file), PASS);
  assert.equal(listing.verified, true);
  assert.deepEqual(
    listing.entries.map((e) => [e.alias, e.kind]),
    [
      ['mykey', 'private-key'],
      ['theroot', 'trusted-cert'],
    ],
  );
  const [mine, theirs] = listing.entries;
  assert.equal(mine!.certificates.length, 1);
  assert.equal(mine!.certificates[0]!.subject, 'CN=keytool test');
  assert.ok(mine!.certificates[0]!.checkPrivateKey(mine!.key!));
  assert.equal(theirs!.certificates[0]!.fingerprint256, new X509Certificate(root.pem).fingerprint256);
});

test('readPkcs12 reads OpenSSL exports (default and -legacy), ordering a shuffled chain by issuer', async () => {
  const files = { leaf: join(dir, 'deep.pem'), key: join(dir, 'deep.key'), chain: join(dir, 'chain.pem') };
  await writeFile(files.leaf, deepLeaf.pem);
  await writeFile(files.key, leafKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(files.chain, root.pem + inter.pem); // root before intermediate: the wrong way round
  for (const legacy of [[], ['-legacy']]) {
    const out = join(dir, `openssl${legacy.join('')}.p12`);
    await ok('openssl', [
      'pkcs12',
      '-export',
      ...legacy,
      '-in',
      files.leaf,
      '-inkey',
      files.key,
      '-certfile',
      files.chain,
      '-name',
      'App1',
      '-passout',
      `pass:${PASS}`,
      '-out',
      out,
    ]);
    const listing = readPkcs12(await readFile(out), PASS);
    assert.equal(listing.verified, true);
    assert.equal(listing.entries.length, 1, 'certificates without the Oracle attribute are chain members, not entries');
    const [entry] = listing.entries;
    assert.equal(entry!.alias, 'app1');
    assert.equal(entry!.kind, 'private-key');
    assert.deepEqual(
      fingerprints(entry!.certificates),
      [deepLeaf, inter, root].map((c) => new X509Certificate(c.pem).fingerprint256),
    );
    assert.deepEqual(pkcs8(entry!.key!), pkcs8(leafKey));
  }
  // Without a MAC the store is read unverified, and a wrong password is still named as such.
  const noMac = join(dir, 'nomac.p12');
  await ok('openssl', [
    'pkcs12',
    '-export',
    '-nomac',
    '-in',
    files.leaf,
    '-inkey',
    files.key,
    '-name',
    'x',
    '-passout',
    `pass:${PASS}`,
    '-out',
    noMac,
  ]);
  const listing = readPkcs12(await readFile(noMac), PASS);
  assert.equal(listing.verified, false);
  assert.equal(listing.entries[0]!.certificates[0]!.fingerprint256, new X509Certificate(deepLeaf.pem).fingerprint256);
  assert.throws(
    () => readPkcs12(readFileSync(noMac), 'wrong'),
    (e: unknown) => isDbtlsError(e) && e.code === 'keystore-password' && /no MAC/.test(e.message),
  );
});

test('EC keys go in as PKCS#8: keytool lists them, OpenSSL returns the same key, the reader too', async () => {
  const key = join(dir, 'ec.key');
  const cert = join(dir, 'ec.pem');
  await ok('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=ec node',
    '-days',
    '30',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  const ecKey = createPrivateKey(await readFile(key));
  const file = await store([
    { kind: 'private-key', alias: 'ec', key: ecKey, chain: [der(await readFile(cert, 'utf8'))] },
  ]);
  const out = await listed(file);
  assert.match(out, /Alias name: ec\n[\s\S]*Entry type: PrivateKeyEntry\nCertificate chain length: 1/);
  assert.match(out, /Subject Public Key Algorithm: 256-bit EC/);
  const keyPem = await ok('openssl', ['pkcs12', '-in', file, '-nocerts', '-nodes', '-passin', `pass:${PASS}`]);
  assert.deepEqual(pkcs8(createPrivateKey(keyPem)), pkcs8(ecKey));
  assert.deepEqual(pkcs8(readPkcs12(await readFile(file), PASS).entries[0]!.key!), pkcs8(ecKey));
});

test('a non-ASCII password works with OpenSSL (UTF-8 for PBES2, BMPString for the MAC)', async () => {
  const password = 'pässwört-日本';
  const file = await store([keyEntry], {}, password);
  const keyPem = await ok('openssl', ['pkcs12', '-in', file, '-nocerts', '-nodes', '-passin', `pass:${password}`]);
  assert.deepEqual(pkcs8(createPrivateKey(keyPem)), pkcs8(leafKey));
  assert.equal(readPkcs12(await readFile(file), password).verified, true);
});

test('bad input: duplicate aliases (any case), a key without a chain, a file that is not PKCS#12', () => {
  const code = (c: string) => (e: unknown) => isDbtlsError(e) && e.kind === 'input' && e.code === c;
  assert.throws(() => writePkcs12([trustRoot, { ...trustOther, alias: 'ROOT-CA' }], PASS), code('duplicate-alias'));
  assert.throws(() => writePkcs12([{ ...keyEntry, chain: [] }], PASS), code('no-chain'));
  assert.throws(() => readPkcs12(Buffer.from('not a keystore'), PASS), code('not-pkcs12'));
  assert.throws(() => writePkcs12([keyEntry], PASS, { iterations: 0 }), RangeError);
});
