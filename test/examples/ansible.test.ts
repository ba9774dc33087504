// examples/ansible/apply.yml and gate.yml run by Debian's real ansible-playbook. apply.yml runs the
// built dbtls once on the controller against real sshd nodes on 127.0.0.1: the files land as
// `dbtls push` delivers them, a second run is changed=0, check mode (`dbtls apply --check`) changes
// nothing yet reports what would change, a failing node or a bad inventory fails the play with a
// message naming it. gate.yml passes on fresh certificates and stops the play, naming each
// certificate, when they expire within the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { dbtls } from '../helpers/run.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { startSshdFleet } from '../helpers/sshd.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { nodeDelivery } from '../../lib/deliver/plan.js';
import { findAnsiblePlaybook, sealedAnsible, type Ansible, type PlaybookResult } from '../helpers/ansible.js';

const scope = fileScope();
const fleet = once(() => startSshdFleet(scope, 2, { extraConfig: ['SetEnv SHLVL=1'] }));
const APPLY = join(repoRoot, 'examples', 'ansible', 'apply.yml');
const GATE = join(repoRoot, 'examples', 'ansible', 'gate.yml');
const T = { timeout: 180_000 };

interface Lab {
  dir: string;
  inv: string;
  nodes: TestNode[];
  ansible: Ansible;
  /** ansible-playbook -i hosts.ini PLAYBOOK -e @vars.json ARGS */
  play(playbook: string, args?: string[]): Promise<PlaybookResult>;
}

/** An Ansible inventory naming the nodes (nothing connects to them: the examples run on localhost). */
async function lab(
  t: Parameters<typeof tempDir>[0],
  nodes: TestNode[],
  opts: { leafDays?: number } = {},
): Promise<Lab | undefined> {
  const executable = await findAnsiblePlaybook();
  if (!executable) return undefined;
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes, ...(opts.leafDays ? { leafDays: opts.leafDays } : {}) });
  await writeFile(join(dir, 'hosts.ini'), `[db]\n${nodes.map((n) => `${n.name} ansible_host=${n.host}`).join('\n')}\n`);
  await writeFile(
    join(dir, 'vars.json'),
    JSON.stringify({ dbtls_inventory: inv, dbtls_command: [process.execPath, cliPath] }),
  );
  const ansible = await sealedAnsible(dir, executable);
  return {
    dir,
    inv,
    nodes,
    ansible,
    play: (playbook, args = []) =>
      ansible.playbook(['-i', 'hosts.ini', playbook, '-e', '@vars.json', ...args], { cwd: dir }),
  };
}

const changedCount = (r: PlaybookResult) => Object.values(r.recap).reduce((n, h) => n + h.changed, 0);

/** Every file the delivery plan names, on the node: bytes as the source, mode as the plan, and its mtime. */
async function delivered(inv: string): Promise<Map<string, number>> {
  const cluster = await loadInventory(inv);
  const mtimes = new Map<string, number>();
  for (const node of cluster.nodes) {
    for (const item of await nodeDelivery(cluster, node, join(cluster.pki, 'rendered'))) {
      assert.ok(
        (await readFile(item.remote)).equals(await readFile(item.source)),
        `${node.name}: ${item.remote} as its source`,
      );
      const st = await stat(item.remote);
      assert.equal(st.mode & 0o777, item.mode, `${node.name}: ${item.remote} mode`);
      mtimes.set(item.remote, st.mtimeMs);
    }
  }
  return mtimes;
}

async function sshNodes(dir: string): Promise<{ nodes: TestNode[]; log: string }> {
  const servers = await fleet();
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
  const log = join(dir, 'reload.log');
  const nodes = servers.map((s, i) => ({
    name: `db${i + 1}`,
    host: '127.0.0.1',
    roles: ['mariadb'],
    dest: join(dir, 'nodes', `db${i + 1}`, 'ssl'),
    transport: 'ssh' as const,
    ssh: { port: s.port, user: 'root', identityFile: s.clientKeyPath, knownHostsFile: knownHosts },
    reload: `echo db${i + 1} >> ${log}`,
  }));
  return { nodes, log };
}

