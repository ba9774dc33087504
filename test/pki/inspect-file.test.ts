import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  describeFile,
  describeData,
  loadMatchKey,
  loadRoots,
  type CertificateDescription,
  type CsrDescription,
  type Described,
  type PrivateKeyDescription,
  type PublicKeyDescription,
} from '../../lib/pki/inspect-file.js';
import { generateRsaKey, privateKeyToPem } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { parseSans } from '../../lib/pki/san.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

// Real files, made by OpenSSL: an RSA root, an RSA intermediate, an EC leaf (with usages and SANs),
// Ed25519 and RSA keys and requests, an encrypted PKCS#8 key, DER forms.
const dir = await tempDir({ after }, 'dbtls-describe-');
const f = (name: string) => join(dir, name);
async function ssl(...args: string[]): Promise<string> {
  const r = await run('openssl', args, { cwd: dir });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}
await writeFile(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
await writeFile(
  f('leaf.ext'),
  'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:db1.example.com,IP:192.0.2.7\n',
);
await ssl(
  'req',
  '-x509',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-keyout',
  'ca.key',
  '-out',
  'ca.pem',
  '-subj',
  '/CN=Describe Root',
  '-days',
  '30',
);
await ssl(
  'req',
  '-x509',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-keyout',
  'foreign.key',
  '-out',
  'foreign.pem',
  '-subj',
  '/CN=Describe Root',
  '-days',
  '30',
);
await ssl(
  'req',
  '-new',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-keyout',
  'inter.key',
  '-out',
  'inter.csr',
  '-subj',
  '/CN=Describe Intermediate',
);
await ssl(
  'x509',
  '-req',
  '-in',
  'inter.csr',
  '-CA',
  'ca.pem',
  '-CAkey',
  'ca.key',
  '-days',
  '20',
  '-extfile',
  'ca.ext',
  '-out',
  'inter.pem',
);
await ssl('genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key');
await ssl(
  'req',
  '-new',
  '-key',
  'ec.key',
  '-subj',
  '/O=Acme/CN=db1',
  '-addext',
  'subjectAltName=DNS:db1.example.com,IP:192.0.2.7,IP:2001:db8::1',
  '-out',
  'ec.csr',
);
await ssl(
  'x509',
  '-req',
  '-in',
  'ec.csr',
  '-CA',
  'inter.pem',
  '-CAkey',
  'inter.key',
  '-days',
  '10',
  '-extfile',
  'leaf.ext',
  '-out',
  'leaf.pem',
);
await ssl('genpkey', '-algorithm', 'ed25519', '-out', 'ed.key');
await ssl('req', '-new', '-key', 'ed.key', '-subj', '/CN=ed', '-out', 'ed.csr');
await ssl(
  'req',
  '-new',
  '-newkey',
  'rsa:3072',
  '-nodes',
  '-keyout',
  'rsa.key',
  '-subj',
  '/CN=rsa',
  '-addext',
  'subjectAltName=DNS:rsa.example.com',
  '-out',
  'rsa.csr',
);
await ssl('pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', 'rsa.key', '-out', 'enc.key', '-passout', 'pass:secret');
await ssl(
  'pkcs8',
  '-topk8',
  '-v2',
  'aes-256-cbc',
  '-in',
  'ec.key',
  '-outform',
  'der',
  '-out',
  'enc.der',
  '-passout',
  'pass:secret',
);
await ssl('rsa', '-in', 'rsa.key', '-traditional', '-out', 'rsa1.key');
await ssl('rsa', '-in', 'rsa.key', '-traditional', '-aes256', '-passout', 'pass:secret', '-out', 'rsa1-enc.key');
await ssl('ec', '-in', 'ec.key', '-out', 'sec1.key');
await ssl('pkey', '-in', 'rsa.key', '-pubout', '-out', 'rsa.pub');
await ssl('pkey', '-in', 'ec.key', '-pubout', '-out', 'ec.pub');
await ssl('pkey', '-in', 'rsa.key', '-pubout', '-outform', 'der', '-out', 'rsa.pub.der');
await ssl('x509', '-in', 'leaf.pem', '-outform', 'der', '-out', 'leaf.der');
await ssl('req', '-in', 'ec.csr', '-outform', 'der', '-out', 'ec.csr.der');
await ssl('pkcs8', '-topk8', '-nocrypt', '-in', 'ec.key', '-outform', 'der', '-out', 'ec.p8.der');
const leafPem = await readFile(f('leaf.pem'), 'utf8');
const interPem = await readFile(f('inter.pem'), 'utf8');
await writeFile(f('chain.pem'), leafPem + interPem);
await writeFile(f('bundle.pem'), (await readFile(f('ec.key'), 'utf8')) + leafPem + interPem);

async function only<K extends Described['kind']>(file: string, kind: K): Promise<Extract<Described, { kind: K }>> {
  const d = await describeFile(f(file));
  assert.equal(d.objects.length, 1, file);
  const [o] = d.objects;
  assert.equal(o!.kind, kind, file);
  return o as Extract<Described, { kind: K }>;
}

/** SHA-256 of a DER file as OpenSSL computes it, in our colon form. */
async function sha256Of(file: string): Promise<string> {
  const hex = (await ssl('dgst', '-sha256', '-r', file)).split(' ')[0]!;
  return hex.toUpperCase().match(/../g)!.join(':');
}

test('a certificate: every field agrees with `openssl x509`', async () => {
  const c = await only('leaf.pem', 'certificate');
  const out = await ssl(
    'x509',
    '-in',
    'leaf.pem',
    '-noout',
    '-serial',
    '-fingerprint',
    '-sha256',
    '-dates',
    '-subject',
    '-issuer',
  );
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)![1]!;
  assert.equal(c.serial, field('serial').toLowerCase());
  assert.equal(c.fingerprint256, field('sha256 Fingerprint'));
  assert.equal(c.notBefore.getTime(), Date.parse(field('notBefore')));
  assert.equal(c.notAfter.getTime(), Date.parse(field('notAfter')));
  assert.equal(c.subject, field('subject').replaceAll(' = ', '='));
  assert.equal(c.issuer, field('issuer').replaceAll(' = ', '='));
  assert.deepEqual(c.sans, ['DNS:db1.example.com', 'IP:192.0.2.7']);
  assert.deepEqual(c.keyUsage, ['digitalSignature']);
  assert.deepEqual(c.extKeyUsage, ['serverAuth', 'clientAuth']);
  assert.equal(c.isCA, false);
  assert.equal(c.selfSigned, false);
  assert.equal(c.keyType, 'ec');
  assert.equal(c.keyBits, 256);
  assert.equal(c.curve, 'prime256v1');
  assert.equal(c.signatureAlgorithm, 'sha256WithRSAEncryption');
  assert.equal(c.status, 'valid');
  assert.ok(c.daysLeft === 9 || c.daysLeft === 10, String(c.daysLeft));
  assert.equal(c.chain, undefined);
  assert.equal(c.keyMatches, undefined);

  const root = await only('ca.pem', 'certificate');
  assert.equal(root.isCA, true);
  assert.equal(root.selfSigned, true);
  assert.equal(root.keyBits, 2048);
  const inter = await only('inter.pem', 'certificate');
  assert.deepEqual(inter.keyUsage, ['keyCertSign', 'cRLSign']);
  assert.equal(inter.extKeyUsage, undefined);
});

