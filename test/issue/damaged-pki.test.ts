// The damaged-PKI table (issue 12, findings 3, 4, 9, 16): state dbtls did not leave behind is refused
// with exit 2, naming the file and the remedy, and nothing is written; never replaced silently.
// Drives the real CLI; OpenSSL checks what it wrote.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';

/** Every file under DIR (relative path → bytes and mode); symlinks as "→ target". */
async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const p = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const rel = relative(dir, p);
    if (entry.isSymbolicLink()) out.set(rel, '-> link');
    else if (entry.isFile()) out.set(rel, `${((await stat(p)).mode & 0o777).toString(8)} ${await readFile(p, 'utf8')}`);
    else out.set(rel + '/', '');
  }
  return out;
}

async function openssl(args: string[], cwd?: string, input?: string): Promise<string> {
  const r = await run('openssl', args, { cwd, input });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

interface Fixture {
  dir: string;
  pki: string;
  inv: string;
  dest: string;
  manifest: { ca: { fingerprint256: string; subject: string } };
}

/** The test's environment without a CA passphrase of its own, plus EXTRA. */
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.DBTLS_CA_PASSPHRASE;
  return { ...e, ...extra };
};

/** Two nodes and a client; nodes deliver into DIR/dest/<node> (never a system path). */
const twoNodes = (dir: string): TestInventory => ({
  nodes: [
    { name: 'db1', host: '10.0.0.11', roles: ['mariadb'], dest: join(dir, 'dest', 'db1'), reload: 'none' },
    { name: 'db2', host: '10.0.0.12', roles: ['mariadb'], dest: join(dir, 'dest', 'db2'), reload: 'none' },
  ],
  clients: ['app'],
  leafDays: 397,
});

// Every test damages its own copy of one issue (the damage, not the issuing, is what they are about).
const issued = issuedPki(fileScope(), twoNodes, { env: env() });

async function asFixture(dir: string, inv: string): Promise<Fixture> {
  const pki = join(dir, 'pki');
  return {
    dir,
    pki,
    inv,
    dest: join(dir, 'dest'),
    manifest: JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8')),
  };
}

/** twoNodes issued: a copy of the shared issue, or with EXTRA_ENV (a CA passphrase) an issue of its own. */
async function fixture(t: TestContext, extraEnv: Record<string, string> = {}): Promise<Fixture> {
  if (Object.keys(extraEnv).length === 0) {
    const { dir, inv } = await issued(t);
    return asFixture(dir, inv);
  }
  const dir = await tempDir(t);
  const path = await writeInventory(dir, twoNodes(dir));
  const r = await dbtls(['issue', '-i', path], { env: env(extraEnv) });
  assert.equal(r.code, 0, r.stderr);
  return asFixture(dir, path);
}

