// The wizard against two real OpenSSH servers on 127.0.0.1, nodes imported from an Ansible inventory:
// at a terminal it shows each unknown host key's fingerprint (the servers' own), writes nothing to
// known_hosts until the last answer, then adds the accepted keys and pushes over SSH. Without a
// terminal, unknown keys need acceptNewHostKeys: true, and a changed key is refused either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { cliPath } from '../helpers/paths.js';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { startSshdFleet, type SshdServer } from '../helpers/sshd.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { haveTmux, startTerminal } from './tmux.js';

const scope = fileScope();
const fleet = once(() => startSshdFleet(scope, 2));
const skip = (await haveTmux()) ? false : 'tmux is not installed (scripts/install-system-deps.sh: tmux)';

interface Setup {
  dir: string;
  servers: SshdServer[];
  knownHosts: string;
}

/** hosts.ini: two mariadb hosts, each its own sshd and its own dest folder; a fresh, empty known_hosts. */
async function setup(t: Parameters<typeof tempDir>[0]): Promise<Setup> {
  const servers = await fleet();
  const dir = await tempDir(t);
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, '');
  await writeFile(
    join(dir, 'hosts.ini'),
    [
      '[all:vars]',
      'ansible_user=root',
      `ansible_ssh_private_key_file=${servers[0]!.clientKeyPath}`,
      `dbtls_known_hosts_file=${knownHosts}`,
      '',
      '[mariadb]',
      ...servers.map(
        (s, i) =>
          `db${i + 1} ansible_host=127.0.0.1 ansible_port=${s.port} dbtls_dest=${join(dir, 'remote', `db${i + 1}`)}`,
      ),
      '',
    ].join('\n'),
  );
  return { dir, servers, knownHosts };
}

async function checkDelivered(s: Setup, cluster: string): Promise<void> {
  const pki = join(s.dir, 'pki', cluster);
  for (const node of ['db1', 'db2']) {
    const remote = join(s.dir, 'remote', node);
    assert.deepEqual(
      (await readdir(remote)).sort(),
      ['ca.pem', 'client-cert.pem', 'client-key.pem', 'dbtls', 'server-cert.pem', 'server-key.pem'],
      node,
    );
    assert.equal(
      await readFile(join(remote, 'server-cert.pem'), 'utf8'),
      await readFile(join(pki, 'nodes', node, 'server-cert.pem'), 'utf8'),
    );
    assert.equal((await stat(join(remote, 'server-key.pem'))).mode & 0o777, 0o600);
  }
}

const knownLines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).sort();

