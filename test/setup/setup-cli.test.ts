// `dbtls setup` as a user runs it, checked by OpenSSL: the mysql_ssl_rsa_setup contract (REFERENCE §1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const SSL = ['ca.pem', 'ca-key.pem', 'server-cert.pem', 'server-key.pem', 'client-cert.pem', 'client-key.pem'];
const RSA = ['private_key.pem', 'public_key.pem'];
const ALL = [...SSL, ...RSA].sort();

async function snapshot(dir: string): Promise<Map<string, { bytes: string; mtimeMs: number; mode: number }>> {
  const out = new Map();
  for (const name of (await readdir(dir)).sort()) {
    const st = await stat(join(dir, name));
    out.set(name, { bytes: await readFile(join(dir, name), 'utf8'), mtimeMs: st.mtimeMs, mode: st.mode & 0o777 });
  }
  return out;
}

async function openssl(args: string[], cwd: string) {
  const r = await run('openssl', args, { cwd });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('the eight files, their modes, CNs, 3650 days, RSA 2048, v3 extensions, all verified by OpenSSL', async (t) => {
  const dir = await tempDir(t);
  const r = await dbtls(['setup', '--datadir', dir, '--suffix', 'T1', '--san', 'db1.example.com', '--san', '10.1.2.3']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'quiet without --verbose, like mysql_ssl_rsa_setup');
  const files = await snapshot(dir);
  assert.deepEqual([...files.keys()], ALL);
  for (const [name, f] of files)
    assert.equal(f.mode, name.endsWith('key.pem') && name !== 'public_key.pem' ? 0o600 : 0o644, name);

  assert.match(
    await openssl(['verify', '-CAfile', 'ca.pem', 'server-cert.pem', 'client-cert.pem'], dir),
    /server-cert.pem: OK\nclient-cert.pem: OK/,
  );
  const subjects = await Promise.all(
    ['ca.pem', 'server-cert.pem', 'client-cert.pem'].map((f) =>
      openssl(['x509', '-in', f, '-noout', '-subject', '-issuer'], dir),
    ),
  );
  assert.match(
    subjects[0]!,
    /subject=CN = MySQL_Server_T1_Auto_Generated_CA_Certificate\nissuer=CN = MySQL_Server_T1_Auto_Generated_CA_Certificate/,
  );
  assert.match(
    subjects[1]!,
    /subject=CN = MySQL_Server_T1_Auto_Generated_Server_Certificate\nissuer=CN = MySQL_Server_T1_Auto_Generated_CA_Certificate/,
  );
  assert.match(subjects[2]!, /subject=CN = MySQL_Server_T1_Auto_Generated_Client_Certificate/);

  const server = await openssl(['x509', '-in', 'server-cert.pem', '-noout', '-text'], dir);
  assert.match(server, /Public-Key: \(2048 bit\)/);
  assert.match(server, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(server, /CA:FALSE/);
  assert.match(server, /DNS:db1.example.com, IP Address:10.1.2.3/);
  const ca = await openssl(['x509', '-in', 'ca.pem', '-noout', '-text', '-dates'], dir);
  assert.match(ca, /CA:TRUE/);
  const notBefore = Date.parse(/notBefore=(.*)/.exec(ca)![1]!);
  const notAfter = Date.parse(/notAfter=(.*)/.exec(ca)![1]!);
  const days = (notAfter - notBefore) / 86_400_000;
  assert.equal(days, 3650, `validity ${days} days`); // notAfter = notBefore + days exactly (issue 12, finding 16)

  // public_key.pem is the public half of private_key.pem; each key matches its certificate.
  const derived = await openssl(['pkey', '-in', 'private_key.pem', '-pubout'], dir);
  assert.equal(derived, files.get('public_key.pem')!.bytes);
  for (const [cert, key] of [
    ['server-cert.pem', 'server-key.pem'],
    ['client-cert.pem', 'client-key.pem'],
    ['ca.pem', 'ca-key.pem'],
  ]) {
    assert.equal(
      await openssl(['x509', '-in', cert!, '-noout', '-pubkey'], dir),
      await openssl(['pkey', '-in', key!, '-pubout'], dir),
      cert,
    );
  }
  assert.match(files.get('server-key.pem')!.bytes, /^-----BEGIN PRIVATE KEY-----/);
});

test('a second run changes nothing: same bytes, same mtimes, exit 0', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await dbtls(['setup', '-d', dir])).code, 0);
  const before = await snapshot(dir);
  const again = await dbtls(['setup', '-d', dir, '--verbose']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /skipped the SSL files/);
  assert.deepEqual(await snapshot(dir), before);
});