/** Runs ARGS, expects exit 2 with stderr matching every pattern, and the PKI directory and dest unchanged. */
async function refused(
  f: Fixture,
  args: string[],
  patterns: RegExp[],
  extraEnv: Record<string, string> = {},
): Promise<string> {
  const before = await tree(f.dir);
  const r = await dbtls(args, { env: env(extraEnv) });
  assert.equal(r.code, 2, `dbtls ${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.deepEqual(await tree(f.dir), before, 'nothing is written by a refused run');
  return r.stderr;
}

const esc = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

test('CA gone but recorded in the manifest: issue, issue --check and apply refuse (exit 2) naming the fingerprint; --new-ca starts over', async (t) => {
  const f = await fixture(t);
  await rm(join(f.pki, 'ca.pem'));
  await rm(join(f.pki, 'ca-key.pem'));
  const fp = esc(f.manifest.ca.fingerprint256);
  const subject = esc(f.manifest.ca.subject);
  for (const args of [
    ['issue', '-i', f.inv],
    ['issue', '-i', f.inv, '--check'],
    ['apply', '-i', f.inv],
  ]) {
    await refused(f, args, [
      fp,
      subject,
      /ca\.pem and .*ca-key\.pem are missing/,
      /refusing to create another CA/,
      /from a backup/,
      /--new-ca/,
    ]);
  }
  assert.deepEqual(await readdir(f.dest).catch(() => []), [], 'apply pushed nothing');
  await refused(f, ['rotate', 'leaf', '-i', f.inv, '--all', '--yes'], [fp, subject, /from a backup/, /--new-ca/]);
  // check does not call it "nothing issued yet" either.
  await refused(
    f,
    ['check', '-i', f.inv],
    [fp, /ca\.pem is missing, but .*manifest\.json records the CA/, /from a backup/],
  );

  const r = await dbtls(['issue', '-i', f.inv, '--new-ca', '--json'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.ca.action, 'created');
  assert.notEqual(report.ca.fingerprint256, f.manifest.ca.fingerprint256);
  assert.equal(report.issued.length, 5, 'every certificate re-issued under the new CA');
  await openssl(
    [
      'verify',
      '-CAfile',
      'ca.pem',
      'nodes/db1/server-cert.pem',
      'nodes/db2/server-cert.pem',
      'clients/app/client-cert.pem',
    ],
    f.pki,
  );
  // With the CA back in place, --new-ca is not a way to replace it.
  await refused(f, ['issue', '-i', f.inv, '--new-ca'], [/--new-ca starts over only when the CA is gone/, /rotate ca/]);
});

test('another CA put in place of the recorded one is refused (issue and apply); --new-ca adopts it deliberately', async (t) => {
  const f = await fixture(t);
  const other = await tempDir(t);
  const otherInv = await writeInventory(other, { nodes: [{ name: 'x1', host: '10.0.0.99', roles: ['mariadb'] }] });
  assert.equal((await dbtls(['issue', '-i', otherInv], { env: env() })).code, 0);
  for (const file of ['ca.pem', 'ca-key.pem']) await copyFile(join(other, 'pki', file), join(f.pki, file));
  const theirs = JSON.parse(await readFile(join(other, 'pki/manifest.json'), 'utf8')).ca.fingerprint256;
  for (const args of [
    ['issue', '-i', f.inv],
    ['apply', '-i', f.inv],
  ]) {
    await refused(f, args, [
      esc(theirs),
      esc(f.manifest.ca.fingerprint256),
      /refusing to re-issue everything under another CA/,
      /--new-ca/,
    ]);
  }
  const r = await dbtls(['issue', '-i', f.inv, '--new-ca', '--json'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).ca.fingerprint256, theirs);
  assert.equal(JSON.parse(r.stdout).issued.length, 5);
  await openssl(['verify', '-CAfile', 'ca.pem', 'nodes/db1/server-cert.pem', 'clients/app/client-cert.pem'], f.pki);
});

test("half a CA is refused and never regenerated; a CA key that is not ca.pem's is refused", async (t) => {
  const f = await fixture(t);
  const keyPath = join(f.pki, 'ca-key.pem');
  const certPath = join(f.pki, 'ca.pem');
  await rename(keyPath, keyPath + '.away');
  await refused(f, ['issue', '-i', f.inv], [esc(keyPath), /is missing/, esc(f.manifest.ca.fingerprint256)]);
  await refused(f, ['issue', '-i', f.inv, '--new-ca'], [/ca-key\.pem is missing/, /move .*ca\.pem away/]);
  const c = await dbtls(['check', '-i', f.inv, '--json'], { env: env() });
  assert.equal(c.code, 1, c.stderr);
  assert.deepEqual(JSON.parse(c.stdout).items[0].problems, [
    'ca-key.pem is missing: the CA cannot sign (restore it from a backup)',
  ]);
  await rename(keyPath + '.away', keyPath);

  await rename(certPath, certPath + '.away');
  await refused(f, ['issue', '-i', f.inv], [/ca-key\.pem exists without .*ca\.pem/, /refusing to replace a CA key/]);
  await refused(f, ['apply', '-i', f.inv], [/ca-key\.pem exists without/]);
  await rename(certPath + '.away', certPath);

  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]);
  await refused(f, ['issue', '-i', f.inv], [esc(keyPath), /does not belong to the CA certificate/]);
  await refused(f, ['issue', '-i', f.inv, '--force', '--node', 'db1'], [/does not belong to the CA certificate/]);
  const c2 = await dbtls(['check', '-i', f.inv, '--json'], { env: env() });
  assert.equal(c2.code, 1, c2.stderr);
  assert.match(
    JSON.parse(c2.stdout).items?.[0]?.problems.join('\n') ?? c2.stdout,
    /ca-key\.pem does not belong to ca\.pem/,
  );
});

test('a garbled ca.pem is an input error naming the file, for issue and check', async (t) => {
  const f = await fixture(t);
  const ca = await readFile(join(f.pki, 'ca.pem'), 'utf8');
  const lines = ca.split('\n');
  lines[3] = 'A'.repeat(64);
  await writeFile(join(f.pki, 'ca.pem'), lines.join('\n'));
  await refused(f, ['issue', '-i', f.inv], [/ca\.pem holds a certificate that cannot be read/]);
  await refused(f, ['check', '-i', f.inv], [/ca\.pem holds a certificate that cannot be read/]);
});

test('damaged leaves are refused naming the file and `issue --force --node N`: truncated key, swapped keys, symlinked key, a certificate of another CA', async (t) => {
  const f = await fixture(t);
  const db1 = join(f.pki, 'nodes/db1');
  const db2 = join(f.pki, 'nodes/db2');
  const keep = async () =>
    [await readFile(join(db1, 'server-key.pem')), await readFile(join(db2, 'server-key.pem'))] as const;
  const [key1, key2] = await keep();
  const hint = /hint: re-issue it deliberately: dbtls issue -i .*inventory\.yml --force --node db1/;

  // Truncated.
  await writeFile(join(db1, 'server-key.pem'), key1.subarray(0, 300), { mode: 0o600 });
  await refused(f, ['issue', '-i', f.inv], [esc(join(db1, 'server-key.pem')), /not a readable private key/, hint]);
  await refused(f, ['apply', '-i', f.inv], [/nodes\/db1\/server-key\.pem is not a readable private key/]);
  assert.deepEqual(await readdir(f.dest).catch(() => []), [], 'apply pushed nothing');

  // Swapped with db2's: each is a good key, of the other certificate.
  await writeFile(join(db1, 'server-key.pem'), key2, { mode: 0o600 });
  await writeFile(join(db2, 'server-key.pem'), key1, { mode: 0o600 });
  await refused(f, ['issue', '-i', f.inv], [/nodes\/db[12]\/server-key\.pem does not belong to its certificate/]);
  await refused(
    f,
    ['issue', '-i', f.inv, '--node', 'db1'],
    [/nodes\/db1\/server-key\.pem does not belong to its certificate/, hint],
  );
  await writeFile(join(db2, 'server-key.pem'), key2, { mode: 0o600 });

  // A symlink (to the right key, even): refused, not followed.
  await writeFile(join(f.dir, 'elsewhere.pem'), key1, { mode: 0o600 });
  await rm(join(db1, 'server-key.pem'));
  await symlink(join(f.dir, 'elsewhere.pem'), join(db1, 'server-key.pem'));
  await refused(
    f,
    ['issue', '-i', f.inv],
    [
      /nodes\/db1\/server-key\.pem is a symbolic link/,
      /hint: replace the link with the file itself, or re-issue it deliberately: dbtls issue -i .*inventory\.yml --force --node db1/,
    ],
  );
  await rm(join(db1, 'server-key.pem'));
  await writeFile(join(db1, 'server-key.pem'), key1, { mode: 0o600 });

  // A matching pair from another cluster's CA.
  const other = await tempDir(t);
  const otherInv = await writeInventory(other, { nodes: [{ name: 'db1', host: '10.0.0.11', roles: ['mariadb'] }] });
  assert.equal((await dbtls(['issue', '-i', otherInv], { env: env() })).code, 0);
  await copyFile(join(other, 'pki/nodes/db1/server-cert.pem'), join(db1, 'server-cert.pem'));
  await copyFile(join(other, 'pki/nodes/db1/server-key.pem'), join(db1, 'server-key.pem'));
  await refused(f, ['issue', '-i', f.inv], [/nodes\/db1\/server-cert\.pem was not signed by this cluster's CA/, hint]);

  // The remedy works: db1 re-issued deliberately, then everything is up to date.
  const fixed = await dbtls(['issue', '-i', f.inv, '--force', '--node', 'db1'], { env: env() });
  assert.equal(fixed.code, 0, fixed.stderr);
  await openssl(['verify', '-CAfile', 'ca.pem', 'nodes/db1/server-cert.pem'], f.pki);
  const again = await dbtls(['issue', '-i', f.inv], { env: env() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /nothing to do: everything is up to date/);
});

test('manifest shapes: null, "stores": "x", certificates not a list, a record missing a field, a path outside the PKI folder → exit 2 naming manifest.json and the field', async (t) => {
  const f = await fixture(t);
  const path = join(f.pki, 'manifest.json');
  const good = JSON.parse(await readFile(path, 'utf8'));
  const cases: Array<[unknown, RegExp]> = [
    [null, /manifest\.json is not a dbtls manifest: it holds null/],
    [[], /manifest\.json is not a dbtls manifest: it holds a list/],
    [{ ...good, version: 2 }, /manifest\.json: version: must be 1/],
    [{ ...good, stores: 'x' }, /manifest\.json: stores: must be a list, not "x"/],
    [{ ...good, certificates: {} }, /manifest\.json: certificates: must be a list, not an object/],
    [
      { ...good, certificates: [{ ...good.certificates[0], fingerprint256: undefined }] },
      /manifest\.json: certificates\[0\]\.fingerprint256: must be a string/,
    ],
    [{ ...good, certificates: [null] }, /manifest\.json: certificates\[0\]: must be an object, not null/],
    [{ ...good, keyPairs: [{ ...good.certificates[0] }] }, /manifest\.json: keyPairs\[0\]\.private: must be a string/],
    [
      { ...good, ca: { ...good.ca, fingerprint256: 7 } },
      /manifest\.json: ca\.fingerprint256: must be a string, not number 7/,
    ],
    [
      { ...good, certificates: [{ ...good.certificates[0], owner: { kind: 'x', name: 'db1' } }] },
      /manifest\.json: certificates\[0\]\.owner\.kind: must be "node" or "client"/,
    ],
    [
      { ...good, certificates: [{ ...good.certificates[0], key: '../../etc/shadow' }] },
      /manifest\.json: certificates\[0\]\.key: must be a path inside the PKI directory/,
    ],
  ];
  for (const [value, pattern] of cases) {
    await writeFile(path, JSON.stringify(value));
    const stderr = await refused(f, ['issue', '-i', f.inv], [pattern]);
    assert.doesNotMatch(stderr, /TypeError|Cannot read prop/);
    await refused(f, ['check', '-i', f.inv], [pattern]);
  }
});

test("validity: notAfter = notBefore + days exactly (OpenSSL's reading), for the CA and the leaves", async (t) => {
  const f = await fixture(t);
  const seconds = async (file: string) => {
    const out = await openssl(['x509', '-in', file, '-noout', '-startdate', '-enddate']);
    const [, from, to] = /notBefore=(.*)\nnotAfter=(.*)\n/.exec(out)!;
    return (Date.parse(to!) - Date.parse(from!)) / 1000;
  };
  assert.equal(await seconds(join(f.pki, 'ca.pem')), 3650 * 86_400);
  for (const leaf of ['nodes/db1/server-cert.pem', 'nodes/db2/client-cert.pem', 'clients/app/client-cert.pem']) {
    assert.equal(await seconds(join(f.pki, leaf)), 397 * 86_400, leaf);
  }
});

test('a leaf may not outlive its CA: issue refuses (exit 2) naming both dates; check flags a leaf that does', async (t) => {
  const dir = await tempDir(t);
  const path = await writeInventory(dir, {
    nodes: [{ name: 'db1', host: '10.0.0.11', roles: ['mariadb'] }],
    leafDays: 397,
  });
  const doc = parse(await readFile(path, 'utf8'));
  doc.ca.days = 30;
  await writeFile(path, stringify(doc));
  const r = await dbtls(['issue', '-i', path], { env: env() });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /inventory\.yml: leaf\.days: a leaf of 397 days issued now would end \d{4}-\d\d-\d\dT[\d:.]+Z, after the CA it is signed by \(valid until \d{4}-\d\d-\d\dT[\d:.]+Z\)/,
  );
  assert.match(r.stderr, /hint: lower leaf\.days to 30 or less/);
  assert.deepEqual(await tree(join(dir, 'pki')), new Map(), 'nothing written, not even the CA');

  // Within the CA: issued. Then OpenSSL signs db1 a 397-day certificate with the same CA: check says so.
  doc.leaf.days = 30;
  await writeFile(path, stringify(doc));
  assert.equal((await dbtls(['issue', '-i', path], { env: env() })).code, 0);
  const pki = join(dir, 'pki');
  const csr = await openssl(['req', '-new', '-key', 'nodes/db1/server-key.pem', '-subj', '/CN=db1'], pki);
  await writeFile(
    join(dir, 'ext.cnf'),
    'subjectAltName=DNS:db1,IP:10.0.0.11\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  await openssl(
    [
      'x509',
      '-req',
      '-days',
      '397',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-set_serial',
      '7',
      '-extfile',
      join(dir, 'ext.cnf'),
      '-out',
      'nodes/db1/server-cert.pem',
    ],
    pki,
    csr,
  );
  const c = await dbtls(['check', '-i', path, '--json'], { env: env() });
  assert.equal(c.code, 1, c.stdout + c.stderr);
  const item = JSON.parse(c.stdout).items.find((i: { id: string }) => i.id === 'nodes/db1/server');
  assert.match(item.problems.join('\n'), /outlives its CA: valid until .*, but the CA only until /);
  assert.ok(item.daysLeft <= 30, `days left counted to the CA's end, got ${item.daysLeft}`);
});