test(
  "at a terminal: both unknown fingerprints shown (the servers' own), accepted into known_hosts at the end, pushed over SSH",
  { skip, timeout: 180_000 },
  async (t) => {
    const s = await setup(t);
    const term = await startTerminal(t, [process.execPath, cliPath, 'init'], { cwd: s.dir });
    await term.answer('Cluster name', 'sshdemo');
    await term.waitFor('Which products run in the cluster?');
    await term.press('Space', 'Down', 'Space', 'Enter'); // MySQL off, MariaDB on
    await term.waitFor('How are the nodes reached?');
    await term.press('Enter'); // ssh
    await term.waitFor('How will you give the nodes?');
    await term.press('Down', 'Down', 'Enter'); // from an Ansible inventory
    await term.answer('Ansible inventory file', 'hosts.ini');
    await term.answer('Map Ansible groups to roles', '');
    await term.waitFor('2 nodes from hosts.ini: db1 (mariadb), db2 (mariadb)');
    // The SSH settings default to the inventory's all:vars.
    await term.answer('SSH user', '');
    await term.answer('SSH port', '');
    await term.answer(
      `SSH private key file (empty: ssh-agent, or ~/.ssh/id_ed25519, id_ecdsa, id_rsa) (${s.servers[0]!.clientKeyPath})`,
      '',
    );
    await term.answer(`known_hosts file that host keys are checked against (${s.knownHosts})`, '');
    await term.answer('Bastion (ProxyJump)', '');

    for (const [i, server] of s.servers.entries()) {
      const at = new RegExp(
        `db${i + 1} \\(127\\.0\\.0\\.1:${server.port}\\) offers an unknown ssh-ed25519 host key (SHA256:[A-Za-z0-9+/]+)\\. Is that its fingerprint\\?`,
      );
      const screen = await term.waitFor(at);
      assert.equal(at.exec(screen)![1], server.hostKey.fingerprint, `db${i + 1}'s fingerprint`);
      await term.type('y');
      await term.press('Enter');
    }
    await term.waitFor(/db1\b.*connected and logged in/);
    // Accepted, but not written: the last question is still to come.
    assert.equal(await readFile(s.knownHosts, 'utf8'), '');

    for (const q of [
      'CA common name',
      'Organisation (O)',
      'Organisational unit (OU)',
      'Country (C)',
      'CA validity in days',
      'certificate validity in days',
      'RSA key size',
      'Client identities',
      'Inventory file to write',
      'PKI directory',
    ]) {
      await term.answer(q, '');
    }
    const review = await term.waitFor('Write the inventory and issue the certificates?');
    assert.match(review, /known_hosts 2 host keys to add/);
    assert.deepEqual((await readdir(s.dir)).sort(), ['hosts.ini', 'known_hosts']);
    await term.press('Enter');
    const summary = await term.waitFor('Push the files to the 2 nodes now?', 120_000);
    assert.match(
      summary,
      new RegExp(
        `known_hosts\\s+known_hosts: added \\[127\\.0\\.0\\.1\\]:${s.servers[0]!.port}, \\[127\\.0\\.0\\.1\\]:${s.servers[1]!.port}`,
      ),
    );
    await term.type('y');
    await term.press('Enter');
    await term.waitFor('2 nodes ok', 60_000);
    assert.equal(await term.exitCode(), 0, await term.screen());

    assert.deepEqual(await knownLines(s.knownHosts), s.servers.map((x) => x.knownHostsLine()).sort());
    await checkDelivered(s, 'sshdemo');
    const c = await loadInventory(join(s.dir, 'sshdemo.yml'));
    assert.deepEqual(
      c.nodes.map((n) => [n.name, n.ssh.port, n.ssh.user, n.ssh.knownHostsFile, n.transport]),
      s.servers.map((x, i) => [`db${i + 1}`, x.port, 'root', s.knownHosts, 'ssh']),
    );
  },
);

test(
  'without a terminal: unknown host keys stop the run (exit 2, key named, nothing written) unless acceptNewHostKeys: true; a changed key is always refused',
  { timeout: 180_000 },
  async (t) => {
    const s = await setup(t);
    const answers = join(s.dir, 'answers.yml');
    const base = 'cluster: sshauto\nansible: { file: hosts.ini }\npush: true\n';
    await writeFile(answers, base);
    const refused = await dbtls(['init', '--answers', answers], { cwd: s.dir, timeoutMs: 60_000 });
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `answers\\.yml: acceptNewHostKeys: db1 \\(127\\.0\\.0\\.1:${s.servers[0]!.port}\\) offers an unknown ssh-ed25519 host key ${s.servers[0]!.hostKey.fingerprint.replace(/[+/]/g, '\\$&')}; set acceptNewHostKeys: true`,
      ),
    );
    assert.equal(await readFile(s.knownHosts, 'utf8'), '');
    assert.deepEqual((await readdir(s.dir)).sort(), ['answers.yml', 'hosts.ini', 'known_hosts']);

    // A key that differs from the one known_hosts holds is never accepted, whatever the answers say.
    await writeFile(s.knownHosts, `[127.0.0.1]:${s.servers[0]!.port} ${s.servers[1]!.hostKey.publicLine}\n`);
    await writeFile(answers, base + 'acceptNewHostKeys: true\n');
    const changed = await dbtls(['init', '--answers', answers], { cwd: s.dir, timeoutMs: 60_000 });
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    assert.match(changed.stderr, /the connection test failed, so nothing was written: db1: .*HOST KEY CHANGED/);
    assert.equal(
      await readFile(s.knownHosts, 'utf8'),
      `[127.0.0.1]:${s.servers[0]!.port} ${s.servers[1]!.hostKey.publicLine}\n`,
    );
    assert.deepEqual((await readdir(s.dir)).sort(), ['answers.yml', 'hosts.ini', 'known_hosts']);

    await writeFile(s.knownHosts, '');
    const accepted = await dbtls(['init', '--answers', answers], { cwd: s.dir, timeoutMs: 120_000 });
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    assert.match(accepted.stdout, /2 nodes ok/);
    assert.deepEqual(await knownLines(s.knownHosts), s.servers.map((x) => x.knownHostsLine()).sort());
    await checkDelivered(s, 'sshauto');
  },
);

