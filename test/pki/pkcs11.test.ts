// A CA key in a PKCS#11 token, against a real SoftHSM2 token (nothing mocked): keys generated on the
// token sign a self-signed CA, a server leaf and a CRL that the real openssl verifies; the private key
// cannot be read out of the token; the errors (wrong PIN, unknown token, missing or doubled key, a
// module that does not load, pkcs11js missing) are the catalogued input errors, and never show the PIN.
// The r||s → DER conversion of ECDSA signatures is checked on its edge values and against node:crypto.
//
// SoftHSM2 reads its config from SOFTHSM2_CONF in this process: this file uses one token (before()).
// Without softhsm2-util the tests fail, saying to run scripts/install-system-deps.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ecdsaRawToDer, generatePkcs11Key, openPkcs11Signer, type Pkcs11KeyType } from '../../lib/pki/pkcs11.js';
import { CK, findKeys, loadPkcs11js, openSession, type Pkcs11Settings } from '../../lib/pki/pkcs11-session.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { buildCrl } from '../../lib/pki/crl.js';
import { sameKey } from '../../lib/pki/keys.js';
import { parseSans } from '../../lib/pki/san.js';
import { signatureScheme } from '../../lib/pki/signer.js';
import { DbtlsError } from '../../lib/errors.js';
import { repoRoot } from '../helpers/paths.js';
import { run } from '../helpers/run.js';
import { createSoftHsmToken, softhsmUtil, type SoftHsmToken } from '../helpers/softhsm.js';
import { tempDir } from '../helpers/tmp.js';

const TOKEN = 'dbtls test CA';
const PIN = 'pin-4711-secret';
const SO_PIN = 'so-pin-0815';
const DAY = 86_400_000;

let hsm: SoftHsmToken | undefined;
before(async () => {
  hsm = await createSoftHsmToken({ label: TOKEN, soPin: SO_PIN, pin: PIN });
});
after(() => hsm?.cleanup());
const at = (label: string, over: Partial<Pkcs11Settings> = {}): Pkcs11Settings => ({
  module: hsm!.module,
  token: TOKEN,
  label,
  ...over,
});