test('DER is detected: certificate, request, PKCS#8 and encrypted keys, public key', async () => {
  const der = await describeFile(f('leaf.der'));
  assert.equal(der.format, 'der');
  const pem = await only('leaf.pem', 'certificate');
  assert.equal((der.objects[0] as CertificateDescription).fingerprint256, pem.fingerprint256);
  assert.equal((await only('ec.csr.der', 'csr')).subject, 'O=Acme, CN=db1');
  assert.deepEqual(
    { ...(await only('ec.p8.der', 'private-key')), spkiSha256: undefined },
    {
      kind: 'private-key',
      format: 'pkcs8',
      encrypted: false,
      keyType: 'ec',
      keyBits: 256,
      curve: 'prime256v1',
      spkiSha256: undefined,
    },
  );
  const enc = await only('enc.der', 'private-key');
  assert.equal(enc.encrypted, true);
  assert.equal(enc.keyType, undefined);
  const pub = await only('rsa.pub.der', 'public-key');
  assert.equal(pub.keyBits, 3072);
  assert.equal(pub.spkiSha256, await sha256Of('rsa.pub.der'));
});

test('private keys: type, size and format; encrypted ones from their header, with no passphrase', async () => {
  const spki = await sha256Of('rsa.pub.der');
  const cases: Array<[string, Partial<PrivateKeyDescription>]> = [
    ['rsa.key', { format: 'pkcs8', encrypted: false, keyType: 'rsa', keyBits: 3072, spkiSha256: spki }],
    ['rsa1.key', { format: 'pkcs1', encrypted: false, keyType: 'rsa', keyBits: 3072, spkiSha256: spki }],
    ['sec1.key', { format: 'sec1', encrypted: false, keyType: 'ec', keyBits: 256, curve: 'prime256v1' }],
    ['ed.key', { format: 'pkcs8', encrypted: false, keyType: 'ed25519', keyBits: 256 }],
    [
      'enc.key',
      {
        format: 'pkcs8',
        encrypted: true,
        encryption: 'PBES2 (PBKDF2 hmacWithSHA256, 2048 iterations, aes-256-cbc)',
        keyType: undefined,
        spkiSha256: undefined,
      },
    ],
    [
      'rsa1-enc.key',
      { format: 'pkcs1', encrypted: true, encryption: 'legacy PEM (aes-256-cbc)', keyType: 'rsa', keyBits: undefined },
    ],
  ];
  for (const [file, want] of cases) {
    const k = await only(file, 'private-key');
    for (const [field, value] of Object.entries(want))
      assert.deepEqual(k[field as keyof PrivateKeyDescription], value, `${file} ${field}`);
  }
});

