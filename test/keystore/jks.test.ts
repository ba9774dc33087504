// The JKS writer and reader against OpenJDK's keytool, in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { generateRsaKey, privateKeyToPem } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { readJks, writeJks, protectKey, recoverKey } from '../../lib/keystore/jks.js';
import { encodeModifiedUtf8, decodeModifiedUtf8 } from '../../lib/keystore/java-io.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

const [caKey, leafKey] = await Promise.all([generateRsaKey(), generateRsaKey()]);
const ca = issueCertificate({ profile: 'ca', subject: { CN: 'JKS Test CA' }, days: 30, subjectKey: caKey });
const leaf = issueCertificate({
  profile: 'peer',
  subject: { CN: 'db1' },
  days: 30,
  subjectKey: leafKey,
  issuer: loadIssuer(ca.pem, caKey),
});
const der = (pem: string) => new X509Certificate(pem).raw;

async function keytool(args: string[]) {
  const r = await run('keytool', args);
  return { ...r, out: r.stdout + r.stderr };
}

test('keytool lists what we write: a PrivateKeyEntry with its chain, a trustedCertEntry, lower-cased aliases', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'store.jks');
  await writeFile(
    file,
    writeJks(
      [
        { kind: 'private-key', alias: 'DB1', key: leafKey, chain: [der(leaf.pem), der(ca.pem)] },
        { kind: 'trusted-cert', alias: 'ca', cert: der(ca.pem) },
      ],
      'store-secret',
    ),
  );
  const r = await keytool(['-list', '-v', '-keystore', file, '-storepass', 'store-secret']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Keystore type: JKS/);
  assert.match(r.out, /Your keystore contains 2 entries/);
  assert.match(r.out, /Alias name: db1\n[\s\S]*?Entry type: PrivateKeyEntry\nCertificate chain length: 2/);
  assert.match(r.out, /Alias name: ca\n[\s\S]*?Entry type: trustedCertEntry/);
  const wrong = await keytool(['-list', '-keystore', file, '-storepass', 'not-it']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.out, /password was incorrect/);
});

test('keytool decrypts our key entries: -importkeystore to PKCS12 gives back the same key', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'store.jks');
  // A key password different from the store password, as keytool allows for JKS.
  await writeFile(
    file,
    writeJks(
      [{ kind: 'private-key', alias: 'db1', key: leafKey, chain: [der(leaf.pem), der(ca.pem)] }],
      'store-secret',
      'key-secret',
    ),
  );
  const p12 = join(dir, 'out.p12');
  const r = await keytool([
    '-importkeystore',
    '-srckeystore',
    file,
    '-srcstorepass',
    'store-secret',
    '-srcalias',
    'db1',
    '-srckeypass',
    'key-secret',
    '-destkeystore',
    p12,
    '-deststoretype',
    'PKCS12',
    '-deststorepass',
    'dest-secret',
    '-destkeypass',
    'dest-secret',
  ]);
  assert.equal(r.code, 0, r.out);
  const key = await run('openssl', ['pkcs12', '-in', p12, '-nocerts', '-nodes', '-passin', 'pass:dest-secret']);
  assert.equal(key.code, 0, key.stderr);
  assert.ok(createPrivateKey(key.stdout).equals(leafKey));
  // …and back: keytool turns the PKCS12 into a JKS that our reader opens, with the same key and chain.
  const back = join(dir, 'back.jks');
  const r2 = await keytool([
    '-importkeystore',
    '-srckeystore',
    p12,
    '-srcstoretype',
    'PKCS12',
    '-srcstorepass',
    'dest-secret',
    '-destkeystore',
    back,
    '-deststoretype',
    'JKS',
    '-deststorepass',
    'back-secret',
    '-destkeypass',
    'back-secret',
  ]);
  assert.equal(r2.code, 0, r2.out);
  const listing = readJks(await readFile(back), { storepass: 'back-secret' });
  assert.equal(listing.verified, true);
  assert.equal(listing.entries.length, 1);
  const [e] = listing.entries;
  assert.equal(e!.kind, 'private-key');
  assert.ok(e!.key!.equals(leafKey));
  assert.deepEqual(
    e!.certificates.map((c) => c.fingerprint256),
    [new X509Certificate(leaf.pem).fingerprint256, new X509Certificate(ca.pem).fingerprint256],
  );
});

