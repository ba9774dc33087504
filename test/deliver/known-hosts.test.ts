// known_hosts handling checked against the real OpenSSH tools: keys made by ssh-keygen, files hashed
// by `ssh-keygen -H`, lookups compared with `ssh-keygen -F`, fingerprints with `ssh-keygen -l`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  appendKnownHost,
  fingerprintSha256,
  KnownHosts,
  loadKnownHosts,
  parseKnownHosts,
  type HostKeyResult,
  type SkippedLine,
} from '../../lib/deliver/ssh/known-hosts.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

interface HostKey {
  type: string;
  b64: string;
  blob: Buffer;
  pub: string;
  /** `type base64`, as it appears in a known_hosts line. */
  text: string;
}

async function keygen(args: string[], cwd?: string): Promise<string> {
  const r = await run('ssh-keygen', args, { cwd });
  assert.equal(r.code, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const keyDir = await tempDir({ after }, 'dbtls-known-hosts-keys-');

async function makeKey(name: string, type: 'ed25519' | 'rsa'): Promise<HostKey> {
  const file = join(keyDir, name);
  await keygen([
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-f',
    file,
    '-N',
    '',
    '-C',
    `${name}@test`,
  ]);
  const [keyType, b64] = (await readFile(`${file}.pub`, 'utf8')).trim().split(' ') as [string, string];
  return { type: keyType, b64, blob: Buffer.from(b64, 'base64'), pub: `${file}.pub`, text: `${keyType} ${b64}` };
}

const [ed, ed2, ed3, rsa, rsa2] = await Promise.all([
  makeKey('ed', 'ed25519'),
  makeKey('ed2', 'ed25519'),
  makeKey('ed3', 'ed25519'),
  makeKey('rsa', 'rsa'),
  makeKey('rsa2', 'rsa'),
]);

/** The SHA256 field of `ssh-keygen -lf`. */
async function keygenFingerprint(pub: string): Promise<string> {
  const out = await keygen(['-l', '-E', 'sha256', '-f', pub]);
  const fp = out.split(' ')[1]!;
  assert.match(fp, /^SHA256:/);
  return fp;
}

/** Line numbers `ssh-keygen -F name -f file` reports as matching. */
async function keygenFind(name: string, file: string): Promise<number[]> {
  const r = await run('ssh-keygen', ['-F', name, '-f', file]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return [...r.stdout.matchAll(/^# Host .* found: line (\d+)/gm)].map((m) => Number(m[1]));
}

/** `[host]:port` or `host` → [host, port]. */
function splitName(name: string): [string, number] {
  const m = /^\[(.+)\]:(\d+)$/.exec(name);
  return m ? [m[1]!, Number(m[2])] : [name, 22];
}

function linesOf(text: string): string[] {
  return text.split('\n');
}

// A file in which every line is valid (so `ssh-keygen -H` agrees to hash it).
const validFile = (): string =>
  [
    '# dbtls test hosts',
    `db1,db1.example.com,10.0.0.1 ${ed.text} db1 comment`,
    `[db2]:2222 ${ed.text}`,
    `*.prod.example,!bad.prod.example ${rsa.text}`,
    `db?.test ${rsa.text}`,
    `@revoked * ${ed2.text}`,
    `db3 ${ed2.text}`,
    `@cert-authority *.ca ${ed.text}`,
    `both ${rsa.text}`,
    `both ${ed.text}`,
    '',
  ].join('\n');

const NAMES = [
  'db1',
  'db1.example.com',
  '10.0.0.1',
  '[db1]:2222',
  '[db2]:2222',
  'db2',
  'x.prod.example',
  'bad.prod.example',
  'a.b.prod.example',
  'db4.test',
  'db44.test',
  'db3',
  'y.ca',
  'both',
  'nowhere',
];

test('fingerprintSha256 is what ssh-keygen -l prints, for ed25519 and RSA keys', async () => {
  for (const k of [ed, rsa]) assert.equal(fingerprintSha256(k.blob), await keygenFingerprint(k.pub));
});

test('plain entries: ports, wildcards, negation, @revoked and @cert-authority', () => {
  const kh = new KnownHosts(parseKnownHosts(validFile(), 'kh'));
  const check = (host: string, port: number, k: HostKey): HostKeyResult => kh.check(host, port, k.type, k.blob);
  assert.deepEqual(check('db1', 22, ed), { status: 'known' });
  assert.deepEqual(check('db1.example.com', 22, ed), { status: 'known' });
  assert.deepEqual(check('10.0.0.1', 22, ed), { status: 'known' });
  assert.deepEqual(check('DB1', 22, ed), { status: 'known' }, 'names compare case-insensitively');
  assert.deepEqual(
    check('db1', 2222, ed),
    { status: 'unknown', fingerprint: fingerprintSha256(ed.blob) },
    'port 2222 is [db1]:2222',
  );
  assert.deepEqual(check('db2', 2222, ed), { status: 'known' });
  assert.equal(check('db2', 22, ed).status, 'unknown');
  assert.deepEqual(check('x.prod.example', 22, rsa), { status: 'known' });
  assert.deepEqual(check('a.b.prod.example', 22, rsa), { status: 'known' });
  assert.equal(check('bad.prod.example', 22, rsa).status, 'unknown', 'a negated pattern wins');
  assert.deepEqual(check('db4.test', 22, rsa), { status: 'known' });
  assert.equal(check('db44.test', 22, rsa).status, 'unknown', '? is exactly one character');
  assert.equal(check('y.ca', 22, ed).status, 'unknown', '@cert-authority lines never match a plain key');
  // ed2 is listed for db3 and revoked for every host: refused.
  assert.deepEqual(check('db3', 22, ed2), { status: 'revoked', fingerprint: fingerprintSha256(ed2.blob) });
  assert.deepEqual(check('db1', 22, ed2), { status: 'revoked', fingerprint: fingerprintSha256(ed2.blob) });
  assert.deepEqual(check('anything.else', 22, ed2), { status: 'revoked', fingerprint: fingerprintSha256(ed2.blob) });
});

test('a changed key reports the offered and the expected fingerprints, with file and lines', async () => {
  const kh = new KnownHosts(parseKnownHosts(validFile(), 'kh'));
  const [fpEd, fpEd3, fpRsa, fpRsa2] = await Promise.all([ed, ed3, rsa, rsa2].map((k) => keygenFingerprint(k.pub)));
  assert.deepEqual(kh.check('db1', 22, ed3.type, ed3.blob), {
    status: 'changed',
    offered: fpEd3,
    expected: [fpEd],
    file: 'kh',
    lines: [2],
  });
  // Only a key of another type is known: still refused, and the known one is shown.
  assert.deepEqual(kh.check('db1', 22, rsa.type, rsa.blob), {
    status: 'changed',
    offered: fpRsa,
    expected: [fpEd],
    file: 'kh',
    lines: [2],
    newType: { offered: 'ssh-rsa', known: ['ssh-ed25519'] },
  });
  // Keys of both types known: the expected fingerprint is the one of the offered type.
  assert.deepEqual(kh.check('both', 22, 'rsa-sha2-512', rsa2.blob), {
    status: 'changed',
    offered: fpRsa2,
    expected: [fpRsa],
    file: 'kh',
    lines: [9],
  });
  assert.deepEqual(kh.check('both', 22, ed3.type, ed3.blob), {
    status: 'changed',
    offered: fpEd3,
    expected: [fpEd],
    file: 'kh',
    lines: [10],
  });
  assert.deepEqual(kh.check('both', 22, rsa.type, rsa.blob), { status: 'known' });
  assert.deepEqual(kh.check('both', 22, ed.type, ed.blob), { status: 'known' });
});

test('matching lines agree with ssh-keygen -F, plain and after ssh-keygen -H hashed the file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'known_hosts');
  await writeFile(file, validFile());
  const plain = new KnownHosts(parseKnownHosts(validFile(), file));
  for (const name of NAMES) {
    assert.deepEqual(
      plain.matching(...splitName(name)).map((e) => e.line),
      await keygenFind(name, file),
      name,
    );
  }

  await keygen(['-H', '-f', file]);
  const hashedText = await readFile(file, 'utf8');
  assert.ok(linesOf(hashedText).filter((l) => l.startsWith('|1|')).length >= 5, hashedText);
  assert.ok(!/^(db1|\[db2\]|db3)/m.test(hashedText), 'the names are hashed');
  const skipped: SkippedLine[] = [];
  const hashed = new KnownHosts(parseKnownHosts(hashedText, file, skipped));
  assert.deepEqual(skipped, []);
  assert.ok(hashed.entries.some((e) => e.hosts.kind === 'hashed'));
  for (const name of NAMES) {
    assert.deepEqual(
      hashed.matching(...splitName(name)).map((e) => e.line),
      await keygenFind(name, file),
      name,
    );
  }
  // The same decisions as on the plain file (line numbers aside).
  const status = (kh: KnownHosts, name: string, k: HostKey): string =>
    kh.check(...splitName(name), k.type, k.blob).status;
  for (const name of NAMES) {
    for (const k of [ed, ed2, ed3, rsa, rsa2])
      assert.equal(status(hashed, name, k), status(plain, name, k), `${name} ${k.pub}`);
  }
  assert.deepEqual(hashed.check('db2', 2222, ed.type, ed.blob), { status: 'known' });
  const changed = hashed.check('db1', 22, ed3.type, ed3.blob);
  assert.equal(changed.status, 'changed');
  assert.deepEqual(changed.status === 'changed' && changed.expected, [fingerprintSha256(ed.blob)]);
});

test('malformed lines are skipped with their line numbers; comments and blank lines are not', async (t) => {
  const text = [
    '# comment',
    '   ',
    `good ${ed.text}`,
    'garbage line',
    `@bogus host ${ed.text}`,
    `host ssh-ed25519 not*base64`,
    `host ssh-rsa ${ed.b64}`,
    `|1|c2FsdA==|aGFzaA== ${ed.text}`,
    'old 1024 35 12345678901234567890',
    `host ssh-ed25519`,
    `\t  indented ${rsa.text} trailing comment\r`,
  ].join('\n');
  const skipped: SkippedLine[] = [];
  const entries = parseKnownHosts(text, 'f', skipped);
  assert.deepEqual(
    entries.map((e) => [e.line, e.keyType, e.comment]),
    [
      [3, 'ssh-ed25519', ''],
      [11, 'ssh-rsa', 'trailing comment'],
    ],
  );
  assert.deepEqual(
    skipped.map((s) => s.line),
    [4, 5, 6, 7, 8, 9, 10],
  );
  assert.ok(skipped.every((s) => s.file === 'f' && s.reason.length > 0));
  // ssh-keygen's key parser rejects the same lines, except the bad host hash (line 8), which it does
  // not look at: ssh refuses that one when matching names.
  const dir = await tempDir(t);
  const file = join(dir, 'kh');
  await writeFile(file, text);
  const listed = await run('ssh-keygen', ['-l', '-v', '-f', file]);
  assert.equal(listed.code, 0, listed.stderr);
  const rejected = [...listed.stderr.matchAll(/:(\d+): not a public key/g)].map((m) => Number(m[1]));
  assert.deepEqual(
    [...rejected, 8].sort((a, b) => a - b),
    skipped.map((s) => s.line),
  );
  assert.deepEqual(await keygenFind('good', file), [3]);
  assert.deepEqual(await keygenFind('indented', file), [11]);
  // ssh-keygen -F matches names without parsing keys, so it lists lines 6 and 7, whose keys are
  // unusable; ssh itself (and dbtls) ignore them.
  assert.deepEqual(await keygenFind('host', file), [6, 7]);
  assert.deepEqual(new KnownHosts(entries).matching('host', 22), []);
});

test('appendKnownHost writes plain and hashed lines ssh-keygen -F finds, keeping earlier bytes and the mode', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'known_hosts');
  const before = `# no newline at the end\nold ${rsa.text}`;
  await writeFile(file, before);
  await chmod(file, 0o600);

  await appendKnownHost(file, 'db7', 22, ed.type, ed.blob);
  await appendKnownHost(file, 'db8', 2222, 'rsa-sha2-512', rsa.blob, { hash: true });
  await appendKnownHost(file, 'DB9', 22, ed3.type, ed3.blob, { hash: true });

  const after = await readFile(file, 'utf8');
  assert.ok(after.startsWith(before + '\n'), 'earlier lines kept byte for byte');
  const added = linesOf(after).slice(2);
  assert.equal(added[0], `db7 ${ed.text}`);
  assert.match(
    added[1]!,
    /^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-rsa /,
    'hashed, with the type inside the blob',
  );
  assert.ok(!after.includes('db8') && !after.includes('db9'));
  assert.equal(added[3], '');
  assert.equal((await stat(file)).mode & 0o777, 0o600);

  assert.deepEqual(await keygenFind('db7', file), [3]);
  assert.deepEqual(await keygenFind('[db8]:2222', file), [4]);
  assert.deepEqual(await keygenFind('db8', file), []);
  assert.deepEqual(await keygenFind('db9', file), [5]);

  const kh = await loadKnownHosts([file]);
  assert.deepEqual(kh.skipped, []);
  assert.deepEqual(kh.check('db7', 22, ed.type, ed.blob), { status: 'known' });
  assert.deepEqual(kh.check('db8', 2222, 'ssh-rsa', rsa.blob), { status: 'known' });
  assert.deepEqual(kh.check('db9', 22, ed3.type, ed3.blob), { status: 'known' });
  assert.equal(kh.check('db8', 22, 'ssh-rsa', rsa.blob).status, 'unknown');
});

test('appendKnownHost creates a missing file (0644) and folder (0700)', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ssh', 'known_hosts');
  const old = process.umask(0o022);
  try {
    await appendKnownHost(file, '127.0.0.1', 2201, ed.type, ed.blob);
  } finally {
    process.umask(old);
  }
  assert.equal(await readFile(file, 'utf8'), `[127.0.0.1]:2201 ${ed.text}\n`);
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  assert.equal((await stat(join(dir, 'ssh'))).mode & 0o777, 0o700);
  assert.deepEqual(await keygenFind('[127.0.0.1]:2201', file), [1]);
});

test('concurrent appends to one file lose no line', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'known_hosts');
  const hosts = Array.from({ length: 25 }, (_, i) => `node${i}`);
  await Promise.all(hosts.map((h, i) => appendKnownHost(file, h, 22, ed.type, ed.blob, { hash: i % 2 === 0 })));
  const kh = await loadKnownHosts([file]);
  assert.equal(kh.entries.length, hosts.length);
  for (const h of hosts) {
    assert.deepEqual(kh.check(h, 22, ed.type, ed.blob), { status: 'known' }, h);
    assert.equal((await keygenFind(h, file)).length, 1, h);
  }
});