test('a public key: type, size, SHA-256 of the SPKI as OpenSSL computes it', async () => {
  const pub: PublicKeyDescription = await only('rsa.pub', 'public-key');
  assert.equal(pub.format, 'spki');
  assert.equal(pub.keyType, 'rsa');
  assert.equal(pub.keyBits, 3072);
  assert.equal(pub.spkiSha256, await sha256Of('rsa.pub.der'));
});

test('certificate requests of every key type: subject, requested SANs, key, signature', async () => {
  const ec: CsrDescription = await only('ec.csr', 'csr');
  assert.equal(ec.subject, 'O=Acme, CN=db1');
  assert.deepEqual(ec.sans, ['DNS:db1.example.com', 'IP:192.0.2.7', 'IP:2001:DB8:0:0:0:0:0:1']);
  assert.equal(ec.keyType, 'ec');
  assert.equal(ec.signatureAlgorithm, 'ecdsa-with-SHA256');
  assert.equal(ec.signatureValid, true);
  // The request's key is the certificate's key: the same SPKI hash ties them together.
  assert.equal(ec.spkiSha256, (await only('leaf.pem', 'certificate')).spkiSha256);

  const rsa = await only('rsa.csr', 'csr');
  assert.deepEqual(
    [rsa.subject, rsa.sans, rsa.keyType, rsa.keyBits, rsa.signatureValid],
    ['CN=rsa', ['DNS:rsa.example.com'], 'rsa', 3072, true],
  );
  const ed = await only('ed.csr', 'csr');
  assert.deepEqual([ed.keyType, ed.signatureAlgorithm, ed.signatureValid, ed.sans], ['ed25519', 'ED25519', true, []]);

  // Flip the last signature byte: still a request, no longer a valid one.
  const der = await readFile(f('ec.csr.der'));
  der[der.length - 1]! ^= 0x01;
  const tampered = await describeData(der);
  assert.equal((tampered!.objects[0] as CsrDescription).signatureValid, false);
});

test("several PEM blocks: a key and a chain, in file order; the file's other certificates are intermediates", async () => {
  const roots = await loadRoots(f('ca.pem'));
  const d = await describeFile(f('bundle.pem'), { roots, key: await loadMatchKey(f('ec.key')) });
  assert.deepEqual(
    d.objects.map((o) => o.kind),
    ['private-key', 'certificate', 'certificate'],
  );
  const [key, leaf, inter] = d.objects as [PrivateKeyDescription, CertificateDescription, CertificateDescription];
  assert.equal(key.spkiSha256, leaf.spkiSha256);
  assert.deepEqual(leaf.chain, { ok: true, path: ['O=Acme, CN=db1', 'CN=Describe Intermediate', 'CN=Describe Root'] });
  assert.deepEqual(inter.chain, { ok: true, path: ['CN=Describe Intermediate', 'CN=Describe Root'] });
  // The key is checked against the first certificate only: the leaf, by convention.
  assert.equal(leaf.keyMatches, true);
  assert.equal(inter.keyMatches, undefined);

  // Without its intermediate, the leaf does not reach the root.
  const alone = (await describeFile(f('leaf.pem'), { roots })).objects[0] as CertificateDescription;
  assert.deepEqual(alone.chain, {
    ok: false,
    reason: 'no trusted CA signed O=Acme, CN=db1 (issuer CN=Describe Intermediate)',
  });
  // A foreign root with the same name is refused.
  const foreign = await describeFile(f('chain.pem'), { roots: await loadRoots(f('foreign.pem')) });
  assert.equal((foreign.objects[0] as CertificateDescription).chain?.ok, false);
  // A CA verified against itself is a trusted root, named once.
  const self = await describeFile(f('ca.pem'), { roots });
  assert.deepEqual((self.objects[0] as CertificateDescription).chain, { ok: true, path: ['CN=Describe Root'] });
});