test(
  "through a bastion (ProxyJump): the bastion's unknown key is met first, then the node's behind it; both accepted, pushed through it",
  { timeout: 120_000 },
  async (t) => {
    const s = await setup(t);
    const [bastion, node] = s.servers as [SshdServer, SshdServer];
    const answers = join(s.dir, 'answers.yml');
    await writeFile(
      answers,
      [
        'cluster: jump',
        `nodes: [{ name: db2, host: "127.0.0.1:${node.port}", roles: [mariadb] }]`,
        `dest: ${join(s.dir, 'remote', 'db2')}`,
        `ssh: { user: root, identityFile: ${bastion.clientKeyPath}, knownHostsFile: known_hosts, proxyJump: "root@127.0.0.1:${bastion.port}" }`,
        'acceptNewHostKeys: true',
        'push: true',
        '',
      ].join('\n'),
    );
    const r = await dbtls(['init', '--answers', answers], { cwd: s.dir, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const fp = (x: SshdServer) => x.hostKey.fingerprint;
    const first = r.stdout.indexOf(
      `accepted (acceptNewHostKeys): bastion root@127.0.0.1:${bastion.port} (for db2) offers an unknown ssh-ed25519 host key ${fp(bastion)}`,
    );
    const second = r.stdout.indexOf(
      `accepted (acceptNewHostKeys): db2 (127.0.0.1:${node.port}) offers an unknown ssh-ed25519 host key ${fp(node)}`,
    );
    assert.ok(first >= 0 && second > first, r.stdout);
    assert.deepEqual(await knownLines(s.knownHosts), [bastion.knownHostsLine(), node.knownHostsLine()].sort());
    const c = await loadInventory(join(s.dir, 'jump.yml'));
    assert.deepEqual(c.nodes[0]!.ssh.proxyJump, { user: 'root', host: '127.0.0.1', port: bastion.port });
    assert.equal(
      await readFile(join(s.dir, 'remote', 'db2', 'server-cert.pem'), 'utf8'),
      await readFile(join(s.dir, 'pki', 'jump', 'nodes', 'db2', 'server-cert.pem'), 'utf8'),
    );
    assert.match(r.stdout, /1 node ok/);
  },
);

test(
  'Ctrl-C while the connection test waits on a node that never answers: exit 130, nothing written',
  { skip, timeout: 60_000 },
  async (t) => {
    const [server] = await fleet();
    // A TCP listener on 127.0.0.1 that accepts and stays silent: the SSH handshake waits for its banner.
    const held: Socket[] = [];
    const silent = createServer((sock) => void held.push(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      held.forEach((sock) => sock.destroy());
      silent.close();
    });
    const port = (silent.address() as { port: number }).port;
    const dir = await tempDir(t);
    const elsewhere = await tempDir(t);
    await writeFile(join(elsewhere, 'known_hosts'), '');
    const term = await startTerminal(t, [process.execPath, cliPath, 'init'], { cwd: dir });
    await term.answer('Cluster name', 'hang');
    await term.answer('Which products run in the cluster?', '');
    await term.answer('How are the nodes reached?', ''); // ssh
    await term.answer('How will you give the nodes?', ''); // one by one
    await term.answer('Node 1: host name or IP address', `127.0.0.1:${port}`);
    await term.answer('Node 1: name', '');
    await term.answer('Add another node?', '');
    await term.answer('Folder on the nodes', '');
    await term.answer('SSH user', '');
    await term.answer('SSH port', '');
    await term.answer('SSH private key file', server!.clientKeyPath);
    await term.answer('known_hosts file', join(elsewhere, 'known_hosts'));
    await term.answer('Bastion (ProxyJump)', '');
    await term.waitFor('Testing SSH to 1 node');
    await term.press('C-c');
    assert.equal(await term.exitCode(), 130);
    assert.match(await term.screen(), /^dbtls init: interrupted; nothing was written$/m);
    assert.deepEqual(await readdir(dir), []);
    assert.equal(await readFile(join(elsewhere, 'known_hosts'), 'utf8'), '');
  },
);
