// `dbtls export ansible`: the folder it writes (atomically, keys 0600, refusing to overwrite what is
// not an earlier export), and Debian's real ansible-playbook running the exported playbook against
// real sshd nodes on 127.0.0.1: the same files as `dbtls push` (bytes, modes, owner), idempotent
// (changed=0), a file changed on a node put back with Ansible's backup, the node's reload run only
// when something changed, openssl's validation on the node refusing a broken certificate, and a
// node behind a bastion reached through the ProxyCommand the export wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { createNetns } from '../helpers/netns.js';
import { sharedClientKey, startSshd, startSshdFleet } from '../helpers/sshd.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';
import { findAnsiblePlaybook, sealedAnsible } from '../helpers/ansible.js';

const scope = fileScope();
// Root's .bashrc costs ~120 ms per remote shell here; Ansible runs many (see bench/push.mjs).
const SSHD = { extraConfig: ['SetEnv SHLVL=1'] };
const fleet = once(() => startSshdFleet(scope, 2, SSHD));
const T = { timeout: 180_000 };

interface Snapshot {
  [file: string]: { data: string; mode: number; uid: number; gid: number };
}

/** Every regular file under DIR except backups (dbtls's and Ansible's), by relative path. */
async function snapshot(dir: string): Promise<Snapshot> {
  const out: Snapshot = {};
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (!/\.dbtls-bak-|~$/.test(e.name)) {
        const st = await stat(join(dir, r));
        out[r] = { data: await readFile(join(dir, r), 'latin1'), mode: st.mode & 0o777, uid: st.uid, gid: st.gid };
      }
    }
  };
  await walk('');
  return out;
}

/** Reads Ansible's !unsafe strings as the strings they are (and fails on any other unknown tag). */
const UNSAFE = { customTags: [{ tag: '!unsafe', resolve: (s: string) => s }] };

const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