test('the two skip rules are independent', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await dbtls(['setup', '-d', dir])).code, 0);
  const first = await snapshot(dir);

  // Only the RSA pair missing: only it is made again.
  await Promise.all(RSA.map((f) => unlink(join(dir, f))));
  assert.equal((await dbtls(['setup', '-d', dir])).code, 0);
  const second = await snapshot(dir);
  for (const f of SSL) assert.deepEqual(second.get(f), first.get(f), f);
  assert.notEqual(second.get('private_key.pem')!.bytes, first.get('private_key.pem')!.bytes);

  // One RSA file left is enough to skip the pair; one SSL trigger (server-key.pem) is enough to skip the set.
  await unlink(join(dir, 'public_key.pem'));
  for (const f of ['ca.pem', 'server-cert.pem', 'client-cert.pem']) await unlink(join(dir, f));
  const r = await dbtls(['setup', '-d', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.changed, false);
  assert.deepEqual(
    report.skipped.map((s: { set: string; existing: string[] }) => [s.set, s.existing]),
    [
      ['ssl', ['server-key.pem']],
      ['rsa', ['private_key.pem']],
    ],
  );
  assert.deepEqual((await readdir(dir)).sort(), ['ca-key.pem', 'client-key.pem', 'private_key.pem', 'server-key.pem']);
});

test('--json reports every file written, with certificate details and no key material', async (t) => {
  const dir = await tempDir(t);
  const r = await dbtls([
    'setup',
    '-d',
    dir,
    '--json',
    '--san',
    'localhost',
    '--days',
    '30',
    '--key-size',
    '3072',
    '--suffix',
    'J',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.changed, true);
  assert.deepEqual(report.sans, ['DNS:localhost']);
  assert.deepEqual(report.written.map((f: { path: string }) => f.path.slice(dir.length + 1)).sort(), ALL);
  const server = report.written.find((f: { path: string }) => f.path.endsWith('server-cert.pem'));
  assert.equal(server.certificate.subject, 'CN=MySQL_Server_J_Auto_Generated_Server_Certificate');
  assert.match(server.certificate.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.ok(Date.parse(server.certificate.notAfter) - Date.now() < 31 * 86_400_000);
  assert.doesNotMatch(r.stdout, /PRIVATE KEY|BEGIN/);
  const text = await openssl(['x509', '-in', 'server-cert.pem', '-noout', '-text'], dir);
  assert.match(text, /Public-Key: \(3072 bit\)/);
});

test('--key-format pkcs1 writes "BEGIN RSA PRIVATE KEY" keys that OpenSSL reads', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await dbtls(['setup', '-d', dir, '--key-format', 'pkcs1'])).code, 0);
  for (const f of ['ca-key.pem', 'server-key.pem', 'client-key.pem', 'private_key.pem']) {
    assert.match(await readFile(join(dir, f), 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/, f);
    await openssl(['rsa', '-in', f, '-check', '-noout'], dir);
  }
});

