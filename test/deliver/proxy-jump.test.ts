// `ssh.proxyJump` against real OpenSSH, in a network namespace this file creates: the nodes' sshd
// listen on the namespace's own 127.0.0.1, out of reach from here; the bastion's sshd listens on the
// namespace's veth address. So a push that succeeds went through the bastion. Also: one bastion
// connection shared by the nodes, closed after the last; forwarding refused, unknown, changed host
// keys and authentication at the bastion, each named as the bastion's; a bastion or node that is down.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { createNetns, netnsExists, type Netns } from '../helpers/netns.js';
import { createClientKey, sharedClientKey, startSshd, type SshdServer } from '../helpers/sshd.js';
import { freePort } from '../helpers/mariadb.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { connector } from '../../lib/deliver/connect.js';
import { BASTION_GRACE_MS } from '../../lib/deliver/ssh/bastion.js';

const scope = fileScope();
const T = { timeout: 120_000 };

interface Lab {
  ns: Netns;
  /** On the namespace's veth address, forwarding allowed. */
  bastion: SshdServer;
  /** The same, with AllowTcpForwarding no. */
  closed: SshdServer;
  /** Authorizes another key than the one the nodes use. */
  stranger: SshdServer;
  /** On the namespace's 127.0.0.1. */
  targets: SshdServer[];
  /** On this machine's 127.0.0.1 (for `proxyJump: none`). */
  outside: SshdServer;
  key: string;
}

const lab = once(async (): Promise<Lab> => {
  const ns = await createNetns(scope);
  const key = await sharedClientKey(scope);
  const other = await createClientKey(scope);
  const inNs = { netns: ns.name, listenAddress: ns.nsAddress };
  const [bastion, closed, stranger, outside, ...targets] = await Promise.all([
    startSshd(scope, inNs),
    startSshd(scope, { ...inNs, extraConfig: ['AllowTcpForwarding no'] }),
    startSshd(scope, { ...inNs, clientKey: other }),
    startSshd(scope),
    ...[1, 2, 3].map(() => startSshd(scope, { netns: ns.name })),
  ]);
  return { ns, bastion: bastion!, closed: closed!, stranger: stranger!, targets, outside: outside!, key: key.path };
});

// After the file's cleanup (hooks run in the order they were registered): nothing may be left.
after(async () => {
  const l = await lab().catch(() => undefined);
  if (!l) return;
  assert.equal(await netnsExists(l.ns.name, l.ns.hostLink), false, 'the namespace and its veth pair are gone');
  for (const s of [l.bastion, l.closed, l.stranger, l.outside, ...l.targets]) assert.equal(s.running, false);
});

interface NodeDoc {
  name: string;
  host: string;
  roles: string[];
  dest: string;
  ssh: Record<string, unknown>;
}

/** A dbtls YAML inventory in DIR: the nodes, a cluster-wide ssh (identity, known_hosts, maybe proxyJump). */
async function inventory(dir: string, nodes: NodeDoc[], ssh: Record<string, unknown>): Promise<string> {
  const path = join(dir, 'inventory.yml');
  await writeFile(path, stringify({ cluster: 'jump', pki: './pki', ca: { commonName: 'Jump Test CA' }, ssh, nodes }));
  return path;
}

function targetNodes(l: Lab, dir: string): NodeDoc[] {
  return l.targets.map((s, i) => ({
    name: `db${i + 1}`,
    host: '127.0.0.1',
    roles: ['mariadb'],
    dest: join(dir, 'remote', `db${i + 1}`),
    ssh: { port: s.port },
  }));
}

async function knownHosts(dir: string, servers: SshdServer[], extra: string[] = []): Promise<string> {
  const path = join(dir, 'known_hosts');
  await writeFile(path, [...servers.map((s) => s.knownHostsLine()), ...extra].join('\n') + '\n');
  return path;
}

const jumpTo = (s: SshdServer, user = 'root') => `${user}@${s.host}:${s.port}`;