test('the export folder: files as push delivers them, keys 0600, idempotent, --check writes nothing, never overwrites a foreign folder', async (t) => {
  const dir = await tempDir(t);
  const nodes: TestNode[] = [
    {
      name: 'db1',
      host: '127.0.0.1',
      roles: ['mysql'],
      dest: '/srv/db1/ssl',
      transport: 'ssh',
      ssh: { port: 2201, user: 'root', identityFile: join(dir, 'id'), knownHostsFile: join(dir, 'kh') },
      reload: 'systemctl reload mysql',
    },
    {
      name: 'db2',
      host: 'db2.example.com',
      roles: ['mariadb'],
      transport: 'ssh',
      owner: 'mysql',
      group: 'mysql',
      become: 'sudo',
    },
  ];
  const inv = await writeInventory(dir, { nodes });
  const out = join(dir, 'ansible-tls');

  const before = await dbtls(['export', 'ansible', '-i', inv, '--out', out]);
  assert.equal(before.code, 2, before.stderr);
  assert.match(before.stderr, /missing for node db1/);
  assert.match(before.stderr, /dbtls issue/);
  await assert.rejects(stat(out), 'nothing written');

  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  assert.equal((await dbtls(['render', '-i', inv])).code, 0);
  const check = await dbtls(['export', 'ansible', '-i', inv, '--out', out, '--check', '--json']);
  assert.equal(check.code, 0, check.stderr);
  assert.equal(JSON.parse(check.stdout).changed, true);
  await assert.rejects(stat(out), '--check writes nothing');

  const first = await dbtls(['export', 'ansible', '-i', inv, '--out', out, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout);
  assert.equal(report.changed, true);
  assert.equal(report.out, out);
  assert.deepEqual(report.files.filter((f: string) => f.startsWith('files/db1/')).sort(), [
    'files/db1/srv/db1/ssl/ca.pem',
    'files/db1/srv/db1/ssl/client-cert.pem',
    'files/db1/srv/db1/ssl/client-key.pem',
    'files/db1/srv/db1/ssl/dbtls/client.cnf',
    'files/db1/srv/db1/ssl/dbtls/my.cnf',
    'files/db1/srv/db1/ssl/dbtls/users.sql',
    'files/db1/srv/db1/ssl/private_key.pem',
    'files/db1/srv/db1/ssl/public_key.pem',
    'files/db1/srv/db1/ssl/server-cert.pem',
    'files/db1/srv/db1/ssl/server-key.pem',
  ]);
  assert.ok(
    report.files.includes('playbook.yml') &&
      report.files.includes('hosts.yml') &&
      report.files.includes('dbtls-nodes.yml'),
  );
  assert.equal((await stat(out)).mode & 0o777, 0o700);
  assert.equal((await stat(join(out, 'files/db1/srv/db1/ssl/server-key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(out, 'files/db2/etc/mysql/ssl/client-key.pem'))).mode & 0o777, 0o600);
  assert.equal(
    await readFile(join(out, 'files/db2/etc/mysql/ssl/server-cert.pem'), 'utf8'),
    await readFile(join(dir, 'pki/nodes/db2/server-cert.pem'), 'utf8'),
  );

  // What the playbook reads: each file with its mode, owner/group, validator; the reloads.
  const vars = parse(await readFile(join(out, 'dbtls-nodes.yml'), 'utf8'), UNSAFE);
  const db1 = vars.dbtls_nodes.db1;
  const key = db1.files.find((f: { dest: string }) => f.dest === '/srv/db1/ssl/server-key.pem');
  assert.deepEqual(key, {
    src: 'files/db1/srv/db1/ssl/server-key.pem',
    dest: '/srv/db1/ssl/server-key.pem',
    mode: '0600',
    validate: 'openssl pkey -noout -in %s',
  });
  assert.equal(
    db1.files.find((f: { dest: string }) => f.dest.endsWith('/ca.pem')).validate,
    'openssl x509 -noout -in %s',
  );
  assert.equal(
    db1.files.find((f: { dest: string }) => f.dest.endsWith('/public_key.pem')).validate,
    'openssl pkey -pubin -noout -in %s',
  );
  assert.equal(db1.files.find((f: { dest: string }) => f.dest.endsWith('/my.cnf')).validate, undefined);
  assert.deepEqual(db1.reload, [
    { kind: 'command', command: "sh -c 'systemctl reload mysql'", describe: 'systemctl reload mysql' },
  ]);
  const db2 = vars.dbtls_nodes.db2;
  assert.ok(db2.files.every((f: { owner: string; group: string }) => f.owner === 'mysql' && f.group === 'mysql'));
  assert.equal(db2.reload[0].describe, 'FLUSH SSL', "the role default, without dbtls's own sudo wrapper");
  assert.doesNotMatch(db2.reload[0].command, /sudo/);
  const hosts = parse(await readFile(join(out, 'hosts.yml'), 'utf8'), UNSAFE).all.children.dbtls_test.hosts;
  assert.deepEqual(hosts.db1, {
    ansible_host: '127.0.0.1',
    ansible_port: 2201,
    ansible_user: 'root',
    ansible_ssh_private_key_file: join(dir, 'id'),
    ansible_ssh_common_args: `-o UserKnownHostsFile=${join(dir, 'kh')}`,
  });
  assert.deepEqual(hosts.db2, {
    ansible_host: 'db2.example.com',
    ansible_port: 22,
    ansible_user: 'root',
    ansible_become: true,
    ansible_become_method: 'sudo',
  });

  const again = await dbtls(['export', 'ansible', '-i', inv, '--out', out, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).changed, false, 'the same export again changes nothing');

  // A different export (a new SAN re-issues db1) is refused without --force, then replaced with it.
  nodes[0]!.sans = ['db1.example.com'];
  await writeInventory(dir, { nodes });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const refused = await dbtls(['export', 'ansible', '-i', inv, '--out', out]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--force/);
  const forced = await dbtls(['export', 'ansible', '-i', inv, '--out', out, '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).changed, true);
  assert.equal(
    await readFile(join(out, 'files/db1/srv/db1/ssl/server-cert.pem'), 'utf8'),
    await readFile(join(dir, 'pki/nodes/db1/server-cert.pem'), 'utf8'),
  );
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.includes('dbtls-tmp')),
    [],
    'no temporary folder left',
  );

  // A folder that is not an export is never replaced, not even with --force.
  const foreign = join(dir, 'mine');
  await mkdir(foreign);
  await writeFile(join(foreign, 'notes.txt'), 'keep me\n');
  const never = await dbtls(['export', 'ansible', '-i', inv, '--out', foreign, '--force']);
  assert.equal(never.code, 2);
  assert.match(never.stderr, /not empty/);
  assert.deepEqual(await readdir(foreign), ['notes.txt']);

  const own = await dbtls([
    'export',
    'ansible',
    '-i',
    inv,
    '--out',
    join(dir, 'own'),
    '--hosts-from-inventory',
    '--json',
  ]);
  assert.equal(own.code, 0, own.stderr);
  assert.equal(JSON.parse(own.stdout).files.includes('hosts.yml'), false);
  assert.match(
    await readFile(join(dir, 'own', 'playbook.yml'), 'utf8'),
    /ansible-playbook -i YOUR-INVENTORY playbook\.yml/,
  );
});

test(
  'ansible-playbook runs the export: the files push delivers, changed=0 again, --check changes nothing, a changed file put back with a backup, reload only on change, a broken certificate refused on the node',
  T,
  async (t) => {
    const ansiblePlaybook = await findAnsiblePlaybook();
    if (!ansiblePlaybook)
      return t.skip('ansible-playbook is not installed (scripts/install-system-deps.sh: ansible-core)');
    const servers = await fleet();
    const dir = await tempDir(t);
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
    const log = join(dir, 'reload.log');
    const nodes: TestNode[] = servers.map((s, i) => ({
      name: `db${i + 1}`,
      host: '127.0.0.1',
      roles: [i === 0 ? 'mariadb' : 'mysql'],
      dest: join(dir, 'nodes', `db${i + 1}`, 'ssl'),
      transport: 'ssh',
      ssh: { port: s.port, user: 'root', identityFile: s.clientKeyPath, knownHostsFile: knownHosts },
      reload: `echo db${i + 1} >> ${log}`,
      ...(i === 1 ? { owner: 'nobody', group: 'nogroup' } : {}),
    }));
    const inv = await writeInventory(dir, { nodes });
    assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
    assert.equal((await dbtls(['render', '-i', inv])).code, 0);

    // What dbtls push delivers, then the folders wiped: Ansible must make exactly that again.
    const push = await dbtls(['push', '-i', inv, '--json'], { timeoutMs: 60_000 });
    assert.equal(push.code, 0, push.stdout + push.stderr);
    const pushed = await Promise.all(nodes.map((n) => snapshot(n.dest!)));
    assert.ok(Object.keys(pushed[1]!).includes('private_key.pem'));
    for (const n of nodes) await rm(join(dir, 'nodes', n.name), { recursive: true });

    const out = join(dir, 'export');
    const exp = await dbtls(['export', 'ansible', '-i', inv, '--out', out]);
    assert.equal(exp.code, 0, exp.stderr);
    const ansible = await sealedAnsible(dir, ansiblePlaybook);
    const play = (extra: string[] = []) =>
      ansible.playbook(['-i', 'hosts.yml', 'playbook.yml', ...extra], { cwd: out });

    const first = await play();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(Object.keys(first.recap).sort(), ['db1', 'db2']);
    for (const [i, n] of nodes.entries())
      assert.deepEqual(
        await snapshot(n.dest!),
        pushed[i],
        `${n.name}: the same files, bytes, modes and owners as dbtls push`,
      );
    assert.equal(
      (await stat(join(nodes[1]!.dest!, 'server-key.pem'))).uid,
      (await stat(join(nodes[1]!.dest!, 'ca.pem'))).uid,
    );
    assert.deepEqual((await lines(log)).sort(), ['db1', 'db2'], 'each node reloaded once');

    const second = await play();
    assert.equal(second.code, 0, second.stdout + second.stderr);
    for (const n of ['db1', 'db2'])
      assert.equal(second.recap[n]!.changed, 0, `${n}: changed=0 on the second run\n${second.stdout}`);
    assert.deepEqual((await lines(log)).sort(), ['db1', 'db2'], 'no reload without a change');

    // Someone edits a certificate on db1: it is put back, the edited one kept as Ansible's backup.
    const cert = join(nodes[0]!.dest!, 'server-cert.pem');
    const good = await readFile(cert, 'utf8');
    await writeFile(cert, good + '# edited by hand\n');
    const edited = (await stat(cert)).mtimeMs;
    const dry = await play(['--check']);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.ok(dry.recap.db1!.changed >= 1, `check mode reports the change\n${dry.stdout}`);
    assert.equal(dry.recap.db2!.changed, 0, dry.stdout);
    assert.equal(await readFile(cert, 'utf8'), good + '# edited by hand\n', 'check mode changes nothing');
    assert.equal((await stat(cert)).mtimeMs, edited);
    assert.deepEqual((await lines(log)).sort(), ['db1', 'db2'], 'no reload in check mode');
    const third = await play();
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.ok(third.recap.db1!.changed >= 1, third.stdout);
    assert.equal(third.recap.db2!.changed, 0, third.stdout);
    assert.equal(await readFile(cert, 'utf8'), good);
    const backups = (await readdir(nodes[0]!.dest!)).filter((n) => n.startsWith('server-cert.pem.') && n.endsWith('~'));
    assert.equal(backups.length, 1, `one backup: ${backups}`);
    assert.equal(await readFile(join(nodes[0]!.dest!, backups[0]!), 'utf8'), good + '# edited by hand\n');
    assert.deepEqual((await lines(log)).sort(), ['db1', 'db1', 'db2'], 'only db1 reloaded, once');

    // A broken certificate in the export: openssl on the node refuses it, the node keeps its file.
    const copy = join(out, 'files', 'db2', nodes[1]!.dest!, 'server-cert.pem');
    await chmod(copy, 0o644);
    await writeFile(copy, '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n');
    const before = await readFile(join(nodes[1]!.dest!, 'server-cert.pem'), 'utf8');
    const broken = await play(['--limit', 'db2']);
    assert.notEqual(broken.code, 0);
    assert.equal(broken.recap.db2!.failed, 1, broken.stdout);
    assert.match(broken.stdout, /failed to validate/);
    assert.equal(await readFile(join(nodes[1]!.dest!, 'server-cert.pem'), 'utf8'), before);
    assert.deepEqual((await lines(log)).sort(), ['db1', 'db1', 'db2'], 'no reload after a failed copy');
  },
);

test('a node behind a bastion: ansible-playbook goes through the ProxyCommand the export wrote', T, async (t) => {
  const ansiblePlaybook = await findAnsiblePlaybook();
  if (!ansiblePlaybook)
    return t.skip('ansible-playbook is not installed (scripts/install-system-deps.sh: ansible-core)');
  // The node listens on a namespace's own 127.0.0.1, out of reach from here; the bastion on its veth address.
  const ns = await createNetns(scope);
  const key = await sharedClientKey(scope);
  const [bastion, target] = await Promise.all([
    startSshd(scope, { ...SSHD, netns: ns.name, listenAddress: ns.nsAddress, clientKey: key }),
    startSshd(scope, { ...SSHD, netns: ns.name, clientKey: key }),
  ]);
  const dir = await tempDir(t);
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, [bastion!.knownHostsLine(), target!.knownHostsLine()].join('\n') + '\n');
  const dest = join(dir, 'nodes', 'db1', 'ssl');
  const inv = join(dir, 'inventory.yml');
  await writeFile(
    inv,
    [
      'cluster: jump',
      'pki: ./pki',
      'ca: { commonName: Jump CA }',
      `ssh: { user: root, identityFile: ${JSON.stringify(key.path)}, knownHostsFile: ${JSON.stringify(knownHosts)}, proxyJump: "root@${ns.nsAddress}:${bastion!.port}" }`,
      'nodes:',
      `  - { name: db1, host: 127.0.0.1, roles: [mariadb], dest: ${JSON.stringify(dest)}, ssh: { port: ${target!.port} }, reload: none }`,
      '',
    ].join('\n'),
  );
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  assert.equal((await dbtls(['render', '-i', inv])).code, 0);
  const out = join(dir, 'export');
  assert.equal((await dbtls(['export', 'ansible', '-i', inv, '--out', out])).code, 0);
  const ansible = await sealedAnsible(dir, ansiblePlaybook);
  const r = await ansible.playbook(['-i', 'hosts.yml', 'playbook.yml'], { cwd: out });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(r.recap.db1!.changed >= 1, r.stdout);
  assert.equal(
    await readFile(join(dest, 'server-key.pem'), 'utf8'),
    await readFile(join(dir, 'pki/nodes/db1/server-key.pem'), 'utf8'),
  );
});