/** The DbtlsError FN throws, checked to have CODE and to be an input error. */
function inputErrorOf(fn: () => unknown, code: string): DbtlsError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DbtlsError, `a DbtlsError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'input');
    return e;
  }
  assert.fail(`expected the ${code} error`);
}

const openssl = (args: string[], cwd: string) => run('openssl', args, { cwd, timeoutMs: 15_000 });

test('SoftHSM2 is installed (the tests below need it: a missing tool fails, it is not skipped)', async () => {
  await softhsmUtil();
  assert.ok(hsm, 'the SoftHSM2 token was made');
});

test("CK's numbers are pkcs11js's", () => {
  const mod = loadPkcs11js() as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(CK)) assert.equal(value, mod[name], name);
});

test('ecdsaRawToDer: minimal INTEGERs, a 00 before a high bit, leading zero bytes dropped', () => {
  const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
  const r = Buffer.alloc(32, 0x11);
  const s = Buffer.alloc(32, 0x22);
  assert.deepEqual(ecdsaRawToDer(Buffer.concat([r, s])), hex(`3044 0220${r.toString('hex')} 0220${s.toString('hex')}`));
  // High bit set on both: each gets a 00 so it does not read as negative.
  const hr = Buffer.alloc(32, 0x80);
  const hs = Buffer.alloc(32, 0xff);
  assert.deepEqual(
    ecdsaRawToDer(Buffer.concat([hr, hs])),
    hex(`3046 022100${hr.toString('hex')} 022100${hs.toString('hex')}`),
  );
  // Leading zero bytes dropped; and a 00 80… that loses its zero byte gets it back as the sign byte.
  const lr = Buffer.concat([hex('000001'), Buffer.alloc(29, 0x33)]);
  const ls = Buffer.concat([hex('0080'), Buffer.alloc(30, 0x44)]);
  assert.deepEqual(
    ecdsaRawToDer(Buffer.concat([lr, ls])),
    hex(`3042 021e01${'33'.repeat(29)} 02200080${'44'.repeat(30)}`),
  );
  // Zero and one: one byte each.
  assert.deepEqual(
    ecdsaRawToDer(Buffer.concat([Buffer.alloc(32), hex('00'.repeat(31) + '01')])),
    hex('3006 020100 020101'),
  );
  // P-384 sizes, both high: 2 × (2 + 49) bytes in the SEQUENCE.
  const der = ecdsaRawToDer(Buffer.alloc(96, 0xc0));
  assert.deepEqual(der.subarray(0, 5), hex('3066 023100'));
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(63)), RangeError);
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(0)), RangeError);
});

test('ecdsaRawToDer: node:crypto r||s signatures, converted, verify as DER (OpenSSL refuses non-minimal DER)', () => {
  for (const namedCurve of ['prime256v1', 'secp384r1']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    const hash = namedCurve === 'prime256v1' ? 'sha256' : 'sha384';
    let highBit = 0;
    for (let i = 0; i < 100; i++) {
      const data = randomBytes(40);
      const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      if (raw[0]! & 0x80) highBit++;
      assert.ok(verify(hash, data, publicKey, ecdsaRawToDer(raw)), `signature ${i} on ${namedCurve}`);
    }
    assert.ok(highBit > 0, 'some r had its high bit set');
  }
});

const KEY_TYPES: Array<{ type: Pkcs11KeyType; sigAlg: RegExp; bits: RegExp }> = [
  { type: 'rsa2048', sigAlg: /Signature Algorithm: sha256WithRSAEncryption/, bits: /Public-Key: \(2048 bit\)/ },
  { type: 'p256', sigAlg: /Signature Algorithm: ecdsa-with-SHA256/, bits: /Public-Key: \(256 bit\)/ },
  { type: 'p384', sigAlg: /Signature Algorithm: ecdsa-with-SHA384/, bits: /Public-Key: \(384 bit\)/ },
];

for (const { type, sigAlg, bits } of KEY_TYPES) {
  test(`${type} on the token: a self-signed CA, a server leaf and a CRL that openssl verifies`, async (t) => {
    const settings = at(`ca-${type}`);
    const generated = generatePkcs11Key(settings, PIN, type);
    const signer = openPkcs11Signer(settings, PIN);
    t.after(() => signer.close());
    assert.ok(sameKey(signer.publicKey, generated), 'the signer reads back the public key the token generated');
    assert.deepEqual(signer.algorithm, signatureScheme(signer.publicKey).algorithm);

    // A signature the token makes verifies with node:crypto against the public key.
    const data = randomBytes(100);
    assert.ok(verify(signatureScheme(signer.publicKey).hash, data, signer.publicKey, signer.sign(data)));

    const dir = await tempDir(t);
    const ca = issueCertificate({
      profile: 'ca',
      subject: { CN: `HSM CA ${type}`, O: 'dbtls' },
      days: 30,
      subjectKey: signer.publicKey,
      selfSigner: signer,
    });
    const issuer = loadIssuer(ca.pem, signer);
    // The leaf's key is the server's, not the CA's: only its public half is needed here.
    const leafKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    const sans = parseSans(['db1.example.com', '192.0.2.7']).sans;
    const leaf = issueCertificate({
      profile: 'server',
      subject: { CN: 'db1' },
      sans,
      days: 10,
      subjectKey: leafKey,
      issuer,
    });
    await writeFile(join(dir, 'ca.pem'), ca.pem);
    await writeFile(join(dir, 'leaf.pem'), leaf.pem);

    const verified = await openssl(['verify', '-CAfile', 'ca.pem', 'ca.pem', 'leaf.pem'], dir);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    assert.match(verified.stdout, /^ca\.pem: OK\nleaf\.pem: OK\n$/);
    const caText = (await openssl(['x509', '-in', 'ca.pem', '-noout', '-text'], dir)).stdout;
    assert.match(caText, sigAlg);
    assert.match(caText, bits);
    assert.match(caText, /CA:TRUE/);
    assert.match(caText, /Issuer: O = dbtls, CN = HSM CA/);
    const leafText = (await openssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir)).stdout;
    assert.match(leafText, sigAlg);
    assert.match(leafText, /DNS:db1\.example\.com, IP Address:192\.0\.2\.7/);

    const now = new Date();
    const crl = buildCrl({
      issuerCertPem: ca.pem,
      signer,
      revoked: [{ serialHex: leaf.serialHex, revokedAt: now, reason: 'keyCompromise' }],
      crlNumber: 1,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + 7 * DAY),
    });
    await writeFile(join(dir, 'crl.pem'), crl.pem);
    const crlOk = await openssl(['crl', '-in', 'crl.pem', '-CAfile', 'ca.pem', '-noout', '-verify'], dir);
    assert.equal(crlOk.code, 0, crlOk.stderr);
    assert.match(crlOk.stderr + crlOk.stdout, /verify OK/);
    const revoked = await openssl(
      ['verify', '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', 'ca.pem', 'leaf.pem'],
      dir,
    );
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.stdout + revoked.stderr, /certificate revoked/);

    // Everything this test wrote: certificates and a CRL, no private key.
    for (const f of await readdir(dir)) {
      assert.doesNotMatch(await readFile(join(dir, f), 'latin1'), /PRIVATE KEY/, f);
    }
  });
}

test('the private key never leaves the token: sensitive, not extractable, its secret attributes unreadable', async () => {
  for (const { type } of KEY_TYPES) {
    const settings = at(`ca-${type}`);
    const s = openSession(settings, PIN, false);
    try {
      const [key] = findKeys(s, settings, CK.CKO_PRIVATE_KEY);
      assert.ok(key, `the ${type} private key is on the token`);
      const secret = type.startsWith('rsa') ? CK.CKA_PRIVATE_EXPONENT : CK.CKA_VALUE;
      assert.throws(
        () => s.api.C_GetAttributeValue(s.handle, key, [{ type: secret }]),
        (e: Error & { code?: number }) =>
          e.code === CK.CKR_ATTRIBUTE_SENSITIVE && /CKR_ATTRIBUTE_SENSITIVE/.test(e.message),
        `${type}: the secret attribute is refused as sensitive`,
      );
      const flags = s.api.C_GetAttributeValue(s.handle, key, [
        { type: CK.CKA_SENSITIVE },
        { type: CK.CKA_EXTRACTABLE },
        { type: CK.CKA_SIGN },
      ]);
      assert.deepEqual(
        flags.map((a) => a.value[0]),
        [1, 0, 1],
        `${type}: CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_SIGN true`,
      );
    } finally {
      s.close();
    }
  }
  // And as OpenSC's pkcs11-tool sees them.
  const listed = execFileSync(
    'pkcs11-tool',
    ['--module', hsm!.module, '--token-label', TOKEN, '--login', '--pin', PIN, '--list-objects', '--type', 'privkey'],
    { env: hsm!.env, encoding: 'utf8' },
  );
  assert.equal(
    listed.match(/Access:\s+sensitive, always sensitive, never extractable/g)?.length,
    KEY_TYPES.length,
    listed,
  );
});

test('a wrong PIN is the pkcs11-pin input error, and the PIN appears nowhere in it', () => {
  const wrong = 'wrong-9f3a7c';
  const e = inputErrorOf(() => openPkcs11Signer(at('ca-p256'), wrong), 'pkcs11-pin');
  assert.match(e.message, /refused the PIN: CKR_PIN_INCORRECT/);
  assert.match(e.message, new RegExp(TOKEN));
  for (const text of [e.message, e.describe(), e.hint ?? '', String(e.cause), JSON.stringify(e)]) {
    assert.ok(!text.includes(wrong), `the wrong PIN is not shown: ${text}`);
    assert.ok(!text.includes(PIN), `the right PIN is not shown either: ${text}`);
  }
  // The failed login left nothing behind: the right PIN opens the token next.
  openPkcs11Signer(at('ca-p256'), PIN).close();
});

test('an unknown token label is an error listing the labels there are', () => {
  const e = inputErrorOf(() => openPkcs11Signer(at('ca-p256', { token: 'no such token' }), PIN), 'pkcs11-no-token');
  assert.match(e.message, /no token labelled "no such token" in \/usr\/lib\/softhsm\/libsofthsm2\.so/);
  assert.match(e.message, /the tokens there are labelled "dbtls test CA"/);
});

test('a missing key, a key without its public object, a doubled label: each an error naming the label', () => {
  const missing = inputErrorOf(() => openPkcs11Signer(at('no-such-key'), PIN), 'pkcs11-no-key');
  assert.match(missing.message, /has no private key labelled "no-such-key"/);
  assert.equal(missing.location.field, 'ca.pkcs11.label');

  // generatePkcs11Key refuses a label a key already has.
  const exists = inputErrorOf(() => generatePkcs11Key(at('ca-p256'), PIN, 'p256'), 'pkcs11-key-exists');
  assert.match(exists.message, /already has a key labelled "ca-p256"/);

  // A private key whose public object was deleted: dbtls cannot know its public key.
  generatePkcs11Key(at('no-public'), PIN, 'p256');
  const rw = openSession(at('no-public'), PIN, true);
  try {
    for (const h of findKeys(rw, at('no-public'), CK.CKO_PUBLIC_KEY)) rw.api.C_DestroyObject(rw.handle, h);
    // Another key pair made with the same label, straight through PKCS#11 (dbtls would refuse).
    const label = { type: CK.CKA_LABEL, value: 'doubled' };
    const token = { type: CK.CKA_TOKEN, value: true };
    for (let i = 0; i < 2; i++)
      rw.api.C_GenerateKeyPair(
        rw.handle,
        { mechanism: CK.CKM_EC_KEY_PAIR_GEN },
        [label, token, { type: CK.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') }],
        [label, token, { type: CK.CKA_SIGN, value: true }, { type: CK.CKA_SENSITIVE, value: true }],
      );
  } finally {
    rw.close();
  }
  const noPublic = inputErrorOf(() => openPkcs11Signer(at('no-public'), PIN), 'pkcs11-no-key');
  assert.match(noPublic.message, /has no public key labelled "no-public" \(its private key is there/);
  const doubled = inputErrorOf(() => openPkcs11Signer(at('doubled'), PIN), 'pkcs11-duplicate-key');
  assert.match(doubled.message, /has more than one private key labelled "doubled"/);
});

test('a module that does not load, or is not PKCS#11, is the pkcs11-module error naming it', () => {
  for (const module of ['/nonexistent/libpkcs11.so', join(repoRoot, 'package.json')]) {
    const e = inputErrorOf(() => openPkcs11Signer(at('ca-p256', { module }), PIN), 'pkcs11-module');
    assert.ok(e.message.startsWith(`ca.pkcs11.module "${module}" cannot be loaded as a PKCS#11 module: `), e.message);
  }
});

