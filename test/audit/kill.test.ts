// A real `dbtls issue` of 200 nodes killed with SIGKILL while it appends its records: the log holds
// only whole lines (and at most one torn last line), every `issued` record names a certificate file
// that exists with that serial, `dbtls log` skips and reports a torn line, and the next run appends
// cleanly after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';

const NODES = 200;

/** Starts `dbtls issue`, and kills it -9 once its log has at least `lines` lines; its exit. */
function issueKilledAt(
  inv: string,
  log: string,
  lines: number,
): Promise<{ signal: string | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, 'issue', '-i', inv], { stdio: 'ignore' });
    const poll = setInterval(() => {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        return; // not there yet
      }
      if (text.split('\n').length > lines) {
        child.kill('SIGKILL');
        clearInterval(poll);
      }
    }, 1);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    });
  });
}

test('kill -9 mid-append: whole lines, true records, a torn line skipped and reported, the next run appends cleanly', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, {
    nodes: Array.from({ length: NODES }, (_, i) => ({ name: `db${i + 1}`, host: `10.8.${i >> 8}.${i & 255}` })),
    leafKeyType: 'p256',
  });
  const pki = join(dir, 'pki');
  const log = join(pki, 'audit.log');
  const killed = await issueKilledAt(inv, log, 20);
  assert.equal(killed.signal, 'SIGKILL', 'the run was killed before it finished appending');

  const text = await readFile(log, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop()!; // "" when the file ends with a newline, else the torn tail
  const records = lines.map((l, i) => {
    try {
      return JSON.parse(l) as { event: string; run: string; id?: string; serial?: string; files?: string[] };
    } catch {
      assert.fail(`line ${i + 1} is not whole: only the last line may be torn`);
    }
  });
  assert.ok(records.length >= 20);
  if (last !== '') assert.throws(() => JSON.parse(last), 'a last line without its newline is a torn record');
  const run = records[0]!.run;
  assert.ok(!records.some((r) => r.event === 'run'), 'the killed run wrote no run record');
  const issued = records.filter((r) => r.event === 'issued');
  assert.ok(issued.length > 0);
  assert.equal(new Set(issued.map((r) => r.id)).size, issued.length, 'each certificate once');
  for (const r of issued) {
    const cert = new X509Certificate(await readFile(join(pki, r.files![0]!)));
    assert.equal(cert.serialNumber.toLowerCase(), r.serial, `${r.id}: the file has the recorded serial`);
  }

  // The kill (one write(2) a record) seldom tears a line; a crash of the machine can: made here.
  if (last === '') await appendFile(log, '{"v":1,"time":"2026-');
  const read = await dbtls(['log', '--pki', pki, '--json']);
  assert.equal(read.code, 0, read.stderr);
  const report = JSON.parse(read.stdout);
  assert.equal(report.torn.length, 1);
  assert.equal(report.torn[0].line, records.length + 1);
  assert.equal(report.records.length, records.length);
  const plain = await dbtls(['log', '--pki', pki]);
  assert.equal(plain.code, 0);
  assert.match(plain.stderr, new RegExp(`audit\\.log:${records.length + 1}: a torn record`));

  // The next run (one node re-issued: a run that changes nothing adds no line) appends after the torn line.
  const next = await dbtls(['issue', '-i', inv, '--force', '--node', 'db1'], { timeoutMs: 120_000 });
  assert.equal(next.code, 0, next.stderr);
  const after = await readFile(log, 'utf8');
  assert.ok(after.startsWith(text) && after.endsWith('\n'), 'nothing before was rewritten');
  const again = JSON.parse((await dbtls(['log', '--pki', pki, '--json'])).stdout);
  assert.equal(again.torn.length, 1, 'the torn line stays alone, skipped');
  const nextRecords = (again.records as Array<{ run: string; event: string; id?: string }>).filter(
    (r) => r.run !== run,
  );
  assert.deepEqual(
    nextRecords.map((r) => r.id ?? r.event),
    ['nodes/db1/server', 'nodes/db1/client', 'run'],
  );
});