async function push(inv: string, extra: string[] = [], json = true) {
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK; // only the inventory's key may log in
  const r = await dbtls(['push', '-i', inv, ...(json ? ['--json'] : []), ...extra], { timeoutMs: 60_000, env });
  return { ...r, report: json && r.stdout ? JSON.parse(r.stdout) : undefined };
}

const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, 'g')) ?? []).length;
const accepted = async (s: SshdServer) => count(await s.log(), /Accepted publickey for root/);
const connections = async (s: SshdServer) => count(await s.log(), /Connection from /);
const nodeError = (
  report: { nodes: Array<{ node: string; error?: { code: string; message: string } }> },
  name: string,
) => report.nodes.find((n) => n.node === name)?.error;

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test(
  'nodes reachable only through the bastion: refused directly, delivered through it; one shared bastion connection; proxyJump: none goes direct',
  T,
  async (t) => {
    const l = await lab();
    const dir = await tempDir(t);
    const kh = await knownHosts(dir, [l.bastion, l.outside, ...l.targets]);
    const nodes = targetNodes(l, dir);
    const direct = await inventory(dir, nodes, { user: 'root', identityFile: l.key, knownHostsFile: kh });
    const refused = await push(direct, ['--retries', '0', '--files', kh, '--dest', join(dir, 'unused')]);
    assert.equal(refused.code, 1);
    for (const n of nodes)
      assert.match(
        nodeError(refused.report, n.name)!.message,
        /ECONNREFUSED/,
        'nothing listens on this side: the nodes live in the namespace',
      );

    // The node on this side's 127.0.0.1 opts out of the bastion: through it, 127.0.0.1 is the namespace's.
    const outsideNode: NodeDoc = {
      name: 'db4',
      host: '127.0.0.1',
      roles: ['mariadb'],
      dest: join(dir, 'remote', 'db4'),
      ssh: { port: l.outside.port, proxyJump: 'none' },
    };
    const inv = await inventory(dir, [...nodes, outsideNode], {
      user: 'root',
      identityFile: l.key,
      knownHostsFile: kh,
      proxyJump: jumpTo(l.bastion),
    });
    assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
    assert.equal((await dbtls(['render', '-i', inv])).code, 0);
    const before = {
      bastion: await accepted(l.bastion),
      targets: await Promise.all(l.targets.map(accepted)),
      outside: await accepted(l.outside),
    };
    const first = await push(inv);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    for (const n of [...nodes, outsideNode]) {
      assert.ok((await readdir(n.dest)).includes('server-cert.pem'), n.name);
      assert.equal(
        await readFile(join(n.dest, 'server-cert.pem'), 'utf8'),
        await readFile(join(dir, 'pki/nodes', n.name, 'server-cert.pem'), 'utf8'),
      );
    }
    assert.equal((await accepted(l.bastion)) - before.bastion, 1, 'three nodes, one bastion login');
    assert.deepEqual(
      await Promise.all(l.targets.map(async (s, i) => (await accepted(s)) - before.targets[i]!)),
      [1, 1, 1],
    );
    assert.equal((await accepted(l.outside)) - before.outside, 1);
    // The bastion connected to each node from inside the namespace.
    for (const s of l.targets) assert.match(await s.log(), /Accepted publickey for root from 127\.0\.0\.1/);

    // One node after another: the grace period carries the bastion connection over to the next node.
    const again = await push(inv, ['--concurrency', '1']);
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.report.changed, false);
    assert.equal((await accepted(l.bastion)) - before.bastion, 2, 'a sequential run logs in to the bastion once too');
    await waitFor('the bastion sessions to end', () => l.bastion.sessionPids().length === 0);
  },
);

