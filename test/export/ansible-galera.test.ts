// `dbtls export ansible` for a Galera cluster, run by Debian's real ansible-playbook against a real
// sshd on 127.0.0.1: the Galera nodes get a play of their own with serial: 1, so each node is copied
// and reloaded before the next starts (in inventory order), and a failed reload stops the roll with
// the later nodes untouched, as `dbtls push` does; the other nodes are not held up by them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { startSshd } from '../helpers/sshd.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';
import { findAnsiblePlaybook, sealedAnsible } from '../helpers/ansible.js';

const scope = fileScope();
const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

test(
  'the Galera nodes go one at a time in inventory order; a failed reload stops the roll and the next node keeps its files',
  {
    timeout: 240_000,
  },
  async (t) => {
    const ansiblePlaybook = await findAnsiblePlaybook();
    if (!ansiblePlaybook)
      return t.skip('ansible-playbook is not installed (scripts/install-system-deps.sh: ansible-core)');
    const sshd = await startSshd(scope, { extraConfig: ['SetEnv SHLVL=1'] });
    const dir = await tempDir(t);
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, sshd.knownHostsLine() + '\n');
    const log = join(dir, 'reload.log');
    // Each reload logs its start and end around a pause: overlapping reloads would interleave.
    const reload = (name: string, fail = false) =>
      `echo start ${name} >> ${log}; sleep 0.3; ${fail ? 'exit 1' : `echo end ${name} >> ${log}`}`;
    const node = (name: string, roles: string[], i: number): TestNode => ({
      name,
      host: `127.0.0.${i + 1}`,
      roles,
      dest: join(dir, 'nodes', name),
      transport: 'ssh',
      ssh: { port: sshd.port, user: 'root', identityFile: sshd.clientKeyPath, knownHostsFile: knownHosts },
      reload: reload(name),
    });
    // Inventory order g3, g1, g2 shows the roll follows the inventory, not the names.
    const nodes = [
      node('g3', ['mariadb', 'galera'], 0),
      node('app', ['mysql'], 1),
      node('g1', ['mariadb', 'galera'], 2),
      node('g2', ['mariadb', 'galera'], 3),
    ];
    // Every node is the same sshd on 127.0.0.1 (the hosts are only names in the certificates).
    const hostsFor = async (out: string) => {
      const file = join(out, 'hosts.yml');
      const text = await readFile(file, 'utf8');
      await writeFile(
        file,
        text.replace(/ansible_host: !unsafe "?127\.0\.0\.\d"?/g, 'ansible_host: !unsafe "127.0.0.1"'),
      );
      return text;
    };
    const inv = await writeInventory(dir, { nodes });
    for (const step of ['issue', 'render']) assert.equal((await dbtls([step, '-i', inv])).code, 0, step);
    const out = join(dir, 'export');
    const exported = await dbtls(['export', 'ansible', '-i', inv, '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(await hostsFor(out), /127\.0\.0\.4/);

    const plays = parse(await readFile(join(out, 'playbook.yml'), 'utf8')) as Array<Record<string, unknown>>;
    assert.deepEqual(
      plays.map((p) => [p['hosts'], p['serial']]),
      [
        [['app'], undefined],
        [['g3', 'g1', 'g2'], 1],
      ],
    );
    assert.equal(plays[1]!['max_fail_percentage'], 0);

    const ansible = await sealedAnsible(dir, ansiblePlaybook);
    const play = () => ansible.playbook(['-i', 'hosts.yml', 'playbook.yml'], { cwd: out });
    const first = await play();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(
      (await lines(log)).filter((l) => !l.endsWith(' app')),
      ['start g3', 'end g3', 'start g1', 'end g1', 'start g2', 'end g2'],
      'each Galera node reloaded after the one before it finished, in inventory order',
    );
    assert.ok((await lines(log)).includes('end app'));

    // g1's reload now fails; every node's certificate was edited on the node, so every node would change.
    await writeInventory(dir, {
      nodes: nodes.map((n) => (n.name === 'g1' ? { ...n, reload: reload('g1', true) } : n)),
    });
    const again = await dbtls(['export', 'ansible', '-i', inv, '--out', out, '--force']);
    assert.equal(again.code, 0, again.stderr);
    await hostsFor(out);
    const edited = '# edited on the node\n';
    for (const n of nodes) await writeFile(join(n.dest!, 'server-cert.pem'), edited);
    await writeFile(log, '');
    const failed = await play();
    assert.notEqual(failed.code, 0, failed.stdout);
    assert.deepEqual(
      (await lines(log)).filter((l) => !l.endsWith(' app')),
      ['start g3', 'end g3', 'start g1'],
      'g2 is not reloaded after g1 failed',
    );
    assert.equal(failed.recap['g1']?.failed, 1, failed.stdout);
    assert.equal(await readFile(join(dir, 'nodes', 'g2', 'server-cert.pem'), 'utf8'), edited, 'g2 is not touched');
    assert.notEqual(await readFile(join(dir, 'nodes', 'g3', 'server-cert.pem'), 'utf8'), edited, 'g3 was delivered');
    assert.notEqual(await readFile(join(dir, 'nodes', 'app', 'server-cert.pem'), 'utf8'), edited, 'app was delivered');
  },
);
