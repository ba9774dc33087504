import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { generateRsaKey } from '../../lib/pki/keys.js';
import { issueCertificate } from '../../lib/pki/certificate.js';

// Two datadirs made by `dbtls setup` (so two unrelated CAs), plus a few OpenSSL-made files.
const dir = await tempDir({ after }, 'dbtls-inspect-cli-');
const data = join(dir, 'data');
const other = join(dir, 'other');
await mkdir(data);
await mkdir(other);
for (const d of [data, other]) {
  const r = await dbtls(['setup', '-d', d, '--suffix', 'T', '--san', 'db1.example.com', '--san', '127.0.0.1']);
  assert.equal(r.code, 0, r.stderr);
}
const inData = (name: string) => join(data, name);
async function ssl(...args: string[]): Promise<string> {
  const r = await run('openssl', args, { cwd: dir });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}
await ssl(
  'pkcs8',
  '-topk8',
  '-v2',
  'aes-256-cbc',
  '-in',
  inData('server-key.pem'),
  '-out',
  'enc.key',
  '-passout',
  'pass:secret',
);
await ssl('x509', '-in', inData('server-cert.pem'), '-outform', 'der', '-out', 'server-cert.der');
await ssl(
  'req',
  '-new',
  '-key',
  inData('client-key.pem'),
  '-subj',
  '/CN=app',
  '-addext',
  'subjectAltName=DNS:app.example.com',
  '-out',
  'app.csr',
);
await writeFile(join(dir, 'garbage.pem'), 'not a certificate\n');

/** Every line of base64 inside every key file: none may ever appear in the output. */
const keyMaterial: string[] = [];
for (const file of [...(await readdir(data)).filter((n) => n.includes('key')).map(inData), join(dir, 'enc.key')]) {
  const pem = await readFile(file, 'utf8');
  if (!pem.includes('PRIVATE KEY')) continue;
  keyMaterial.push(...pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l)));
}
assert.ok(keyMaterial.length > 80, 'found the keys to look for');
function assertNoKeyMaterial(output: string): void {
  assert.doesNotMatch(output, /PRIVATE KEY/);
  for (const line of keyMaterial) assert.ok(!output.includes(line.slice(0, 24)), 'key material in the output');
}