test(
  'the library: twelve nodes at once over one bastion connection, which lives while any is open and closes after the last',
  T,
  async (t) => {
    const l = await lab();
    const dir = await tempDir(t);
    const kh = await knownHosts(dir, [l.bastion, ...l.targets]);
    // More tunnels than OpenSSH's MaxSessions (10): forwarded connections are not sessions.
    const nodes = Array.from({ length: 12 }, (_, i) => ({
      name: `n${i + 1}`,
      host: '127.0.0.1',
      roles: ['mariadb'],
      dest: join(dir, `n${i + 1}`),
      ssh: { port: l.targets[i % 3]!.port },
    }));
    const inv = await inventory(dir, nodes, {
      user: 'root',
      identityFile: l.key,
      knownHostsFile: kh,
      proxyJump: jumpTo(l.bastion),
    });
    const cluster = await loadInventory(inv);
    assert.deepEqual(cluster.nodes[0]!.ssh.proxyJump, { user: 'root', host: l.ns.nsAddress, port: l.bastion.port });
    const connect = connector({ localRoot: dir, backups: 1, acceptNew: false });
    t.after(() => connect.close());
    const logins = await accepted(l.bastion);
    const open = await Promise.all(cluster.nodes.map((n) => connect(n)));
    assert.deepEqual(await Promise.all(open.map((fs) => fs.read('/nonexistent/file'))), Array(12).fill(null));
    assert.equal((await accepted(l.bastion)) - logins, 1, 'twelve nodes, one bastion login');
    const [last, ...others] = open;
    await Promise.all(others.map((fs) => fs.close()));
    // Longer than the grace period: had an early close given back the last lease, it would be closed now.
    await sleep(BASTION_GRACE_MS + 500);
    assert.ok(l.bastion.sessionPids().length > 0, 'still open for the last node');
    assert.equal(await last!.read('/nonexistent/file'), null, 'the last node still works');
    await last!.close();
    await waitFor(
      'the bastion connection to close after the last node',
      () => l.bastion.sessionPids().length === 0,
      5_000,
    );
    assert.equal((await accepted(l.bastion)) - logins, 1);
  },
);

test(
  'a bastion that does not forward (AllowTcpForwarding no): every node fails naming the bastion, not retried',
  T,
  async (t) => {
    const l = await lab();
    const dir = await tempDir(t);
    const kh = await knownHosts(dir, [l.closed, ...l.targets]);
    const inv = await inventory(dir, targetNodes(l, dir), {
      user: 'root',
      identityFile: l.key,
      knownHostsFile: kh,
      proxyJump: jumpTo(l.closed),
    });
    const files = ['--files', kh, '--dest', join(dir, 'unused')];
    const before = await Promise.all(l.targets.map(connections));
    const r = await push(inv, [...files, '--retries', '3', '--retry-delay', '0.05'], false);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /retrying/);
    const j = await push(inv, files);
    assert.equal(j.code, 1);
    for (const n of ['db1', 'db2', 'db3']) {
      const e = nodeError(j.report, n)!;
      assert.equal(e.code, 'ssh-bastion-forward');
      assert.ok(
        e.message.startsWith(`${n}: bastion root@${l.closed.host}:${l.closed.port} refused to forward to 127.0.0.1:`),
        e.message,
      );
      assert.match(e.message, /AllowTcpForwarding/);
    }
    assert.deepEqual(await Promise.all(l.targets.map(connections)), before, 'no node was reached');
  },
);