test('--key-type p256: EC CA, server and client certificates OpenSSL verifies; the RSA pair stays RSA 2048', async (t) => {
  const dir = await tempDir(t);
  const r = await dbtls(['setup', '-d', dir, '--key-type', 'p256', '--san', '127.0.0.1', '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /generating 3 ECDSA P-256 keys for the SSL files/);
  assert.match(r.stdout + r.stderr, /generating 1 RSA-2048 key for the RSA key pair/);
  for (const f of ['ca.pem', 'server-cert.pem', 'client-cert.pem']) {
    const text = await openssl(['x509', '-in', f, '-noout', '-text'], dir);
    assert.match(text, /NIST CURVE: P-256/, f);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/, f);
  }
  await openssl(['verify', '-CAfile', 'ca.pem', 'server-cert.pem', 'client-cert.pem'], dir);
  assert.match(await openssl(['pkey', '-in', 'private_key.pem', '-noout', '-text'], dir), /Private-Key: \(2048 bit/);
  assert.deepEqual((await readdir(dir)).sort(), ALL);
});

test('the longest suffix (17 characters) still fits the 64-character CN limit', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await dbtls(['setup', '-d', dir, '-s', 'A234567890123456z'])).code, 0);
  const server = await openssl(['x509', '-in', 'server-cert.pem', '-noout', '-subject'], dir);
  const cn = /CN = (\S+)/.exec(server)![1]!;
  assert.equal(cn, 'MySQL_Server_A234567890123456z_Auto_Generated_Server_Certificate');
  assert.equal(cn.length, 64);
});

test('bad input exits 2, names the problem, and writes nothing', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [['setup', '-d', join(dir, 'missing')], /data directory .*missing does not exist/],
    [['setup', '-d', dir, '--suffix', 'bad-suffix'], /--suffix "bad-suffix" must be 1 to 17 letters/],
    [['setup', '-d', dir, '--suffix', 'A2345678901234567x'], /--suffix/],
    [['setup', '-d', dir, '--san', 'not a host'], /--san "not a host": not a DNS name or IP address/],
    [['setup', '-d', dir, '--san', '300.1.1.1'], /--san "300.1.1.1"/],
    [['setup', '-d', dir, '--key-size', '1024'], /--key-size must be 2048, 3072 or 4096/],
    [['setup', '-d', dir, '--key-type', 'ed25519'], /--key-type must be one of rsa2048, rsa3072, rsa4096, p256, p384/],
    [
      ['setup', '-d', dir, '--key-type', 'rsa2048', '--key-size', '4096'],
      /--key-type rsa2048 contradicts --key-size 4096/,
    ],
    [['setup', '-d', dir, '--key-type', 'p384', '--key-format', 'pkcs1'], /--key-format pkcs1 holds RSA keys only/],
    [['setup', '-d', dir, '--days', 'ten'], /--days must be a whole number/],
    [['setup', '-d', dir, '--days', '0'], /--days must be a whole number from 1/],
    [['setup', '-d', dir, '--key-format', 'pem'], /Allowed choices are pkcs8, pkcs1/],
    [['setup', '-d', dir, '--frobnicate'], /unknown option '--frobnicate'/],
    [['setup', '--no-defaults'], /no --datadir given/],
  ];
  for (const [args, message] of cases) {
    // DBTLS_SERVER=none: never fall back to asking this machine's mariadbd for its datadir.
    const r = await dbtls(args, { env: { ...process.env, DBTLS_SERVER: 'none' } });
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.deepEqual(await readdir(dir), []);
});

