// `dbtls rotate ca|leaf|status` on nodes of transport local (no servers: the reload is a command the
// inventory gives, which logs that it ran): the PKI directory's phases, what the nodes receive,
// resuming after a kill between phases, and what `rotate leaf` finds due. The live-cluster proof
// (real MariaDB over sshd, zero failed connections) is rotate-live.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { dbtls, run } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';

interface Bed {
  dir: string;
  inv: string;
  pki: string;
  root: string;
  reloads: string;
}

/** Two nodes whose reload command logs to DIR/reloads.log, and a client with a PKCS#12 store. */
const twoNodes = (dir: string, leafDays?: number): TestInventory => ({
  nodes: ['db1', 'db2'].map((name, i) => ({
    name,
    host: `10.9.0.${i + 1}`,
    roles: ['mariadb'],
    dest: '/etc/mysql/ssl',
    reload: `echo ${name} >> ${join(dir, 'reloads.log')}`,
  })),
  clients: [{ name: 'app', keystore: 'pkcs12' }],
  ...(leafDays ? { leafDays } : {}),
});

// The rotate ca tests start from their own copy of one issue; each applies it to its own nodes.
const issued = issuedPki(fileScope(), (dir) => twoNodes(dir));

async function bed(t: Parameters<typeof tempDir>[0], leafDays?: number): Promise<Bed> {
  let dir: string;
  let inv: string;
  if (leafDays === undefined) ({ dir, inv } = await issued(t));
  else {
    dir = await tempDir(t);
    inv = await writeInventory(dir, twoNodes(dir, leafDays));
  }
  const b = { dir, inv, pki: join(dir, 'pki'), root: join(dir, 'nodes'), reloads: join(dir, 'reloads.log') };
  const r = await dbtls(['apply', '-i', inv, '--local-root', b.root]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // apply reloaded the nodes whose files it delivered: one line each, then the log starts afresh.
  assert.deepEqual((await reloadLines(b)).sort(), ['db1', 'db2']);
  await rm(b.reloads);
  return b;
}

const certs = async (file: string) =>
  (await readFile(file, 'utf8'))
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!
    .map((p) => new X509Certificate(p));
const serial = async (file: string) => (await certs(file))[0]!.serialNumber;
const rotate = (b: Bed, args: string[]) =>
  dbtls(['rotate', ...args, '-i', b.inv, '--local-root', b.root], { timeoutMs: 120_000 });
const reloadLines = async (b: Bed) => (await readFile(b.reloads, 'utf8').catch(() => '')).split('\n').filter(Boolean);
const openssl = (args: string[]) => run('openssl', args);

test('rotate ca: three phases; the new CA takes the old name with a new key; every leaf re-issued under it; nodes end trusting it alone; the old CA archived', async (t) => {
  const b = await bed(t);
  const [oldCa] = await certs(join(b.pki, 'ca.pem'));
  const oldLeaf = await serial(join(b.pki, 'nodes/db1/server-cert.pem'));

  const r = await rotate(b, ['ca', '--yes', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.state, 'complete');
  assert.deepEqual(
    report.phases.map((p: { phase: number; ok: boolean }) => [p.phase, p.ok]),
    [
      [1, true],
      [2, true],
      [3, true],
    ],
  );
  // Phase 1 changes trust only, phase 2 re-issues every leaf, phase 3 changes trust only.
  assert.equal(report.phases[0].report.issue.issued.length, 0);
  assert.ok(report.phases[1].report.issue.issued.length >= 5, 'db1, db2 (server + client) and app re-issued');
  assert.equal(report.phases[2].report.issue.issued.length, 0);

  const now = await certs(join(b.pki, 'ca.pem'));
  assert.equal(now.length, 1, 'ca.pem trusts the new CA alone');
  const newCa = now[0]!;
  assert.notEqual(newCa.fingerprint256, oldCa!.fingerprint256);
  assert.equal(newCa.subject, oldCa!.subject, 'same name: REQUIRE ISSUER accounts keep matching');
  assert.notEqual(
    newCa.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
    oldCa!.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'),
  );

  const leaf = join(b.pki, 'nodes/db1/server-cert.pem');
  assert.notEqual(await serial(leaf), oldLeaf);
  const ok = await openssl([
    'verify',
    '-CAfile',
    join(b.pki, 'ca.pem'),
    leaf,
    join(b.pki, 'clients/app/client-cert.pem'),
  ]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const archive = join(b.pki, 'archive', `ca-${oldCa!.serialNumber.toLowerCase()}`);
  const archived = join(archive, 'ca.pem');
  const refused = await openssl(['verify', '-CAfile', archived, leaf]);
  assert.notEqual(refused.code, 0, 'the old CA no longer vouches for the leaves');
  assert.equal((await stat(join(archive, 'ca-key.pem'))).mode & 0o777, 0o600);
  assert.ok(JSON.parse(await readFile(join(archive, 'rotation.json'), 'utf8')).completedAt);
  await assert.rejects(stat(join(b.pki, 'rotation')), 'the working folder is gone');

  // What the nodes hold now: the new CA alone, the new leaves; each node reloaded once per phase.
  for (const n of ['db1', 'db2']) {
    const delivered = join(b.root, n, 'etc/mysql/ssl');
    assert.equal(await readFile(join(delivered, 'ca.pem'), 'utf8'), await readFile(join(b.pki, 'ca.pem'), 'utf8'));
    assert.equal(
      await readFile(join(delivered, 'server-cert.pem'), 'utf8'),
      await readFile(join(b.pki, `nodes/${n}/server-cert.pem`), 'utf8'),
    );
  }
  assert.deepEqual((await reloadLines(b)).sort(), ['db1', 'db1', 'db1', 'db2', 'db2', 'db2']);
  // The app's truststore trusts the new CA only.
  const manifest = JSON.parse(await readFile(join(b.pki, 'manifest.json'), 'utf8'));
  const trust = manifest.stores.find((s: { id: string }) => s.id.includes('app') && s.id.includes('trust'));
  assert.deepEqual(
    trust.entries.flatMap((e: { fingerprints: string[] }) => e.fingerprints),
    [newCa.fingerprint256],
  );

  const check = await dbtls(['check', '-i', b.inv]);
  assert.equal(check.code, 0, check.stdout);
  const status = await dbtls(['rotate', 'status', '-i', b.inv]);
  assert.match(status.stdout, /no CA rotation in progress/);
});

test('rotate ca --phase runs one phase at a time; a rotation killed between phases resumes and completes', async (t) => {
  const b = await bed(t);
  const [oldCa] = await certs(join(b.pki, 'ca.pem'));
  const oldLeaf = await serial(join(b.pki, 'nodes/db1/server-cert.pem'));

  const wrong = await rotate(b, ['ca', '--phase', '2', '--yes']);
  assert.equal(wrong.code, 2, 'no rotation under way: it starts with phase 1');
  const one = await rotate(b, ['ca', '--phase', '1', '--yes']);
  assert.equal(one.code, 0, one.stdout + one.stderr);
  const bundle = await certs(join(b.pki, 'ca.pem'));
  assert.equal(bundle.length, 2, 'phase 1: ca.pem trusts old + new');
  assert.equal(bundle[0]!.fingerprint256, oldCa!.fingerprint256, 'the old CA still signs');
  assert.equal(await serial(join(b.pki, 'nodes/db1/server-cert.pem')), oldLeaf, 'phase 1 re-issues nothing');
  assert.equal((await certs(join(b.root, 'db1/etc/mysql/ssl/ca.pem'))).length, 2, 'the nodes trust both');
  assert.match((await dbtls(['rotate', 'status', '-i', b.inv])).stdout, /phase 1 done[\s\S]*next: phase 2/);

  // Phase 2 and 3 in one run, killed as soon as phase 2 reports done.
  const child = spawn(process.execPath, [cliPath, 'rotate', 'ca', '-i', b.inv, '--local-root', b.root, '--yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const killed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, sig) => resolve(sig)));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (/phase 2: done/.test(out)) child.kill('SIGKILL');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const sig = await killed;
  clearTimeout(timer);
  assert.equal(sig, 'SIGKILL', `killed between phases (output: ${out})`);
  assert.doesNotMatch(out, /rotation complete/);
  const between = await certs(join(b.pki, 'ca.pem'));
  assert.equal(between.length, 2, 'still trusting both');
  assert.notEqual(between[0]!.fingerprint256, oldCa!.fingerprint256, 'the new CA signs');

  const resumed = await rotate(b, ['ca', '--yes']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, /rotation complete/);
  const end = await certs(join(b.pki, 'ca.pem'));
  assert.equal(end.length, 1);
  assert.equal(end[0]!.fingerprint256, between[0]!.fingerprint256, 'the same new CA: the resumed run made no other');
  const v = await openssl(['verify', '-CAfile', join(b.pki, 'ca.pem'), join(b.pki, 'nodes/db2/server-cert.pem')]);
  assert.equal(v.code, 0, v.stderr);

  // The audit trail: every phase done, in order; the killed run's phase 2 kept (it had finished; the
  // resumed run may redo its end, the state being saved just after, and records that too); no run
  // record of the killed run (it never ended).
  type Rec = { run: string; event: string; command: string; phase?: unknown; ok?: boolean };
  const recs = (await readFile(join(b.pki, 'audit.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec)
    .filter((r) => r.command === 'rotate ca');
  const done = recs.filter((r) => r.event === 'rotated' && r.ok === true);
  assert.deepEqual([...new Set(done.map((r) => r.phase))], [1, 2, 3, 'complete']);
  const runs = [...new Set(recs.map((r) => r.run))];
  assert.equal(runs.length, 3, 'phase 1, the killed run, the resumed one');
  const killedRun = runs[1]!;
  assert.ok(
    done.some((r) => r.run === killedRun && r.phase === 2),
    "the killed run's phase 2 is there",
  );
  assert.deepEqual(
    recs.filter((r) => r.event === 'run').map((r) => r.run),
    [runs[0], runs[2]],
    'a run record for each run that ended',
  );
});

test('rotate leaf: certificates issued for 1 day are due within 2d, not within 12h; --check changes nothing; a due run re-issues, pushes and reloads only those', async (t) => {
  const b = await bed(t, 1);
  // check --within sees the same thing.
  assert.equal((await dbtls(['check', '-i', b.inv, '--within', '12h'])).code, 0);
  const expiring = await dbtls(['check', '-i', b.inv, '--within', '2d']);
  assert.equal(expiring.code, 1);
  assert.match(expiring.stdout, /EXPIRING/);

  const manifestBefore = await readFile(join(b.pki, 'manifest.json'), 'utf8');
  const none = await rotate(b, ['leaf', '--within', '12h', '--yes', '--json']);
  assert.equal(none.code, 0, none.stderr);
  const noneReport = JSON.parse(none.stdout);
  assert.equal(noneReport.due.length, 0);
  assert.equal(noneReport.changed, false);
  assert.equal(await readFile(join(b.pki, 'manifest.json'), 'utf8'), manifestBefore, 'nothing due: nothing written');
  assert.deepEqual(await reloadLines(b), [], 'nothing due: nothing reloaded');

  const checkOnly = await rotate(b, ['leaf', '--within', '2d', '--check']);
  assert.equal(checkOnly.code, 0, checkOnly.stderr);
  assert.match(checkOnly.stdout, /due: nodes\/db1\/server/);
  assert.equal(await readFile(join(b.pki, 'manifest.json'), 'utf8'), manifestBefore, '--check writes nothing');

  const noYes = await rotate(b, ['leaf', '--within', '2d']);
  assert.equal(noYes.code, 2, 'no terminal and no --yes: refused');
  assert.match(noYes.stderr, /--yes/);

  const before = await serial(join(b.pki, 'nodes/db2/server-cert.pem'));
  const rotated = await rotate(b, ['leaf', '--within', '2d', '--node', 'db1', '--yes', '--json']);
  assert.equal(rotated.code, 0, rotated.stdout + rotated.stderr);
  const report = JSON.parse(rotated.stdout);
  assert.deepEqual(report.due.map((d: { id: string }) => d.id).sort(), ['nodes/db1/client', 'nodes/db1/server']);
  assert.deepEqual(report.nodes, ['db1']);
  assert.equal(await serial(join(b.pki, 'nodes/db2/server-cert.pem')), before, 'db2 was not asked for');
  assert.equal(
    await readFile(join(b.root, 'db1/etc/mysql/ssl/server-cert.pem'), 'utf8'),
    await readFile(join(b.pki, 'nodes/db1/server-cert.pem'), 'utf8'),
  );
  assert.deepEqual(await reloadLines(b), ['db1'], 'only db1 reloaded');
  assert.ok(
    (await readdir(join(b.root, 'db1/etc/mysql/ssl'))).some((n) => n.startsWith('server-cert.pem.dbtls-bak-')),
    'the old certificate kept as a backup',
  );
});

test("rotate leaf in plain mode shows the issue as it goes, before the push: the issued lines, then each node's reload and probe, then the count", async (t) => {
  const b = await bed(t, 1);
  const r = await rotate(b, ['leaf', '--within', '2d', '--yes']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const at = (re: RegExp) => {
    const i = lines.findIndex((l) => re.test(l));
    assert.ok(i >= 0, `no line matching ${re} in:\n${r.stdout}`);
    return i;
  };
  const lastDue = Math.max(...lines.map((l, i) => (l.startsWith('due: ') ? i : -1)));
  const plan = at(/^issuing 5, \d+ up to date$/);
  const issued = ['db1', 'db2'].map((n) => at(new RegExp(`^issued nodes/${n}/server \\(due: [^)]*\\): CN=${n} `)));
  const wrote = at(/^wrote \d+ files$/);
  const reloads = ['db1', 'db2'].map((n) => at(new RegExp(`^${n}: reload done: `)));
  const probes = ['db1', 'db2'].map((n) => at(new RegExp(`^${n}: live not-probed: transport: local`)));
  assert.ok(lastDue < plan, 'what is due, then the issue');
  for (const i of issued) assert.ok(plan < i && i < wrote, 'each certificate issued between the plan and the write');
  for (const i of reloads) assert.ok(wrote < i, 'every reload after the issue wrote its files');
  for (const [n, i] of probes.entries()) assert.ok(reloads[n]! < i, 'each node probed after its own reload');
  assert.equal(lines.at(-1), 'rotated 5 certificates on 2 nodes');
});
