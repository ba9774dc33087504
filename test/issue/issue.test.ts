// `dbtls issue` on real files, checked by OpenSSL: the PKI directory contract, idempotency,
// targeted re-issue, bring-your-own CA, an encrypted CA key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';

const THREE: TestInventory = {
  nodes: [
    { name: 'db1', host: '10.0.0.11', roles: ['mysql'], sans: ['db1.example.com'] },
    { name: 'db2', host: '10.0.0.12', roles: ['mariadb'] },
    { name: 'proxy1', host: 'proxy1.example.com', roles: ['proxysql'] },
  ],
  clients: ['app'],
};
// The first test issues from nothing; the tests of what a later run does start from their own copy
// of one plain issue of THREE.
const issued = issuedPki(fileScope(), THREE);

/** Every file under DIR: relative path → bytes, mtime and mode. */
async function tree(dir: string): Promise<Map<string, { bytes: string; mtimeMs: number; mode: number }>> {
  const out = new Map();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const st = await stat(p);
    out.set(relative(dir, p) + (entry.isDirectory() ? '/' : ''), {
      bytes: entry.isDirectory() ? '' : await readFile(p, 'utf8'),
      mtimeMs: st.mtimeMs,
      mode: st.mode & 0o777,
    });
  }
  return out;
}

async function issue(inventory: string, extra: string[] = [], env?: NodeJS.ProcessEnv) {
  const r = await dbtls(['issue', '-i', inventory, '--json', ...extra], { env: env ?? process.env });
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

async function openssl(args: string[], cwd: string): Promise<string> {
  const r = await run('openssl', args, { cwd });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

test("first run: one CA, each node's and client's files in the documented layout, modes, chains verified by OpenSSL", async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, THREE);
  const r = await issue(inv);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.ca.action, 'created');
  const pki = join(dir, 'pki');
  const files = await tree(pki);
  assert.deepEqual([...files.keys()].sort(), [
    'audit.log',
    'ca-key.pem',
    'ca.pem',
    'clients/',
    'clients/app/',
    'clients/app/client-cert.pem',
    'clients/app/client-key.pem',
    'manifest.json',
    'nodes/',
    'nodes/db1/',
    'nodes/db1/client-cert.pem',
    'nodes/db1/client-key.pem',
    'nodes/db1/private_key.pem',
    'nodes/db1/public_key.pem',
    'nodes/db1/server-cert.pem',
    'nodes/db1/server-key.pem',
    'nodes/db2/',
    'nodes/db2/client-cert.pem',
    'nodes/db2/client-key.pem',
    'nodes/db2/server-cert.pem',
    'nodes/db2/server-key.pem',
    'nodes/proxy1/',
    'nodes/proxy1/client-cert.pem',
    'nodes/proxy1/client-key.pem',
    'nodes/proxy1/server-cert.pem',
    'nodes/proxy1/server-key.pem',
  ]);
  assert.equal((await stat(pki)).mode & 0o777, 0o700);
  for (const [name, f] of files) {
    const want = name.endsWith('/')
      ? 0o700
      : (/key\.pem$/.test(name) && !name.endsWith('public_key.pem')) || name === 'audit.log'
        ? 0o600
        : 0o644;
    assert.equal(f.mode, want, name);
  }
  const leaves = [...files.keys()].filter((n) => n.endsWith('-cert.pem'));
  const verified = await openssl(['verify', '-CAfile', 'ca.pem', ...leaves], pki);
  assert.equal(verified.trim().split('\n').length, leaves.length);
  const server = await openssl(
    ['x509', '-in', 'nodes/db1/server-cert.pem', '-noout', '-subject', '-ext', 'subjectAltName,extendedKeyUsage'],
    pki,
  );
  assert.match(server, /subject=CN = db1/);
  assert.match(server, /DNS:db1, IP Address:10.0.0.11, DNS:db1.example.com/);
  assert.match(server, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.doesNotMatch(server, /localhost|127\.0\.0\.1/, 'localhost only when asked');
  const client = await openssl(
    ['x509', '-in', 'clients/app/client-cert.pem', '-noout', '-subject', '-ext', 'extendedKeyUsage'],
    pki,
  );
  assert.match(client, /subject=CN = app\n[\s\S]*TLS Web Client Authentication/);
  const ca = await openssl(['x509', '-in', 'ca.pem', '-noout', '-subject'], pki);
  assert.match(ca, /CN = Test Cluster CA/);

  const manifest = JSON.parse(files.get('manifest.json')!.bytes);
  assert.equal(manifest.cluster, 'test');
  assert.equal(manifest.certificates.length, 7);
  assert.deepEqual(
    manifest.keyPairs.map((k: { id: string }) => k.id),
    ['nodes/db1/rsa'],
  );
  const rec = manifest.certificates.find((c: { id: string }) => c.id === 'nodes/db1/server');
  const fp = await openssl(['x509', '-in', 'nodes/db1/server-cert.pem', '-noout', '-fingerprint', '-sha256'], pki);
  assert.equal(fp.trim().split('=')[1], rec.fingerprint256);
  assert.deepEqual(rec.sans, ['DNS:db1', 'IP:10.0.0.11', 'DNS:db1.example.com']);
  assert.equal(rec.cert, 'nodes/db1/server-cert.pem');
  assert.doesNotMatch(r.stdout + files.get('manifest.json')!.bytes, /PRIVATE KEY/);
});