test(
  'bastion host keys: unknown refused without --accept-new (naming the bastion), added with it; a changed one always refused',
  T,
  async (t) => {
    const l = await lab();
    const dir = await tempDir(t);
    const kh = await knownHosts(dir, l.targets);
    const inv = await inventory(dir, targetNodes(l, dir), {
      user: 'root',
      identityFile: l.key,
      knownHostsFile: kh,
      proxyJump: jumpTo(l.bastion),
    });
    const files = ['--files', kh, '--dest', join(dir, 'unused')];
    const before = await Promise.all(l.targets.map(connections));
    const strict = await push(inv, files);
    assert.equal(strict.code, 1);
    for (const n of ['db1', 'db2', 'db3']) {
      const e = nodeError(strict.report, n)!;
      assert.equal(e.code, 'host-key-unknown');
      assert.ok(
        e.message.startsWith(
          `${n}: bastion root@${l.bastion.host}:${l.bastion.port}: host key of ${l.bastion.host}:${l.bastion.port} is not in ${kh}`,
        ),
        e.message,
      );
      assert.ok(e.message.includes(l.bastion.hostKey.fingerprint), e.message);
    }
    assert.deepEqual(await Promise.all(l.targets.map(connections)), before, 'no node was contacted');

    const dest = join(dir, 'accepted');
    const accept = await push(inv, ['--files', kh, '--dest', dest, '--node', 'db1', '--accept-new']);
    assert.equal(accept.code, 0, accept.stdout + accept.stderr);
    assert.ok(
      accept.stderr.includes(
        `db1: added the host key ${l.bastion.hostKey.fingerprint} of bastion root@${l.bastion.host}:${l.bastion.port} to known_hosts (--accept-new)`,
      ),
      accept.stderr,
    );
    const lines = (await readFile(kh, 'utf8'))
      .split('\n')
      .filter((x) => x.startsWith(`[${l.bastion.host}]:${l.bastion.port} `));
    assert.equal(lines.length, 1, 'the bastion was added once');
    assert.equal(lines[0], l.bastion.knownHostsLine());
    const strictAgain = await push(inv, ['--files', kh, '--dest', dest, '--node', 'db2']);
    assert.equal(strictAgain.code, 0, 'now known: strict mode passes');

    // The bastion's name with another server's key: a changed key, refused even with --accept-new.
    await writeFile(
      kh,
      [
        ...l.targets.map((s) => s.knownHostsLine()),
        `[${l.bastion.host}]:${l.bastion.port} ${l.closed.hostKey.publicLine}`,
      ].join('\n') + '\n',
    );
    const changed = await push(inv, [...files, '--node', 'db3', '--accept-new']);
    assert.equal(changed.code, 1);
    const e = nodeError(changed.report, 'db3')!;
    assert.equal(e.code, 'host-key-changed');
    assert.ok(
      e.message.startsWith(`db3: bastion root@${l.bastion.host}:${l.bastion.port}: HOST KEY CHANGED`),
      e.message,
    );
    assert.ok(
      e.message.includes(l.bastion.hostKey.fingerprint) && e.message.includes(l.closed.hostKey.fingerprint),
      e.message,
    );
  },
);

test('--accept-new adds each unknown host once, also when two nodes of a run share it', T, async (t) => {
  const l = await lab();
  const dir = await tempDir(t);
  const kh = join(dir, 'known_hosts');
  await writeFile(kh, '');
  const nodes = ['a', 'b'].map((name) => ({
    name,
    host: '127.0.0.1',
    roles: ['mariadb'],
    dest: join(dir, name),
    ssh: { port: l.targets[0]!.port },
  }));
  const inv = await inventory(dir, nodes, {
    user: 'root',
    identityFile: l.key,
    knownHostsFile: kh,
    proxyJump: jumpTo(l.bastion),
  });
  const r = await push(inv, ['--files', inv, '--dest', join(dir, 'out'), '--accept-new', '--concurrency', '1']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(
    (await readFile(kh, 'utf8')).trim().split('\n').sort(),
    [l.bastion.knownHostsLine(), l.targets[0]!.knownHostsLine()].sort(),
  );
  assert.equal(count(r.stderr, /added its host key/), 1);
  assert.equal(count(r.stderr, /added the host key .* of bastion/), 1);
});

test(
  'authentication at the bastion fails for its nodes only, named as the bastion, and is not retried',
  T,
  async (t) => {
    const l = await lab();
    const dir = await tempDir(t);
    const kh = await knownHosts(dir, [l.stranger, l.outside, ...l.targets]);
    const nodes: NodeDoc[] = [
      ...targetNodes(l, dir).slice(0, 2),
      {
        name: 'db4',
        host: '127.0.0.1',
        roles: ['mariadb'],
        dest: join(dir, 'remote', 'db4'),
        ssh: { port: l.outside.port, proxyJump: 'none' },
      },
    ];
    const inv = await inventory(dir, nodes, {
      user: 'root',
      identityFile: l.key,
      knownHostsFile: kh,
      proxyJump: jumpTo(l.stranger),
    });
    const conns = await connections(l.stranger);
    const r = await push(
      inv,
      ['--files', kh, '--dest', join(dir, 'out'), '--retries', '3', '--retry-delay', '0.05'],
      false,
    );
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /retrying/);
    assert.match(
      r.stdout,
      new RegExp(
        `db1: FAILED: db1: bastion root@${l.stranger.host.replace(/\./g, '\\.')}:${l.stranger.port} refused every key`,
      ),
    );
    assert.match(r.stdout, /db4: ok, 1 uploaded/);
    assert.equal(
      (await connections(l.stranger)) - conns,
      1,
      'one connection to the bastion, shared by both nodes, no retry',
    );
    const j = await push(inv, ['--files', kh, '--dest', join(dir, 'out'), '--retries', '0']);
    assert.deepEqual(j.report.failed, ['db1', 'db2']);
    assert.equal(nodeError(j.report, 'db2')!.code, 'ssh-bastion-auth');
  },
);