test('an IPv6 address with a zone is refused as a SAN with a clear error: inventory (sans and host) and setup --san', async (t) => {
  const dir = await tempDir(t);
  for (const node of [
    { name: 'db1', host: '10.0.0.11', sans: ['fe80::1%eth0'] },
    { name: 'db1', host: 'fe80::1%eth0' },
  ]) {
    const path = await writeInventory(dir, { nodes: [node] });
    const r = await dbtls(['issue', '-i', path], { env: env() });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /"fe80::1%eth0" is an IPv6 address with a zone \(%eth0\): .*cannot be in a certificate; give the address without it \(fe80::1\)/,
    );
    await assert.rejects(stat(join(dir, 'pki', 'ca.pem')));
  }
  const datadir = join(dir, 'datadir');
  await mkdir(datadir);
  const s = await dbtls(['setup', '-d', datadir, '--san', 'fe80::1%eth0'], { env: env() });
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, /--san "fe80::1%eth0": an IPv6 address with a zone \(%eth0\)/);
  assert.deepEqual(await readdir(datadir), []);
});

/** PBKDF2 iteration count of an encrypted PKCS#8 PEM, as `openssl asn1parse` shows it. */
async function iterations(file: string): Promise<{ iter: number; prf: string }> {
  const out = await openssl(['asn1parse', '-in', file]);
  assert.match(out, /:PBES2/);
  assert.match(out, /:PBKDF2/);
  const iter = /prim: INTEGER +:([0-9A-F]+)/.exec(out.slice(out.indexOf(':PBKDF2')))!;
  const prf = /OBJECT +:(hmacWith\w+)/.exec(out)?.[1] ?? 'hmacWithSHA1';
  return { iter: parseInt(iter[1]!, 16), prf };
}

