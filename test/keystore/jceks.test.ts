// JCEKS secret keys (Tungsten's JGroups key) written without Java, checked by OpenJDK's keytool and
// by a Java program that loads the key and encrypts with it; and keytool's own JCEKS files read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateBlowfishKey, readJceks, writeJceksSecretKey } from '../../lib/keystore/jceks.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run } from '../helpers/run.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const PASS = 'Tungsten-s3cret';
const javaProgram = join(repoRoot, 'test/java/JceksUse.java');

async function keytoolList(store: string, pass: string) {
  return run('keytool', ['-list', '-v', '-storetype', 'JCEKS', '-keystore', store, '-storepass', pass]);
}

/** keytool -genseckey exactly as tpm runs it. */
async function keytoolSecretKey(store: string, pass: string): Promise<void> {
  const r = await run('keytool', [
    '-genseckey',
    '-alias',
    'jgroups',
    '-keyalg',
    'Blowfish',
    '-keysize',
    '56',
    '-storetype',
    'JCEKS',
    '-keystore',
    store,
    '-storepass',
    pass,
    '-keypass',
    pass,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
}

test('generateBlowfishKey: 56 bits (7 bytes) by default, random', () => {
  const a = generateBlowfishKey();
  assert.equal(a.length, 7);
  assert.notDeepEqual(a, generateBlowfishKey());
  assert.equal(generateBlowfishKey(128).length, 16);
  assert.throws(() => generateBlowfishKey(12), /Blowfish key/);
});

test('keytool lists a dbtls JCEKS as one SecretKeyEntry "jgroups"', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'tungsten_jgroups_keystore.jceks');
  const date = new Date('2024-05-06T07:08:09.123Z');
  await writeFile(
    store,
    writeJceksSecretKey({ alias: 'jgroups', algorithm: 'Blowfish', key: generateBlowfishKey(), password: PASS, date }),
  );
  const r = await keytoolList(store, PASS);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Keystore type: JCEKS/);
  assert.match(r.stdout, /Your keystore contains 1 entry/);
  assert.match(r.stdout, /Alias name: jgroups\n/);
  assert.match(r.stdout, /Entry type: SecretKeyEntry/);
  assert.match(r.stdout, /Creation date: May 6, 2024/);
});

test('a wrong store password fails in keytool and in readJceks', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'k.jceks');
  const buf = writeJceksSecretKey({
    alias: 'jgroups',
    algorithm: 'Blowfish',
    key: generateBlowfishKey(),
    password: PASS,
  });
  await writeFile(store, buf);
  const r = await keytoolList(store, 'not-the-password');
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /tampered with, or password was incorrect/);
  assert.throws(
    () => readJceks(buf, 'not-the-password'),
    (e) => isDbtlsError(e) && e.code === 'keystore-password',
  );
});

test('Java loads the key (KeyStore JCEKS, getKey) and encrypts/decrypts with it', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'tungsten_jgroups_keystore.jceks');
  const key = generateBlowfishKey();
  await writeFile(store, writeJceksSecretKey({ alias: 'jgroups', algorithm: 'Blowfish', key, password: PASS }));
  const r = await run('java', [javaProgram, store, PASS, 'jgroups', 'Blowfish', key.toString('hex')], {
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(r.stdout.trim(), `ok Blowfish 56 ${key.toString('hex')}`);
});

test('Java loads other key sizes and passwords with every printable ASCII character; aliases are lower-cased', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'k.jceks');
  const key = generateBlowfishKey(448);
  const password = ` !"#$%&'()*+,-./09:;<=>?@AZ[\\]^_\`az{|}~`;
  await writeFile(
    store,
    writeJceksSecretKey({ alias: 'JGroups', algorithm: 'Blowfish', key, password, iterations: 10_000 }),
  );
  const r = await run('java', [javaProgram, store, password, 'jgroups', 'Blowfish', key.toString('hex')], {
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^ok Blowfish 448 /);
});

test("readJceks reads the key keytool generated; rewriting it with the same salt gives keytool's bytes exactly", async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'kt.jceks');
  await keytoolSecretKey(store, PASS);
  const made = await readFile(store);

  const unverified = readJceks(made);
  assert.equal(unverified.verified, false);
  assert.deepEqual(
    unverified.entries.map((e) => [e.alias, e.kind, e.key]),
    [['jgroups', 'secret-key', undefined]],
  );

  const listing = readJceks(made, { storepass: PASS });
  assert.equal(listing.type, 'jceks');
  assert.equal(listing.verified, true);
  assert.equal(listing.entries.length, 1);
  const [e] = listing.entries;
  assert.equal(e!.alias, 'jgroups');
  assert.equal(e!.kind, 'secret-key');
  assert.equal(e!.algorithm, 'Blowfish');
  assert.ok(e!.date && Math.abs(e!.date.getTime() - Date.now()) < 10 * 60_000);
  const key = e!.key!.export();
  assert.equal(key.length, 7);

  // The PBEParameter (SEQUENCE { OCTET STRING salt, INTEGER 200000 }) sits in the serialized SealedObject.
  const at = made.indexOf(Buffer.from('300f0408', 'hex'));
  assert.ok(at > 0);
  const salt = made.subarray(at + 4, at + 12);
  assert.deepEqual(made.subarray(at + 12, at + 17), Buffer.from('0203030d40', 'hex'));
  const ours = writeJceksSecretKey({
    alias: 'jgroups',
    algorithm: 'Blowfish',
    key,
    password: PASS,
    date: e!.date!,
    salt,
  });
  assert.equal(ours.toString('hex'), made.toString('hex'));
});