test('--key matching: private or public key, right or wrong; an encrypted key is refused, not prompted for', async () => {
  const matches = async (certFile: string, keyFile: string) =>
    ((await describeFile(f(certFile), { key: await loadMatchKey(f(keyFile)) })).objects[0] as CertificateDescription)
      .keyMatches;
  assert.equal(await matches('chain.pem', 'ec.key'), true);
  assert.equal(await matches('leaf.pem', 'sec1.key'), true);
  assert.equal(await matches('leaf.der', 'ec.p8.der'), true);
  assert.equal(await matches('leaf.pem', 'ec.pub'), true);
  assert.equal(await matches('leaf.pem', 'rsa.key'), false);
  assert.equal(await matches('leaf.pem', 'rsa.pub'), false);
  for (const file of ['enc.key', 'enc.der', 'rsa1-enc.key']) {
    await assert.rejects(
      loadMatchKey(f(file)),
      (e: unknown) => isDbtlsError(e) && e.code === 'encrypted-key' && e.exitCode === 2,
      file,
    );
  }
  await assert.rejects(loadMatchKey(f('ca.pem')), (e: unknown) => isDbtlsError(e) && e.code === 'no-key');
  await assert.rejects(loadRoots(f('ec.key')), (e: unknown) => isDbtlsError(e) && e.code === 'no-ca-certificate');
});

test('validity: an expired and a not-yet-valid certificate say so', async () => {
  const key = await generateRsaKey();
  const day = 86_400_000;
  const expired = issueCertificate({
    profile: 'ca',
    subject: { CN: 'Old' },
    days: 1,
    subjectKey: key,
    now: new Date(Date.now() - 10 * day),
  });
  const d = await describeData(Buffer.from(expired.pem));
  const c = d!.objects[0] as CertificateDescription;
  assert.equal(c.status, 'expired');
  assert.ok(c.daysLeft <= -9, String(c.daysLeft));
  const early = await describeData(Buffer.from(expired.pem), { now: new Date(Date.now() - 20 * day) });
  assert.equal((early!.objects[0] as CertificateDescription).status, 'not-yet-valid');
});

test('key usage read from dbtls-made certificates too', async () => {
  const [caKey, leafKey] = await Promise.all([generateRsaKey(), generateRsaKey()]);
  const ca = issueCertificate({ profile: 'ca', subject: { CN: 'KU CA' }, days: 5, subjectKey: caKey });
  const leaf = issueCertificate({
    profile: 'peer',
    subject: { CN: 'KU peer' },
    sans: parseSans(['db1', '10.0.0.1']).sans,
    days: 5,
    subjectKey: leafKey,
    issuer: loadIssuer(ca.pem, caKey),
  });
  const [c] = (await describeData(Buffer.from(ca.pem)))!.objects as [CertificateDescription];
  const [l] = (await describeData(Buffer.from(leaf.pem + privateKeyToPem(leafKey))))!.objects as [
    CertificateDescription,
    PrivateKeyDescription,
  ];
  assert.deepEqual(c.keyUsage, ['keyCertSign', 'cRLSign']);
  assert.deepEqual(l.keyUsage, ['digitalSignature', 'keyEncipherment']);
  assert.deepEqual(l.extKeyUsage, ['serverAuth', 'clientAuth']);
  assert.deepEqual(l.sans, ['DNS:db1', 'IP:10.0.0.1']);
});

test('a missing file, a directory, garbage, or nothing but unknown blocks: an input error naming the file', async () => {
  await writeFile(f('garbage.bin'), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05, 0xff, 0x00]));
  await writeFile(f('notes.txt'), 'just some text\n');
  await writeFile(f('params.pem'), await ssl('ecparam', '-name', 'prime256v1'));
  const cases: Array<[string, string]> = [
    ['missing.pem', 'unreadable'],
    ['.', 'not-a-file'], // refused before it is opened (readGivenFile)
    ['garbage.bin', 'unrecognised'],
    ['notes.txt', 'unrecognised'],
    ['params.pem', 'unrecognised'],
  ];
  for (const [file, code] of cases) {
    await assert.rejects(describeFile(f(file)), (e: unknown) => {
      assert.ok(isDbtlsError(e));
      assert.equal(e.code, code, file);
      assert.equal(e.exitCode, 2);
      assert.equal(e.location.file, f(file));
      return true;
    });
  }
  // An unknown block next to a known one is listed, not an error.
  const mixed = await describeData(Buffer.from((await readFile(f('params.pem'), 'utf8')) + leafPem));
  assert.deepEqual(
    mixed!.objects.map((o) => o.kind),
    ['other', 'certificate'],
  );
  assert.deepEqual(mixed!.objects[0], { kind: 'other', label: 'EC PARAMETERS', reason: 'not a kind dbtls inspects' });
});