test('appendKnownHost refuses host names that would change the meaning of the line, and malformed keys', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'known_hosts');
  for (const host of ['a b', 'a,b', '*', 'db?', '!db', '@revoked', '|1|x', 'a\nb', '']) {
    await assert.rejects(
      appendKnownHost(file, host, 22, ed.type, ed.blob),
      (e) => isDbtlsError(e) && e.code === 'known-hosts-bad-host',
      JSON.stringify(host),
    );
  }
  await assert.rejects(
    appendKnownHost(file, 'db1', 22, 'ssh-ed25519', Buffer.from('junk')),
    (e) => isDbtlsError(e) && e.code === 'known-hosts-bad-key',
  );
  await assert.rejects(stat(file), 'nothing was written');
});

test('loadKnownHosts reads several files, missing ones count as empty, and check consults them all', async (t) => {
  const dir = await tempDir(t);
  const user = join(dir, 'known_hosts');
  const global = join(dir, 'ssh_known_hosts');
  await writeFile(user, `db1 ${ed.text}\n`);
  await writeFile(global, `db2 ${rsa.text}\n@revoked db1 ${ed3.text}\nbroken\n`);
  const kh = await loadKnownHosts([join(dir, 'missing'), user, global]);
  assert.deepEqual(
    kh.skipped.map((s) => [s.file, s.line]),
    [[global, 3]],
  );
  assert.deepEqual(kh.check('db1', 22, ed.type, ed.blob), { status: 'known' });
  assert.deepEqual(kh.check('db2', 22, rsa.type, rsa.blob), { status: 'known' });
  assert.equal(
    kh.check('db1', 22, ed3.type, ed3.blob).status,
    'revoked',
    'revoked in one file, for a host known in another',
  );
  const changed = kh.check('db2', 22, rsa2.type, rsa2.blob);
  assert.deepEqual(changed, {
    status: 'changed',
    offered: fingerprintSha256(rsa2.blob),
    expected: [fingerprintSha256(rsa.blob)],
    file: global,
    lines: [1],
  });
  assert.deepEqual((await loadKnownHosts([join(dir, 'none')])).entries, []);
});
