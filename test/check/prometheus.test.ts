// `check --prometheus FILE`: node_exporter textfile metrics of what check found, accepted by the
// real `promtool check metrics`, written atomically, with the values a PKI whose leaves were issued
// for one day must show (expiring, check failing) and those of a healthy one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';
import { which, SBIN_DIRS } from '../helpers/which.js';
import { labelValue } from '../../lib/check/prometheus.js';

async function promtool(): Promise<string> {
  const path = await which('promtool', SBIN_DIRS);
  if (!path) throw new Error('promtool not found: run scripts/install-system-deps.sh (Debian package prometheus)');
  return path;
}

/** The samples of FILE as name{labels} → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n'))
    if (line && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ');
      out.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  return out;
}

test('check --prometheus: promtool accepts the file; one-day leaves show as expiring and the check as failed; a healthy PKI as passing', async (t) => {
  const tool = await promtool();
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes: [{ name: 'db1', host: '10.0.0.1' }], leafDays: 1, crlDays: 7 });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const out = join(dir, 'textfile');
  const file = join(out, 'dbtls.prom');
  await run('mkdir', ['-p', out]);
  const r = await dbtls(['check', '-i', inv, '--prometheus', file]);
  assert.equal(r.code, 1, 'one-day leaves expire within the 30-day window');
  const text = await readFile(file, 'utf8');
  const lint = await run('sh', ['-c', `${tool} check metrics < ${file}`]);
  assert.equal(lint.code, 0, lint.stdout + lint.stderr);
  assert.equal(lint.stdout + lint.stderr, '', 'no lint warnings');
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  assert.deepEqual(await readdir(out), ['dbtls.prom'], 'no temporary left beside it');

  const s = samples(text);
  const manifest = JSON.parse(await readFile(join(dir, 'pki/manifest.json'), 'utf8'));
  const server = manifest.certificates.find((c: { id: string }) => c.id === 'nodes/db1/server');
  const who = 'cluster="test",id="nodes/db1/server",owner_kind="node",owner="db1"';
  assert.equal(s.get(`dbtls_check_success{cluster="test"}`), 0);
  assert.equal(s.get(`dbtls_check_item_ok{${who},status="expiring"}`), 0);
  const left = s.get(`dbtls_certificate_expires_in_seconds{${who}}`)!;
  assert.ok(left > 0 && left <= 86_400 + 300, `about a day left: ${left}`);
  assert.equal(s.get(`dbtls_certificate_not_after_seconds{${who}}`), Date.parse(server.notAfter) / 1000);
  assert.equal(
    s.get(
      `dbtls_certificate_info{${who},serial="${server.serial}",fingerprint_sha256="${server.fingerprint256}",subject="CN=db1"}`,
    ),
    1,
  );
  assert.ok(s.get('dbtls_crl_next_update_seconds{cluster="test"}')! > Date.now() / 1000, 'the CRL is fresh');
  const ran = s.get('dbtls_check_timestamp_seconds{cluster="test"}')!;
  assert.ok(Math.abs(ran - Date.now() / 1000) < 120);

  const healthy = await tempDir(t);
  const ok = await writeInventory(healthy, { nodes: [{ name: 'db1', host: '10.0.0.1' }] });
  assert.equal((await dbtls(['issue', '-i', ok])).code, 0);
  const good = join(healthy, 'ok.prom');
  assert.equal((await dbtls(['check', '-i', ok, '--prometheus', good])).code, 0);
  const g = samples(await readFile(good, 'utf8'));
  assert.equal(g.get('dbtls_check_success{cluster="test"}'), 1);
  assert.equal(g.get(`dbtls_check_item_ok{${who},status="ok"}`), 1);
});

test('label values are escaped as the exposition format wants: backslash, double quote, line feed', () => {
  assert.equal(labelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(labelValue('CN=db1, O=Acme'), 'CN=db1, O=Acme');
});