test('readJceks reads private-key and trusted-cert entries keytool wrote, with the chain and the key', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'mixed.jceks');
  const common = ['-storetype', 'JCEKS', '-keystore', store, '-storepass', PASS];
  let r = await run('keytool', [
    '-genkeypair',
    '-alias',
    'Node1',
    '-keyalg',
    'EC',
    '-groupname',
    'secp256r1',
    '-dname',
    'CN=node1',
    '-keypass',
    PASS,
    ...common,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  r = await run('keytool', ['-exportcert', '-alias', 'node1', '-file', join(dir, 'n1.der'), ...common]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  r = await run('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', join(dir, 'n1.der'), ...common]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  await keytoolSecretKey(store, PASS);

  const listing = readJceks(await readFile(store), PASS);
  const byAlias = new Map(listing.entries.map((e) => [e.alias, e]));
  assert.deepEqual([...byAlias.keys()].sort(), ['ca', 'jgroups', 'node1']);
  const pk = byAlias.get('node1')!;
  assert.equal(pk.kind, 'private-key');
  assert.equal(pk.certificates.length, 1);
  assert.match(pk.certificates[0]!.subject, /CN=node1/);
  assert.equal(pk.key?.asymmetricKeyType, 'ec');
  assert.ok(pk.certificates[0]!.checkPrivateKey(pk.key!));
  assert.equal(byAlias.get('ca')!.kind, 'trusted-cert');
  assert.equal(byAlias.get('jgroups')!.algorithm, 'Blowfish');
});

test('writeJceksSecretKey refuses what Java could not unseal', () => {
  const key = generateBlowfishKey();
  assert.throws(
    () => writeJceksSecretKey({ alias: 'jgroups', algorithm: 'Blowfish', key, password: 'pässword' }),
    /printable ASCII/,
  );
  assert.throws(
    () => writeJceksSecretKey({ alias: 'jgroups', algorithm: 'Blowfish', key, password: '' }),
    /password is empty/,
  );
  assert.throws(
    () => writeJceksSecretKey({ alias: 'jgroups', algorithm: 'Blowfish', key: Buffer.alloc(3), password: PASS }),
    /Blowfish key/,
  );
  assert.throws(
    () =>
      writeJceksSecretKey({
        alias: 'jgroups',
        algorithm: 'Blowfish',
        key,
        password: PASS,
        salt: Buffer.from('0102020101020201', 'hex'),
      }),
    /salt/,
  );
});

test('a secret key entry nesting its serialized objects without end is an input error, not a stack overflow', () => {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const utf = (s: string) => Buffer.concat([u16(s.length), Buffer.from(s, 'latin1')]);
  // Object[] { Object[] { Object[] { … } } }: the first array names its class, the others refer back to it.
  const levels = 100_000;
  const first = Buffer.concat([
    Buffer.from([0x75, 0x72]),
    utf('[Ljava.lang.Object;'),
    Buffer.alloc(8),
    Buffer.from([0x02]),
    u16(0),
    Buffer.from([0x78, 0x70]),
    u32(1),
  ]);
  const next = Buffer.concat([Buffer.from([0x75, 0x71]), u32(0x7e0000), u32(1)]);
  const stream = Buffer.concat([
    Buffer.from([0xac, 0xed, 0x00, 0x05]),
    first,
    Buffer.concat(Array.from({ length: levels }, () => next)),
    Buffer.from([0x70]),
  ]);
  const body = Buffer.concat([u32(0xcececece), u32(2), u32(1), u32(3), utf('jgroups'), Buffer.alloc(8), stream]);
  const store = Buffer.concat([body, Buffer.alloc(20)]);
  assert.throws(
    () => readJceks(store),
    (e: unknown) => isDbtlsError(e) && e.kind === 'input' && /nests deeper than/.test(e.message),
  );
});

test('a serialized array that claims more elements than the entry holds is an input error, not an allocation of billions', () => {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const utf = (s: string) => Buffer.concat([u16(s.length), Buffer.from(s, 'latin1')]);
  // int[] with a count of 2^32 - 1 and no elements behind it.
  const array = Buffer.concat([
    Buffer.from([0x75, 0x72]),
    utf('[I'),
    Buffer.alloc(8),
    Buffer.from([0x02]),
    u16(0),
    Buffer.from([0x78, 0x70]),
    u32(0xffffffff),
  ]);
  const stream = Buffer.concat([Buffer.from([0xac, 0xed, 0x00, 0x05]), array]);
  const body = Buffer.concat([u32(0xcececece), u32(2), u32(1), u32(3), utf('jgroups'), Buffer.alloc(8), stream]);
  const store = Buffer.concat([body, Buffer.alloc(20)]);
  assert.throws(
    () => readJceks(store),
    (e: unknown) => isDbtlsError(e) && e.code === 'jceks-serialization' && /truncated/.test(e.message),
  );
});

test('kept through the move to java-io.ts: a JCEKS entry cut short names the JCEKS format; a date before 1970 reads back as written', () => {
  const key = generateBlowfishKey();
  const store = writeJceksSecretKey({
    alias: 'jgroups',
    algorithm: 'Blowfish',
    key,
    password: PASS,
    date: new Date(-86_400_000),
    iterations: 10,
  });
  const listed = readJceks(store, PASS);
  assert.equal(listed.entries[0]!.date?.toISOString(), '1969-12-31T00:00:00.000Z');
  assert.ok(listed.entries[0]!.key?.export().equals(key));
  const cut = Buffer.concat([store.subarray(0, 14), Buffer.alloc(20)]); // inside the alias
  assert.throws(
    () => readJceks(cut),
    (e: unknown) => isDbtlsError(e) && e.code === 'truncated' && /not a JCEKS keystore/.test(e.message),
  );
});