test('two signers of one module at once (an old and a new CA): each signs, close() twice is harmless', () => {
  const a = openPkcs11Signer(at('ca-p256'), PIN);
  const b = openPkcs11Signer(at('ca-rsa2048'), PIN);
  const data = Buffer.from('tbs');
  a.close();
  assert.ok(verify('sha256', data, b.publicKey, b.sign(data)), 'b signs after a closed');
  a.close();
  assert.throws(() => a.sign(data), /is closed/);
  b.close();
  b.close();
  const c = openPkcs11Signer(at('ca-p384'), PIN);
  assert.ok(verify('sha384', data, c.publicKey, c.sign(data)), 'the module opens again after the last close');
  c.close();
});

test('without pkcs11js the error says to install it (a copy of dist/lib where no node_modules is found)', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'dbtls-no-pkcs11js-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await cp(join(repoRoot, 'dist', 'lib'), join(root, 'lib'), { recursive: true });
  await writeFile(join(root, 'package.json'), '{"type":"module"}\n');
  const script = `
    import { openPkcs11Signer } from ${JSON.stringify(pathToFileURL(join(root, 'lib', 'pki', 'pkcs11.js')).href)};
    try { openPkcs11Signer({ module: 'm.so', token: 't', label: 'l' }, 'pin'); console.log('opened'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, kind: e.kind, message: e.message, hint: e.hint })); }`;
  const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout) as { code: string; kind: string; message: string; hint: string };
  assert.equal(e.code, 'pkcs11-unavailable');
  assert.equal(e.kind, 'input');
  assert.match(
    e.message,
    /^ca\.pkcs11 needs the optional package pkcs11js, which is not installed \(or not built for this Node\): Cannot find module 'pkcs11js'/,
  );
  assert.equal(e.hint, 'run: npm install pkcs11js');
});
