// The audit log's writer and reader on their own: created 0600, one line a record, a torn last line
// left alone (the next record starts on a line of its own) and reported by the reader, a foreign
// line an input error naming its line, and links, other modes and non-files refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditLog, readAuditLog, type AuditRecord } from '../../lib/audit/audit-log.js';
import { filterRecords, servedAt } from '../../lib/audit/query.js';
import { isDbtlsError } from '../../lib/errors.js';
import { tempDir } from '../helpers/tmp.js';

const ctx = { run: 'r1', user: 'u', host: 'h', command: 'test' };
const rec = (event: AuditRecord['event'], fields: Record<string, unknown> = {}, time = new Date()): AuditRecord => ({
  v: 1,
  time: time.toISOString(),
  ...ctx,
  event,
  ...fields,
});

test('a new log is 0600 whatever the umask, one line per record, read back in order', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'audit.log');
  const old = process.umask(0o077 | 0o100);
  try {
    const log = AuditLog.open(path);
    log.append(rec('issued', { id: 'a' }));
    log.append(rec('issued', { id: 'b' }));
    log.close();
  } finally {
    process.umask(old);
  }
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const text = await readFile(path, 'utf8');
  assert.equal(text.split('\n').length, 3);
  const got = await readAuditLog(path);
  assert.deepEqual(
    got.records.map((r) => r.id),
    ['a', 'b'],
  );
  assert.deepEqual(got.torn, []);
});

test('after a torn last line the next record starts on a new line; the reader skips and reports the torn one', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'audit.log');
  const first = AuditLog.open(path);
  first.append(rec('issued', { id: 'whole' }));
  first.close();
  // A run killed mid-write: half a record, no newline.
  const half = JSON.stringify(rec('issued', { id: 'torn' })).slice(0, 40);
  await appendFile(path, half);
  const torn = await readAuditLog(path);
  assert.deepEqual(
    torn.records.map((r) => r.id),
    ['whole'],
  );
  assert.deepEqual(torn.torn, [{ line: 2, bytes: 40 }]);

  const next = AuditLog.open(path);
  next.append(rec('issued', { id: 'after' }));
  next.close();
  const lines = (await readFile(path, 'utf8')).split('\n');
  assert.equal(lines[1], half, 'the torn line is left as it was, alone on its line');
  const after = await readAuditLog(path);
  assert.deepEqual(
    after.records.map((r) => r.id),
    ['whole', 'after'],
  );
  assert.deepEqual(after.torn, [{ line: 2, bytes: 40 }]);
});

test('a line that is no record at all is an input error naming the file and line', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'audit.log');
  await writeFile(path, JSON.stringify(rec('run')) + '\nhello there\n', { mode: 0o600 });
  await assert.rejects(readAuditLog(path), (e: unknown) => {
    assert.ok(isDbtlsError(e));
    assert.equal(e.code, 'audit-log-corrupt');
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /audit\.log:2:/);
    return true;
  });
});

test('a symlink, a file not 0600 and a folder are refused; nothing is written through them', async (t) => {
  const dir = await tempDir(t);
  const target = join(dir, 'target');
  await writeFile(target, 'untouched', { mode: 0o600 });
  const link = join(dir, 'audit.log');
  await symlink(target, link);
  const refused = (e: unknown) => isDbtlsError(e) && e.code === 'audit-log-refused' && e.exitCode === 2;
  assert.throws(() => AuditLog.open(link), refused);
  assert.equal(await readFile(target, 'utf8'), 'untouched');
  // A dangling link too: O_CREAT never creates its target.
  const dangling = join(dir, 'dangling.log');
  await symlink(join(dir, 'nowhere'), dangling);
  assert.throws(() => AuditLog.open(dangling), refused);
  await assert.rejects(stat(join(dir, 'nowhere')));

  const wide = join(dir, 'wide.log');
  await writeFile(wide, '');
  await chmod(wide, 0o644);
  assert.throws(
    () => AuditLog.open(wide),
    (e: unknown) => refused(e) && /0644/.test((e as Error).message),
  );
  assert.equal((await readFile(wide)).length, 0);
  const folder = join(dir, 'folder.log');
  await mkdir(folder);
  assert.throws(() => AuditLog.open(folder), refused);
});

test('servedAt: pushed then reloaded is served; a rolled-back push gives the previous one back', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 10, 1, 0, m));
  const push = (serial: string, m: number, run: string) =>
    rec(
      'pushed',
      { node: 'db3', run, certificates: [{ of: 'server', serial, fingerprint256: serial.toUpperCase() }] },
      t(m),
    );
  const reload = (m: number, run: string) => rec('reloaded', { node: 'db3', run, ok: true, status: 'done' }, t(m));
  const records = [
    push('aa', 0, 'r1'),
    reload(1, 'r1'),
    push('bb', 10, 'r2'), // pushed, not reloaded: installed, not served
    push('cc', 20, 'r3'),
    reload(21, 'r3'),
    rec('rolled-back', { node: 'db3', ok: true, files: [] }, t(22)),
    reload(23, 'r3'),
  ];
  assert.equal(servedAt(records, 'db3', t(5)).serving?.serial, 'aa');
  const mid = servedAt(records, 'db3', t(15));
  assert.equal(mid.serving?.serial, 'aa');
  assert.equal(mid.installed?.serial, 'bb');
  assert.equal(servedAt(records, 'db3', t(21)).serving?.serial, 'cc');
  assert.equal(servedAt(records, 'db3', t(30)).serving?.serial, 'bb', 'the rollback put bb back, reloaded');
  assert.deepEqual(servedAt(records, 'db4', t(30)), { node: 'db4', at: t(30).toISOString() });
  assert.equal(filterRecords(records, { serial: 'C:C' }).length, 1);
  assert.equal(filterRecords(records, { since: t(20), node: 'db3' }).length, 4);
});