test('the CA key is encrypted with PBKDF2-HMAC-SHA256 at 600,000 iterations; an old 2048-iteration key still opens', async (t) => {
  const pass = { DBTLS_CA_PASSPHRASE: 'correct horse battery staple' };
  const f = await fixture(t, pass);
  const keyPath = join(f.pki, 'ca-key.pem');
  assert.match(await readFile(keyPath, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  assert.deepEqual(await iterations(keyPath), { iter: 600_000, prf: 'hmacWithSHA256' });
  const r = await run('openssl', ['pkey', '-in', keyPath, '-passin', `pass:${pass.DBTLS_CA_PASSPHRASE}`, '-noout']);
  assert.equal(r.code, 0, 'OpenSSL opens it with the passphrase');

  // The same key as older dbtls (OpenSSL's default) wrote it: 2048 iterations.
  const old = await run('openssl', [
    'pkcs8',
    '-topk8',
    '-v2',
    'aes-256-cbc',
    '-v2prf',
    'hmacWithSHA256',
    '-iter',
    '2048',
    '-in',
    keyPath,
    '-passin',
    `pass:${pass.DBTLS_CA_PASSPHRASE}`,
    '-passout',
    `pass:${pass.DBTLS_CA_PASSPHRASE}`,
  ]);
  assert.equal(old.code, 0, old.stderr);
  await writeFile(keyPath, old.stdout, { mode: 0o600 });
  assert.equal((await iterations(keyPath)).iter, 2048);
  const signed = await dbtls(['issue', '-i', f.inv, '--force', '--node', 'db1'], { env: env(pass) });
  assert.equal(signed.code, 0, signed.stderr);
  await openssl(['verify', '-CAfile', 'ca.pem', 'nodes/db1/server-cert.pem'], f.pki);
  const wrong = await dbtls(['issue', '-i', f.inv, '--force', '--node', 'db1'], {
    env: env({ DBTLS_CA_PASSPHRASE: 'wrong' }),
  });
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /ca-key\.pem could not be decrypted: wrong passphrase/);
});

test("check reports the PKI directory's mode and flags one that others can write", async (t) => {
  const f = await fixture(t);
  const ok = await dbtls(['check', '-i', f.inv, '--json'], { env: env() });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout).pkiDir, { path: f.pki, mode: '0700', uid: process.getuid!(), ok: true });
  const plain = await dbtls(['check', '-i', f.inv], { env: env() });
  assert.match(plain.stdout, /note +.*pki: mode 0700, owner uid \d+\n/);

  const { chmod } = await import('node:fs/promises');
  await chmod(f.pki, 0o777);
  const bad = await dbtls(['check', '-i', f.inv, '--json'], { env: env() });
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  const report = JSON.parse(bad.stdout);
  assert.equal(report.pkiDir.mode, '0777');
  assert.equal(report.pkiDir.ok, false);
  assert.equal(report.items[0].status, 'invalid');
  assert.match(report.items[0].problems.join('\n'), /world-writable \(mode 0777.*\(fix: chmod go-w /);
});