test('a bastion that is down, and a node that is down behind a live bastion: retried, then named', T, async (t) => {
  const l = await lab();
  const dir = await tempDir(t);
  const kh = await knownHosts(dir, [l.bastion, ...l.targets]);
  const nobody = await freePort(); // nothing listens there, here or in the namespace
  const files = ['--files', kh, '--dest', join(dir, 'out'), '--retries', '1', '--retry-delay', '0.05'];

  const down = await inventory(dir, targetNodes(l, dir).slice(0, 1), {
    user: 'root',
    identityFile: l.key,
    knownHostsFile: kh,
    proxyJump: `root@${l.ns.nsAddress}:${nobody}`,
  });
  const r = await push(down, files, false);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `^db1: attempt 1 of 2 failed \\(bastion root@${l.ns.nsAddress.replace(/\./g, '\\.')}:${nobody}: .*ECONNREFUSED.*\\); retrying in 50 ms$`,
      'm',
    ),
  );
  const j = await push(down, files);
  assert.equal(nodeError(j.report, 'db1')!.code, 'ssh-bastion-connect');
  assert.match(
    nodeError(j.report, 'db1')!.message,
    new RegExp(
      `^db1: cannot connect to bastion root@${l.ns.nsAddress.replace(/\./g, '\\.')}:${nobody}: .*\\(2 attempts\\)$`,
    ),
  );

  const behind = await inventory(
    dir,
    [{ name: 'gone', host: '127.0.0.1', roles: ['mariadb'], dest: join(dir, 'gone'), ssh: { port: nobody } }],
    { user: 'root', identityFile: l.key, knownHostsFile: kh, proxyJump: jumpTo(l.bastion) },
  );
  const g = await push(behind, files, false);
  assert.equal(g.code, 1);
  assert.match(g.stderr, /^gone: attempt 1 of 2 failed \(through bastion .*\); retrying in 50 ms$/m);
  const gj = await push(behind, files);
  const e = nodeError(gj.report, 'gone')!;
  assert.equal(e.code, 'ssh-connect');
  assert.ok(
    e.message.startsWith(
      `gone: cannot connect to 127.0.0.1:${nobody} through bastion root@${l.bastion.host}:${l.bastion.port}: the bastion could not reach it`,
    ),
    e.message,
  );
});

test(
  'hostile proxyJump values are refused at validation (exit 2, file:line:col) and nothing is contacted',
  T,
  async (t) => {
    const l = await lab();
    const dir = await tempDir(t);
    const kh = await knownHosts(dir, [l.bastion]);
    const conns = await connections(l.bastion);
    for (const bad of ['root@bastion;id', '$(id)@bastion', 'bastion`id`', 'bastion -oProxyCommand=x', 'bastion\nid']) {
      const inv = await inventory(dir, targetNodes(l, dir).slice(0, 1), {
        identityFile: l.key,
        knownHostsFile: kh,
        proxyJump: bad,
      });
      const r = await push(inv, ['--files', kh, '--dest', join(dir, 'out')], false);
      assert.equal(r.code, 2, JSON.stringify(bad));
      assert.match(r.stderr, new RegExp(`inventory\\.yml:\\d+:\\d+: ssh\\.proxyJump: `), r.stderr);
    }
    assert.equal(await connections(l.bastion), conns);
  },
);