test('our reader reads stores keytool made: key pairs, trusted certificates, dates, wrong passwords', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'kt.jks');
  await writeFile(join(dir, 'ca.pem'), ca.pem);
  const gen = await keytool([
    '-genkeypair',
    '-alias',
    'Server',
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-dname',
    'CN=server',
    '-storetype',
    'JKS',
    '-keystore',
    file,
    '-storepass',
    'kt-secret',
    '-keypass',
    'kt-secret',
  ]);
  assert.equal(gen.code, 0, gen.out);
  const imp = await keytool([
    '-importcert',
    '-noprompt',
    '-alias',
    'theca',
    '-file',
    join(dir, 'ca.pem'),
    '-storetype',
    'JKS',
    '-keystore',
    file,
    '-storepass',
    'kt-secret',
  ]);
  assert.equal(imp.code, 0, imp.out);
  const bytes = await readFile(file);
  const listing = readJks(bytes, { storepass: 'kt-secret' });
  const byAlias = Object.fromEntries(listing.entries.map((e) => [e.alias, e]));
  assert.equal(byAlias.server!.kind, 'private-key');
  assert.equal(byAlias.server!.key!.asymmetricKeyType, 'rsa');
  assert.ok(byAlias.server!.certificates[0]!.checkPrivateKey(byAlias.server!.key!));
  assert.equal(byAlias.theca!.kind, 'trusted-cert');
  assert.equal(byAlias.theca!.certificates[0]!.fingerprint256, new X509Certificate(ca.pem).fingerprint256);
  assert.ok(Math.abs(byAlias.theca!.date!.getTime() - Date.now()) < 600_000);
  // Without a password: listed, not verified, keys left encrypted.
  const blind = readJks(bytes);
  assert.equal(blind.verified, false);
  assert.equal(blind.entries.find((e) => e.alias === 'server')!.key, undefined);
  assert.throws(
    () => readJks(bytes, { storepass: 'wrong' }),
    (e: unknown) => isDbtlsError(e) && e.exitCode === 2 && /password is wrong/.test(e.message),
  );
  assert.throws(() => readJks(bytes, { storepass: 'kt-secret', keypass: 'wrong' }), /key password is wrong/);
});

test('key protection round trip, and aliases in modified UTF-8 as Java writes them', async () => {
  const pkcs8 = leafKey.export({ type: 'pkcs8', format: 'der' });
  const sealed = protectKey(pkcs8, 'pässwörd');
  assert.deepEqual(recoverKey(sealed, 'pässwörd'), pkcs8);
  assert.throws(() => recoverKey(sealed, 'password'), /key password is wrong/);
  assert.deepEqual(
    [...encodeModifiedUtf8('a\u0000é€😀')],
    [0x61, 0xc0, 0x80, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
  );
  assert.equal(decodeModifiedUtf8(encodeModifiedUtf8('a\u0000é€😀')), 'a\u0000é€😀');
  assert.ok(privateKeyToPem(leafKey).length > 0);
});

test('a non-ASCII alias written by us is listed by keytool', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'utf.jks');
  await writeFile(
    file,
    writeJks([{ kind: 'trusted-cert', alias: 'Zertifizierungsstelle-ä€', cert: der(ca.pem) }], 'store-secret'),
  );
  const r = await run('keytool', ['-list', '-keystore', file, '-storepass', 'store-secret'], {
    env: { ...process.env, LC_ALL: 'C.UTF-8', JAVA_TOOL_OPTIONS: '-Dfile.encoding=UTF-8 -Dstdout.encoding=UTF-8' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /zertifizierungsstelle-ä€, .*trustedCertEntry/);
});

test('a malformed key entry and an alias too long for Java are input errors (exit 2), not crashes', () => {
  const sealed = protectKey(leafKey.export({ type: 'pkcs8', format: 'der' }), 'pw');
  for (const bad of [
    sealed.subarray(0, 10),
    Buffer.from('3000', 'hex'),
    Buffer.from('30060500040101', 'hex'),
    Buffer.from('3082ffff', 'hex'),
  ]) {
    assert.throws(
      () => recoverKey(bad, 'pw'),
      (e: unknown) => isDbtlsError(e) && e.kind === 'input' && e.code === 'bad-jks',
      bad.toString('hex'),
    );
  }
  // The algorithm is right but the blob is shorter than salt + check: refused before decrypting.
  const tiny = Buffer.from('3013300e060a2b060104012a021101010500040100', 'hex');
  assert.throws(
    () => recoverKey(tiny, 'pw'),
    (e: unknown) => isDbtlsError(e) && e.code === 'bad-jks',
  );
  const cert = der(ca.pem);
  assert.throws(
    () => writeJks([{ kind: 'trusted-cert', alias: 'x'.repeat(70_000), cert }], 'pw'),
    (e: unknown) => isDbtlsError(e) && e.kind === 'input' && e.code === 'java-string',
  );
});

test('JKS dates are Java longs (signed): a date before 1970 is written and read back, and keytool lists the store', async (t) => {
  const dir = await tempDir(t);
  const date = new Date('1969-07-20T20:17:00Z');
  const store = writeJks([{ kind: 'trusted-cert', alias: 'ca', cert: der(ca.pem), date }], 'changeit');
  assert.equal(readJks(store, { storepass: 'changeit' }).entries[0]!.date?.toISOString(), date.toISOString());
  const file = join(dir, 'old.jks');
  await writeFile(file, store);
  const r = await keytool(['-list', '-keystore', file, '-storepass', 'changeit']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /ca, Jul 20, 1969, trustedCertEntry/);
});