test('a second run writes nothing: same bytes, same mtimes', async (t) => {
  const { dir, inv } = await issued(t);
  const before = await tree(join(dir, 'pki'));
  const again = await issue(inv);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.report.changed, false);
  assert.deepEqual(again.report.issued, []);
  assert.equal(again.report.unchanged.length, 8);
  assert.deepEqual(await tree(join(dir, 'pki')), before);
  const plain = await dbtls(['issue', '-i', inv]);
  assert.match(plain.stdout, /nothing to do/);
});

test("a new SAN re-issues that node's server certificate alone; a new node is issued alone", async (t) => {
  const { dir, inv } = await issued(t);
  const before = await tree(join(dir, 'pki'));

  const withSan = structuredClone(THREE);
  withSan.nodes[1]!.sans = ['db2.example.com'];
  await writeInventory(dir, withSan);
  const r = await issue(inv);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.report.issued.map((i: { id: string; reason: string }) => [i.id, i.reason]),
    [['nodes/db2/server', 'SANs changed +DNS:db2.example.com']],
  );
  const after = await tree(join(dir, 'pki'));
  const changed = [...after.keys()].filter((k) => after.get(k)!.bytes !== before.get(k)?.bytes);
  // audit.log: the run's records appended (test/audit).
  assert.deepEqual(changed.sort(), [
    'audit.log',
    'manifest.json',
    'nodes/db2/server-cert.pem',
    'nodes/db2/server-key.pem',
  ]);
  assert.match(
    await openssl(['x509', '-in', 'nodes/db2/server-cert.pem', '-noout', '-ext', 'subjectAltName'], join(dir, 'pki')),
    /DNS:db2.example.com/,
  );

  withSan.nodes.push({ name: 'db3', host: '10.0.0.13', roles: ['percona'] });
  await writeInventory(dir, withSan);
  const r2 = await issue(inv);
  assert.deepEqual(
    r2.report.issued.map((i: { id: string }) => i.id),
    ['nodes/db3/server', 'nodes/db3/client', 'nodes/db3/rsa'],
  );
  assert.ok(r2.report.issued.every((i: { reason: string }) => i.reason === 'new'));
});

test('--force re-issues every leaf and keeps the CA; --node limits the run to that node', async (t) => {
  const { dir, inv } = await issued(t);
  const pki = join(dir, 'pki');
  const ca = await readFile(join(pki, 'ca.pem'), 'utf8');
  const forced = await issue(inv, ['--force', '--node', 'db2']);
  assert.deepEqual(
    forced.report.issued.map((i: { id: string }) => i.id),
    ['nodes/db2/server', 'nodes/db2/client'],
  );
  const all = await issue(inv, ['--force']);
  assert.equal(all.report.issued.length, 8);
  assert.equal(await readFile(join(pki, 'ca.pem'), 'utf8'), ca);
  const unknown = await issue(inv, ['--node', 'db9']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no node named "db9"/);
});

test('a missing file is re-issued', async (t) => {
  const { dir, inv } = await issued(t);
  await unlink(join(dir, 'pki/nodes/proxy1/client-key.pem'));
  const r = await issue(inv);
  assert.deepEqual(
    r.report.issued.map((i: { id: string; reason: string }) => [i.id, i.reason]),
    [['nodes/proxy1/client', 'nodes/proxy1/client-key.pem is missing']],
  );
});

