// The one-line names REQUIRE SUBJECT / ISSUER are rendered with, checked against OpenSSL itself:
// `openssl x509 -nameopt compat` prints X509_NAME_oneline(), the function MySQL and MariaDB call on
// a client certificate before strcmp() with the account's string. Names that OpenSSL versions print
// differently are refused, never rendered one way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateNames, onelineOrRefuse } from '../../lib/render/x509-name.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

/** A self-signed certificate made by `openssl req` with SUBJ (the -subj syntax, UTF-8), and its DER. */
async function selfSigned(dir: string, name: string, subj: string, extra: string[] = []): Promise<Buffer> {
  const cert = join(dir, `${name}.pem`);
  const r = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, `${name}-key.pem`),
    '-out',
    cert,
    '-days',
    '1',
    '-utf8',
    '-subj',
    subj,
    ...extra,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return Buffer.from(new X509Certificate(await readFile(cert)).raw);
}

/** What X509_NAME_oneline() prints for the certificate's subject, by the real OpenSSL. */
async function opensslOneline(dir: string, name: string): Promise<string> {
  const r = await run('openssl', ['x509', '-in', join(dir, `${name}.pem`), '-noout', '-subject', '-nameopt', 'compat']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.replace(/^subject=/, '').replace(/\n$/, '');
}

test('subject and issuer: the exact bytes OpenSSL prints, for backslashes, quotes, ";", ",", "=", non-ASCII and common attributes', async (t) => {
  const dir = await tempDir(t);
  // -subj takes "\" as an escape: "\\" is one backslash in the certificate.
  const subjects = {
    plain: '/C=DE/O=Example/CN=app',
    tricky: `/C=DE/ST=Baden-W\u00fcrttemberg/L=back\\\\slash/O=a "quoted"; s, t=u <v> #w $x 'y'/OU=caf\u00e9 \u00fc\u00df/CN=app`,
    attrs: '/DC=example/DC=com/UID=u1/emailAddress=ops@example.com/serialNumber=42/title=DBA/CN=app',
    trailing: '/O=ends with a backslash\\\\/CN=x',
  };
  for (const [name, subj] of Object.entries(subjects)) {
    const der = await selfSigned(dir, name, subj);
    const names = certificateNames(der);
    const want = await opensslOneline(dir, name);
    assert.deepEqual(names.subject, { text: want }, name);
    assert.deepEqual(names.issuer, { text: want }, `${name} (self-signed: the issuer is the subject)`);
  }
  // The form the finding names: a backslash stays one backslash, non-ASCII is \xHH in upper case.
  assert.match(await opensslOneline(dir, 'tricky'), /\/L=back\\slash\//);
  assert.deepEqual(certificateNames(await selfSigned(dir, 'utf8', '/O=caf\u00e9/CN=x')).subject, {
    text: '/O=caf\\xC3\\xA9/CN=x',
  });
});

test('names OpenSSL versions print differently are refused, naming the file, the attribute and why', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, string, string[], RegExp, string]> = [
    // OpenSSL 3.x prints "\/", 1.1.1 a bare "/" (which then reads as a separator).
    ['slash', '/O=a\\/b/CN=x', [], /"\/" in a value/, 'subject.O'],
    ['plus', '/OU=x\\+y/CN=x', [], /"\+" in a value/, 'subject.OU'],
    ['escape-like', '/L=back\\\\xslash/CN=x', [], /backslash followed by "x"/, 'subject.L'],
    ['multi', '/O=a+OU=b/CN=x', ['-multivalue-rdn'], /multi-valued RDN/, 'subject.O'],
    // An attribute type OpenSSL 1.1.1 has no short name for (3.x knows it as organizationIdentifier).
    ['unknown-oid', '/2.5.4.97=VATDE-123/CN=x', [], /attribute type 2\.5\.4\.97/, 'subject.2.5.4.97'],
  ];
  for (const [name, subj, extra, why, field] of cases) {
    const der = await selfSigned(dir, name, subj, extra);
    const file = join(dir, `${name}.pem`);
    assert.throws(
      () => onelineOrRefuse(der, 'subject', file, 'fix it'),
      (e: unknown) =>
        isDbtlsError(e) &&
        e.kind === 'input' &&
        e.exitCode === 2 &&
        why.test(e.message) &&
        e.message.includes(file) &&
        e.location.field === field &&
        e.hint === 'fix it',
      name,
    );
  }
  // Garbage is a located input error, not a crash.
  await writeFile(join(dir, 'junk.der'), 'not DER');
  assert.throws(
    () => onelineOrRefuse(Buffer.from('not DER'), 'issuer', join(dir, 'junk.der'), 'x'),
    (e: unknown) => isDbtlsError(e) && e.code === 'bad-certificate',
  );
});