test('a setup datadir: every file described, fields as `openssl x509` prints them, no key material', async () => {
  const files = (await readdir(data)).sort().map(inData);
  const r = await dbtls(['inspect', ...files]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assertNoKeyMaterial(r.stdout);

  const out = await ssl(
    'x509',
    '-in',
    inData('server-cert.pem'),
    '-noout',
    '-serial',
    '-fingerprint',
    '-sha256',
    '-dates',
    '-subject',
  );
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)![1]!;
  const section = r.stdout.split(/\n(?=\S)/).find((s) => s.startsWith(inData('server-cert.pem')))!;
  const when = (d: string) => new Date(Date.parse(d)).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
  assert.match(section, new RegExp(`serial +${field('serial')}\\n`, 'i'));
  assert.match(section, new RegExp(`SHA-256 +${field('sha256 Fingerprint')}\\n`));
  assert.match(
    section,
    new RegExp(`validity +${when(field('notBefore'))} to ${when(field('notAfter'))}  \\(3649 days left\\)\\n`),
  );
  assert.match(section, new RegExp(`subject +${field('subject').replaceAll(' = ', '=')}\\n`));
  assert.match(section, /SANs +DNS:db1\.example\.com, IP:127\.0\.0\.1\n/);
  assert.match(section, /key +RSA 2048\n/);
  assert.match(section, /CA +no\n/);
  assert.match(section, /key usage +digitalSignature, keyEncipherment\n/);
  assert.match(section, /ext key usage +serverAuth\n/);
  assert.match(r.stdout, /ca\.pem \(PEM\)\n  certificate\n[\s\S]*?\(self-signed\)[\s\S]*?CA +yes\n/);
  assert.match(r.stdout, /server-key\.pem \(PEM\)\n  private key\n    key +RSA 2048\n    format +PKCS#8\n/);
  assert.match(r.stdout, /public_key\.pem \(PEM\)\n  public key\n    key +RSA 2048\n/);
});

test('--json: one entry per file with its objects, the same data, no key material', async () => {
  const r = await dbtls([
    'inspect',
    '--json',
    inData('server-cert.pem'),
    inData('server-key.pem'),
    join(dir, 'enc.key'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assertNoKeyMaterial(r.stdout);
  const entries = JSON.parse(r.stdout);
  assert.equal(entries.length, 3);
  const [cert, key, enc] = entries;
  assert.equal(cert.file, inData('server-cert.pem'));
  assert.equal(cert.ok, true);
  assert.equal(cert.format, 'pem');
  const c = cert.objects[0];
  assert.equal(c.kind, 'certificate');
  const fp = /Fingerprint=(.*)/.exec(
    await ssl('x509', '-in', inData('server-cert.pem'), '-noout', '-fingerprint', '-sha256'),
  )![1];
  assert.equal(c.fingerprint256, fp);
  assert.equal(c.daysLeft, 3649);
  assert.equal(c.status, 'valid');
  assert.ok(!Number.isNaN(Date.parse(c.notAfter)));
  assert.deepEqual(key.objects, [
    { kind: 'private-key', format: 'pkcs8', encrypted: false, keyType: 'rsa', keyBits: 2048, spkiSha256: c.spkiSha256 },
  ]);
  assert.deepEqual(enc.objects, [
    {
      kind: 'private-key',
      format: 'pkcs8',
      encrypted: true,
      encryption: 'PBES2 (PBKDF2 hmacWithSHA256, 2048 iterations, aes-256-cbc)',
    },
  ]);
});

test('an encrypted key is described without asking for its passphrase', async () => {
  const r = await dbtls(['inspect', join(dir, 'enc.key')], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /format +encrypted PKCS#8\n +encryption +PBES2/);
  assert.doesNotMatch(r.stdout + r.stderr, /pass ?phrase/i);
  assertNoKeyMaterial(r.stdout + r.stderr);
});

test('a missing file and a garbage file: named on stderr, exit 2, the good file still shown', async () => {
  const missing = join(dir, 'missing.pem');
  const garbage = join(dir, 'garbage.pem');
  const r = await dbtls(['inspect', missing, inData('ca.pem'), garbage]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    `dbtls: ${missing}: no such file\ndbtls: ${garbage}: holds no certificate, key or certificate request (PEM or DER)\n`,
  );
  assert.match(r.stdout, /ca\.pem \(PEM\)\n  certificate\n/);

  const j = await dbtls(['inspect', '--json', missing, inData('ca.pem')]);
  assert.equal(j.code, 2);
  const [bad, good] = JSON.parse(j.stdout);
  assert.deepEqual(bad, { file: missing, ok: false, error: { code: 'unreadable', message: 'no such file' } });
  assert.equal(good.ok, true);
});

test('--ca: the right CA says OK, a foreign one says why not (exit 1); a bad --ca file is exit 2', async () => {
  const ok = await dbtls(['inspect', inData('server-cert.pem'), inData('client-cert.pem'), '--ca', inData('ca.pem')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.match(/chain +OK: issued by CN=MySQL_Server_T_Auto_Generated_CA_Certificate\n/g)?.length, 2);

  const foreign = await dbtls(['inspect', inData('server-cert.pem'), '--ca', join(other, 'ca.pem')]);
  assert.equal(foreign.code, 1);
  assert.match(
    foreign.stdout,
    /chain +FAILED: no trusted CA signed CN=MySQL_Server_T_Auto_Generated_Server_Certificate/,
  );

  const json = await dbtls(['inspect', '--json', inData('server-cert.pem'), '--ca', join(other, 'ca.pem')]);
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout)[0].objects[0].chain.ok, false);

  const badCa = await dbtls(['inspect', inData('server-cert.pem'), '--ca', inData('server-key.pem')]);
  assert.equal(badCa.code, 2);
  assert.equal(badCa.stderr, `dbtls: ${inData('server-key.pem')}: holds no certificate to trust\n`);
});

test('--key: matches its certificate, not another one; an encrypted --key is refused with a hint', async () => {
  const ok = await dbtls(['inspect', inData('server-cert.pem'), '--key', inData('server-key.pem')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`key file +matches ${inData('server-key.pem')}\\n`));
  assertNoKeyMaterial(ok.stdout);

  const wrong = await dbtls(['inspect', inData('server-cert.pem'), '--key', inData('client-key.pem')]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /key file +DOES NOT MATCH /);

  const enc = await dbtls(['inspect', inData('server-cert.pem'), '--key', join(dir, 'enc.key')]);
  assert.equal(enc.code, 2);
  assert.match(
    enc.stderr,
    /the private key is encrypted; inspect does not ask for passphrases\nhint: give its public key instead/,
  );
});

test('DER certificates and PEM requests', async () => {
  const r = await dbtls(['inspect', join(dir, 'server-cert.der'), join(dir, 'app.csr')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /server-cert\.der \(DER\)\n  certificate\n    subject +CN=MySQL_Server_T_Auto_Generated_Server_Certificate\n/,
  );
  assert.match(
    r.stdout,
    /app\.csr \(PEM\)\n  certificate request\n    subject +CN=app\n    SANs +DNS:app\.example\.com\n    key +RSA 2048\n/,
  );
  assert.match(r.stdout, /signature +sha256WithRSAEncryption, valid\n/);
});

test('an expired certificate says EXPIRED', async () => {
  const key = await generateRsaKey();
  const old = issueCertificate({
    profile: 'ca',
    subject: { CN: 'Old CA' },
    days: 1,
    subjectKey: key,
    now: new Date(Date.now() - 10 * 86_400_000),
  });
  const file = join(dir, 'old.pem');
  await writeFile(file, old.pem);
  const r = await dbtls(['inspect', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /validity +\S+ \S+ UTC to \S+ \S+ UTC  \(EXPIRED\)\n/);
  const j = JSON.parse((await dbtls(['inspect', '--json', file])).stdout);
  assert.equal(j[0].objects[0].status, 'expired');
  assert.ok(j[0].objects[0].daysLeft < -8);
});

test('help has EXAMPLES and EXIT CODES; no file is a usage error; inspect loads no heavy module', async () => {
  const h = await dbtls(['inspect', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /\nEXAMPLES\n[\s\S]*\$ dbtls inspect [\s\S]*\nEXIT CODES\n\s+0 [\s\S]*\n\s+2 /);
  const none = await dbtls(['inspect']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing required argument 'file'/);

  const probe = join(dir, 'probe.cjs');
  await writeFile(
    probe,
    `process.on('exit', () => { const seen = new Set(Object.keys(require('module')._cache).filter((k) => k.includes('node_modules')).map((k) => k.split('node_modules/').pop().split('/')[0])); process.stderr.write('LOADED ' + JSON.stringify([...seen].sort()) + '\\n'); });\n`,
  );
  const r = await run(process.execPath, [
    '--require',
    probe,
    cliPath,
    'inspect',
    inData('server-cert.pem'),
    join(dir, 'app.csr'),
    '--ca',
    inData('ca.pem'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(/LOADED (.*)/.exec(r.stderr)![1]!), ['commander']);
});
