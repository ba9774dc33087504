// The wizard at a real terminal (a tmux pseudo-terminal): answers typed key by key build the same
// cluster as the answers file does without a terminal (the very same inventory bytes), the summary is
// on screen, and Ctrl-C — at a question in the middle, in the pasted list, or at the last question —
// exits 130 and leaves the folder empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliPath } from '../helpers/paths.js';
import { ROLE_CHOICES } from '../../lib/init/ask-cluster.js';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { haveTmux, startTerminal } from './tmux.js';
import { LOCAL_ANSWERS, checkLocalCluster } from './expected.js';

/** Cursor moves from MySQL (the first, pre-selected) to ProxySQL in the products list. */
const TO_PROXYSQL = Array<string>(ROLE_CHOICES.findIndex((c) => c.value === 'proxysql')).fill('Down');

const skip = (await haveTmux()) ? false : 'tmux is not installed (scripts/install-system-deps.sh: tmux)';
const wizard = [process.execPath, cliPath, 'init'];

test(
  'typed at a terminal: inventory, certificates, summary and push; the same inventory as --answers makes',
  { skip, timeout: 180_000 },
  async (t) => {
    const dir = await tempDir(t);
    const term = await startTerminal(t, wizard, { cwd: dir });
    await term.answer('Cluster name', 'demo');
    // MySQL starts checked; add ProxySQL (found by its place in ROLE_CHOICES, which grows).
    await term.waitFor('Which products run in the cluster?');
    await term.press(...TO_PROXYSQL, 'Space', 'Enter');
    await term.waitFor('How are the nodes reached?');
    await term.press('Down', 'Enter'); // local
    await term.waitFor('How will you give the nodes?');
    await term.press('Enter'); // one by one

    await term.answer('Node 1: host name or IP address', '10.0.0.11');
    await term.answer('Node 1: name', ''); // the default, db1
    await term.answer('Node 1: roles of db1', ''); // the default, MySQL
    await term.answer('Add another node?', 'y');
    await term.answer('Node 2: host name or IP address', 'db2.example.com');
    await term.answer('Node 2: name', ''); // db2, from the host name
    await term.answer('Node 2: roles of db2', ''); // the previous node's
    await term.answer('Add another node?', 'y');
    await term.answer('Node 3: host name or IP address', '10.0.0.21');
    // A bad name is refused in place, then corrected.
    await term.answer('Node 3: name', '../px');
    await term.sees('is not a safe name');
    for (let i = 0; i < 5; i++) await term.press('BSpace');
    await term.type('proxy1');
    await term.press('Enter');
    await term.waitFor('Node 3: roles of proxy1');
    await term.press('Space', 'Down', 'Space', 'Enter'); // MySQL off, ProxySQL on
    await term.answer('Add another node?', '');

    await term.answer('Folder on the nodes', '');
    await term.answer('CA common name', 'Demo Root CA');
    await term.answer('Organisation (O)', 'Example');
    await term.answer('Organisational unit (OU)', '');
    await term.answer('Country (C)', 'de');
    await term.answer('CA validity in days', '');
    await term.answer('certificate validity in days', '90');
    await term.answer('RSA key size', '');
    await term.answer('Client identities', 'app, monitor');
    await term.waitFor('app: also a Java keystore');
    await term.press('Down', 'Enter'); // PKCS#12
    await term.answer('monitor: also a Java keystore', '');
    await term.answer('Inventory file to write', '');
    await term.answer('PKI directory', '');
    const review = await term.waitFor('Write the inventory and issue the certificates?');
    assert.match(review, /node\s+proxy1 \(proxysql\) 10\.0\.0\.21, local/);
    // Nothing before the last answer.
    assert.deepEqual(await readdir(dir), []);
    await term.press('Enter');

    const summary = await term.waitFor(/Push the files to the 3 nodes now\?/, 120_000);
    assert.match(summary, /Made, and where:/);
    assert.match(summary, /inventory\s+demo\.yml/);
    assert.match(summary, /CA\s+pki\/demo\/ca\.pem \+ ca-key\.pem\s+C=DE, O=Example, CN=Demo Root CA/);
    assert.match(
      summary,
      /node db1\s+pki\/demo\/nodes\/db1\/\s+client-cert\.pem client-key\.pem private_key\.pem public_key\.pem server-cert\.pem server-key\.pem/,
    );
    assert.match(
      summary,
      /client app\s+pki\/demo\/clients\/app\/\s+client-cert\.pem client-key\.pem keystore\.p12 truststore\.p12/,
    );
    assert.match(summary, /configs\s+pki\/demo\/rendered\//);
    await term.type('y');
    await term.press('Enter');
    await term.waitFor('3 nodes ok', 60_000);
    assert.equal(await term.exitCode(), 0, await term.screen());
    await checkLocalCluster(dir);

    // The answers file without a terminal: the same inventory, byte for byte.
    const other = await tempDir(t);
    await writeFile(join(other, 'answers.yml'), LOCAL_ANSWERS);
    const r = await dbtls(['init', '--answers', 'answers.yml'], { cwd: other, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(other, 'demo.yml'), 'utf8'), await readFile(join(dir, 'demo.yml'), 'utf8'));
  },
);

test(
  'Ctrl-C at a question in the middle, and inside a pasted list: exit 130, one line, nothing written',
  { skip, timeout: 60_000 },
  async (t) => {
    const dir = await tempDir(t);
    const term = await startTerminal(t, wizard, { cwd: dir });
    await term.answer('Cluster name', 'demo');
    await term.answer('Which products run in the cluster?', '');
    await term.waitFor('How are the nodes reached?');
    await term.press('C-c');
    assert.equal(await term.exitCode(), 130);
    assert.match(await term.screen(), /^dbtls init: interrupted; nothing was written$/m);
    assert.deepEqual(await readdir(dir), []);

    const paste = await startTerminal(t, wizard, { cwd: dir });
    await paste.answer('Cluster name', 'demo');
    await paste.answer('Which products run in the cluster?', '');
    await paste.waitFor('How are the nodes reached?');
    await paste.press('Down', 'Enter');
    await paste.waitFor('How will you give the nodes?');
    await paste.press('Down', 'Enter');
    await paste.waitFor('Paste the nodes');
    await paste.type('db1 10.0.0.1\ndb2 10.0.0.2\n');
    await paste.waitFor('> db2 10.0.0.2');
    await paste.press('C-c');
    assert.equal(await paste.exitCode(), 130);
    assert.match(await paste.screen(), /^dbtls init: interrupted; nothing was written$/m);
    assert.deepEqual(await readdir(dir), []);
  },
);

test(
  'Ctrl-C at the last question (the review), every other answer from --answers: exit 130, nothing written',
  { skip, timeout: 60_000 },
  async (t) => {
    const dir = await tempDir(t);
    const answers = join(await tempDir(t), 'answers.yml');
    // Relative paths in an answers file are relative to its folder: point the inventory into DIR.
    await writeFile(answers, LOCAL_ANSWERS.replace('inventory: demo.yml', `inventory: ${join(dir, 'demo.yml')}`));
    const term = await startTerminal(t, [...wizard, '--answers', answers], { cwd: dir });
    const review = await term.waitFor('Write the inventory and issue the certificates?');
    assert.match(review, /client\s+app \(\+ pkcs12 keystore\)/);
    await term.press('C-c');
    assert.equal(await term.exitCode(), 130);
    assert.match(await term.screen(), /^dbtls init: interrupted; nothing was written$/m);
    assert.deepEqual(await readdir(dir), []);
  },
);