test('an unwritable data directory exits 2 and writes nothing', async (t) => {
  const dir = await tempDir(t);
  await chmod(dir, 0o755); // nobody may look in, not write
  const r = await run('setpriv', [
    '--reuid=nobody',
    '--regid=nogroup',
    '--clear-groups',
    process.execPath,
    cliPath,
    'setup',
    '-d',
    dir,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /is not writable/);
  assert.deepEqual(await readdir(dir), []);
});

test("--uid gives every file to that user and the user's group (as root)", async (t) => {
  const dir = await tempDir(t);
  const r = await dbtls(['setup', '-d', dir, '--uid', 'nobody']);
  assert.equal(r.code, 0, r.stderr);
  const uid = Number((await run('id', ['-u', 'nobody'])).stdout);
  const gid = Number((await run('id', ['-g', 'nobody'])).stdout);
  for (const f of ALL) {
    const st = await stat(join(dir, f));
    assert.deepEqual([st.uid, st.gid], [uid, gid], f);
  }
  const bad = await dbtls(['setup', '-d', dir, '--uid', 'no-such-user-here']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no such user "no-such-user-here"/);
});

test('datadir from an option file ([mysqld] group), and --defaults-file reads only that file', async (t) => {
  const dir = await tempDir(t);
  const datadir = join(dir, 'data');
  await mkdir(datadir);
  const cnf = join(dir, 'my.cnf');
  await writeFile(cnf, `[client]\ndatadir=/wrong\n[mysqld]\ndatadir = ${datadir}\n`);
  const r = await dbtls(['setup', `--defaults-file=${cnf}`, '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`datadir ${datadir} \\(from ${cnf}:4\\)`));
  assert.deepEqual((await readdir(datadir)).sort(), ALL);
});

test('installed as mysql_ssl_rsa_setup, dbtls is a drop-in: same options, same files', async (t) => {
  const dir = await tempDir(t);
  const link = join(dir, 'mysql_ssl_rsa_setup');
  await symlink(cliPath, link);
  const datadir = join(dir, 'data');
  await mkdir(datadir);
  const r = await run(process.execPath, [link, `--datadir=${datadir}`, '--suffix=8_0_36', '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(datadir)).sort(), ALL);
  const help = await run(process.execPath, [link, '-?']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /EXAMPLES[\s\S]*EXIT CODES/);
  const version = await run(process.execPath, [link, '-V']);
  assert.match(version.stdout, /mysql_ssl_rsa_setup compatible/);
});

test('a run killed at any moment leaves only whole files, and the next run completes the set', async (t) => {
  const dir = await tempDir(t);
  const { spawn } = await import('node:child_process');
  // 4096-bit keys take long enough for the kill to land during key generation, certificate
  // building or the renames, depending on the delay.
  for (const delay of [5, 60, 200, 400, 700, 1000, 1500]) {
    const datadir = join(dir, `d${delay}`);
    await mkdir(datadir);
    const child = spawn(process.execPath, [cliPath, 'setup', '-d', datadir, '--key-size', '4096'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    // Whatever exists under a final name is whole; temporaries and the journal are never final names.
    for (const name of await readdir(datadir)) {
      if (name.startsWith('.')) continue;
      const text = await readFile(join(datadir, name), 'utf8');
      assert.match(text, /^-----BEGIN [A-Z ]+-----\n[\s\S]+\n-----END [A-Z ]+-----\n$/, `${delay} ms: ${name}`);
    }
    const next = await dbtls(['setup', '-d', datadir]);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual((await readdir(datadir)).sort(), ALL, `after a kill at ${delay} ms`);
    await openssl(['verify', '-CAfile', 'ca.pem', 'server-cert.pem', 'client-cert.pem'], datadir);
  }
});

test('without --datadir or an option file, the local server is asked for its datadir', async (t) => {
  const dir = await tempDir(t);
  // A stand-in server that prints what `mysqld --verbose --help` prints, pointing at a temp folder.
  const fake = join(dir, 'mysqld');
  const datadir = join(dir, 'data');
  await mkdir(datadir);
  await writeFile(
    fake,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo "mysqld  Ver 8.4.3 for Linux"; exit 0; fi\nprintf 'Variables\\n---\\ndatadir                         ${datadir}/\\n'\n`,
    { mode: 0o755 },
  );
  const r = await dbtls(['setup', '--no-defaults', '-v'], { env: { ...process.env, DBTLS_SERVER: fake } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /from the local server's default/);
  assert.deepEqual((await readdir(datadir)).sort(), ALL);
  // and the server's version is the default suffix
  const ca = await openssl(['x509', '-in', 'ca.pem', '-noout', '-subject'], datadir);
  assert.match(ca, /MySQL_Server_8\.4\.3_Auto_Generated_CA_Certificate/);
});