test('bring your own CA: imported once, leaves chain to it, another CA is refused', async (t) => {
  const dir = await tempDir(t);
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'corp-key.pem',
      '-out',
      'corp.pem',
      '-days',
      '30',
      '-subj',
      '/O=Corp/CN=Corp Root CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  // Leaves within the 30-day CA: a leaf may not outlive it (issue 12, finding 16).
  const inv = await writeInventory(dir, { ...THREE, leafDays: 20 });
  const r = await issue(inv, ['--ca-cert', join(dir, 'corp.pem'), '--ca-key', join(dir, 'corp-key.pem')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.ca.action, 'imported');
  const pki = join(dir, 'pki');
  await openssl(
    ['verify', '-CAfile', join(dir, 'corp.pem'), 'nodes/db1/server-cert.pem', 'clients/app/client-cert.pem'],
    pki,
  );
  assert.match(
    await openssl(['x509', '-in', 'nodes/db1/server-cert.pem', '-noout', '-issuer'], pki),
    /O = Corp, CN = Corp Root CA/,
  );
  const again = await issue(inv, ['--ca-cert', join(dir, 'corp.pem'), '--ca-key', join(dir, 'corp-key.pem')]);
  assert.equal(again.report.changed, false);
  const manifest = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8'));
  assert.equal(manifest.ca.imported, true);

  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'other-key.pem',
      '-out',
      'other.pem',
      '-days',
      '30',
      '-subj',
      '/CN=Other CA',
    ],
    dir,
  );
  const other = await issue(inv, ['--ca-cert', join(dir, 'other.pem'), '--ca-key', join(dir, 'other-key.pem')]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /already holds another CA/);

  // A certificate that is not a CA cannot be imported.
  const dir2 = await tempDir(t);
  const inv2 = await writeInventory(dir2, THREE);
  const notCa = await issue(inv2, [
    '--ca-cert',
    join(pki, 'nodes/db1/server-cert.pem'),
    '--ca-key',
    join(pki, 'nodes/db1/server-key.pem'),
  ]);
  assert.equal(notCa.code, 2);
  assert.match(notCa.stderr, /not a CA certificate/);
  assert.deepEqual(await readdir(join(dir2, 'pki')).catch(() => []), []);
});

test('an encrypted CA key: made with the passphrase, needed only to sign, a wrong one is a clear error', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, THREE);
  const env = { ...process.env, DBTLS_CA_PASSPHRASE: 'correct horse battery staple' };
  assert.equal((await issue(inv, [], env)).code, 0);
  const pki = join(dir, 'pki');
  const keyPem = await readFile(join(pki, 'ca-key.pem'), 'utf8');
  assert.match(keyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  await openssl(['pkey', '-in', 'ca-key.pem', '-passin', 'pass:correct horse battery staple', '-noout'], pki);

  // Nothing to sign: no passphrase needed.
  const noEnv = { ...process.env };
  delete noEnv.DBTLS_CA_PASSPHRASE;
  assert.equal((await issue(inv, [], noEnv)).code, 0);

  const grown = structuredClone(THREE);
  grown.nodes.push({ name: 'db4', host: '10.0.0.14' });
  await writeInventory(dir, grown);
  const before = await tree(pki);
  const missing = await issue(inv, [], noEnv);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /ca-key.pem is encrypted and no passphrase was given/);
  const wrong = await issue(inv, [], { ...process.env, DBTLS_CA_PASSPHRASE: 'hunter2-not-it' });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /could not be decrypted: wrong passphrase/);
  assert.doesNotMatch(wrong.stderr + wrong.stdout, /correct horse|hunter2/, 'passphrases never appear in output');
  assert.deepEqual(await tree(pki), before, 'nothing written by the failed runs');

  const file = join(dir, 'pass.txt');
  await (await import('node:fs/promises')).writeFile(file, 'correct horse battery staple\n', { mode: 0o600 });
  const ok = await issue(inv, ['--ca-passphrase-file', file], noEnv);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(
    ok.report.issued.map((i: { id: string }) => i.id),
    ['nodes/db4/server', 'nodes/db4/client'],
  );
});

test('a run killed at any moment: the next run finishes or redoes it, and every pair matches again', async (t) => {
  const { dir, inv } = await issued(t);
  const { spawn } = await import('node:child_process');
  const { cliPath } = await import('../helpers/paths.js');
  for (const delay of [30, 150, 300, 450, 600, 800]) {
    const child = spawn(process.execPath, [cliPath, 'issue', '-i', inv, '--force'], { stdio: 'ignore' });
    // Listen before waiting: a run that ends before the kill has already closed (seen on Node 22).
    const closed = new Promise((r) => child.on('close', r));
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await closed;
    const next = await issue(inv);
    assert.equal(next.code, 0, `after a kill at ${delay} ms: ${next.stderr}`);
    const checked = await dbtls(['check', '-i', inv]);
    assert.equal(checked.code, 0, `after a kill at ${delay} ms: ${checked.stdout}${checked.stderr}`);
    const leftovers = [...(await tree(join(dir, 'pki'))).keys()].filter((k) => /(^|\/)\./.test(k));
    assert.deepEqual(leftovers, [], 'no temporaries, journal or lock left');
  }
});