test(
  'apply.yml: files land as dbtls push delivers them; again changed=0; --check changes nothing and reports what would; failures named',
  T,
  async (t) => {
    const base = await tempDir(t);
    const { nodes, log } = await sshNodes(base);
    const l = await lab(t, nodes);
    if (!l) return t.skip('ansible-playbook is not installed (scripts/install-system-deps.sh: ansible-core)');

    // Check mode before anything exists: reports a change, writes nothing (not even the PKI folder).
    const dry = await l.play(APPLY, ['--check']);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.ok(changedCount(dry) >= 1, dry.stdout);
    await assert.rejects(stat(join(l.dir, 'pki')), 'check mode wrote no PKI folder');
    await assert.rejects(stat(nodes[0]!.dest!), 'check mode touched no node');

    const first = await l.play(APPLY);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.ok(changedCount(first) >= 1, first.stdout);
    assert.deepEqual(
      Object.keys(first.recap),
      ['db1'],
      'run once, on the first host of the play (delegated to localhost)',
    );
    const mtimes = await delivered(l.inv);
    assert.equal(mtimes.size, 16);
    assert.deepEqual(
      (await readFile(log, 'utf8')).split('\n').filter(Boolean).sort(),
      ['db1', 'db2'],
      'apply reloaded the nodes it changed',
    );

    const second = await l.play(APPLY);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(changedCount(second), 0, `changed=0 in the PLAY RECAP\n${second.stdout}`);
    assert.deepEqual(await delivered(l.inv), mtimes, 'no file rewritten');

    const checkClean = await l.play(APPLY, ['--check']);
    assert.equal(checkClean.code, 0, checkClean.stdout + checkClean.stderr);
    assert.equal(changedCount(checkClean), 0, checkClean.stdout);

    // A new SAN for db2: check mode says it would change, and changes nothing (PKI, nodes).
    const pkiCert = join(l.dir, 'pki', 'nodes', 'db2', 'server-cert.pem');
    const oldCert = await readFile(pkiCert, 'utf8');
    nodes[1]!.sans = ['db2.example.com'];
    await writeInventory(l.dir, { nodes });
    const wouldChange = await l.play(APPLY, ['--check']);
    assert.equal(wouldChange.code, 0, wouldChange.stdout + wouldChange.stderr);
    assert.ok(changedCount(wouldChange) >= 1, `check mode reports the change\n${wouldChange.stdout}`);
    assert.equal(await readFile(pkiCert, 'utf8'), oldCert, 'nothing issued in check mode');
    assert.deepEqual(await delivered(l.inv), mtimes, 'no node file changed in check mode');

    const real = await l.play(APPLY);
    assert.equal(real.code, 0, real.stdout + real.stderr);
    assert.ok(changedCount(real) >= 1);
    const onNode = new X509Certificate(await readFile(join(nodes[1]!.dest!, 'server-cert.pem')));
    assert.match(onNode.subjectAltName ?? '', /DNS:db2\.example\.com/);
    await delivered(l.inv);

    // A node that is down: dbtls exit 1, the play fails naming it.
    const servers = await fleet();
    await servers[1]!.stop();
    try {
      nodes[1]!.sans = ['db2.example.com', 'db2.example.org'];
      await writeInventory(l.dir, { nodes });
      const down = await l.play(APPLY);
      assert.notEqual(down.code, 0);
      assert.match(down.stdout, /dbtls apply: 1 node\(s\) failed:\s+db2: /);
    } finally {
      await servers[1]!.restart();
    }

    // An inventory error: dbtls exit 2, the play fails with dbtls's message, nothing sent.
    await writeFile(l.inv, 'cluster: test\nnodes: 12\n');
    const bad = await l.play(APPLY);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /dbtls apply \(exit 2, an input error: nothing was sent\): .*nodes: expected a list/);
  },
);

test(
  'gate.yml: passes on fresh certificates; with 1-day certificates and a 2-day window, fails naming each one',
  T,
  async (t) => {
    const nodes: TestNode[] = [1, 2].map((i) => ({ name: `db${i}`, host: `10.0.0.${i}`, roles: ['mariadb'] }));
    const fresh = await lab(t, nodes);
    if (!fresh) return t.skip('ansible-playbook is not installed (scripts/install-system-deps.sh: ansible-core)');
    assert.equal((await dbtls(['issue', '-i', fresh.inv])).code, 0);
    const pass = await fresh.play(GATE);
    assert.equal(pass.code, 0, pass.stdout + pass.stderr);
    assert.equal(changedCount(pass), 0);
    assert.ok(
      Object.values(pass.recap).every((h) => h.failed === 0),
      pass.stdout,
    );
    const inCheckMode = await fresh.play(GATE, ['--check', '-e', 'dbtls_within=60d']);
    assert.equal(inCheckMode.code, 0, inCheckMode.stdout + inCheckMode.stderr);

    const short = await lab(t, nodes, { leafDays: 1 });
    assert.equal((await dbtls(['issue', '-i', short!.inv])).code, 0);
    // A relative inventory path is relative to dbtls_chdir (default: the playbook's folder).
    const stillOk = await short!.play(GATE, [
      '-e',
      'dbtls_within=12h',
      '-e',
      'dbtls_inventory=inventory.yml',
      '-e',
      `dbtls_chdir=${short!.dir}`,
    ]);
    assert.equal(stillOk.code, 0, `a day left is more than 12h\n${stillOk.stdout}`);
    const fail = await short!.play(GATE, ['-e', 'dbtls_within=2d']);
    assert.notEqual(fail.code, 0);
    assert.match(fail.stdout, /dbtls check: 4 certificate\(s\) need attention within 2d/);
    for (const id of ['nodes/db1/server', 'nodes/db1/client', 'nodes/db2/server', 'nodes/db2/client'])
      assert.match(fail.stdout, new RegExp(`${id} EXPIRING`), id);
    assert.doesNotMatch(fail.stdout, /ca EXPIRING/);

    // An input error (a window dbtls cannot read) fails the gate too, with dbtls's message.
    const bad = await short!.play(GATE, ['-e', 'dbtls_within=soon']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /dbtls check: .*soon/);
  },
);
