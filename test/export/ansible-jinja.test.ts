// `dbtls export ansible` writes nothing Ansible would evaluate: inventory values carrying Jinja
// ("{{ lookup('pipe', 'touch MARKER') }}", "{% … %}", "{# … #}") in the SSH user, the key and
// known_hosts paths, the reload command and the inventory's own file name reach Debian's real Ansible
// literally (ansible-inventory --list shows them as written), and `ansible -m ping` and the exported
// playbook in check mode (local connection) run without any marker file appearing. The YAML writer
// itself is checked against Ansible's YAML reader with values that would break a naive `!unsafe`
// line: newlines, quotes, backslashes, "#", YAML's other line breaks (U+2028, NEL), a BOM, controls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { findAnsiblePlaybook, sealedAnsible } from '../helpers/ansible.js';
import { ansibleYaml, checkKey } from '../../lib/export/ansible-yaml.js';
import { shellCommand } from '../../lib/deliver/quote.js';

const T = { timeout: 240_000 };

/** ansible-inventory prints an !unsafe value as { __ansible_unsafe: "…" } (2.14) or as the string. */
const literal = (v: unknown): unknown =>
  v && typeof v === 'object' && '__ansible_unsafe' in v ? (v as { __ansible_unsafe: unknown }).__ansible_unsafe : v;

test(
  'export ansible: Jinja in the SSH user, key and known_hosts paths, reload and file name is never run by ansible, ansible-inventory or ansible-playbook --check',
  T,
  async (t) => {
    const ansiblePlaybook = await findAnsiblePlaybook();
    if (!ansiblePlaybook)
      return t.skip('ansible-playbook is not installed (scripts/install-system-deps.sh: ansible-core)');
    const dir = await tempDir(t);
    const marks = join(dir, 'marks');
    await mkdir(marks);
    const pipe = (name: string) => `lookup('pipe', 'touch ${join(marks, name)}')`;
    // The user may hold no blank: ${IFS} is the shell's blank, and lookup('pipe') runs a shell.
    const user = `{{lookup('pipe','touch\${IFS}${join(marks, 'user')}')}}`;
    const identity = join(dir, `id {{ ${pipe('identity')} }} {# c #} "q" 'q'`);
    const knownHosts = join(dir, `kh {% if ${pipe('known-hosts')} %}{% endif %} %h`);
    const reload = `true {{ ${pipe('reload')} }}`;
    // The inventory's folder name reaches the comment on top of every file: a newline must not end it.
    // (No "/" in a folder name: the commands find the marker folder in $MARKS.)
    const invDir = join(
      dir,
      `inv {{ lookup('pipe', 'cd $MARKS && touch file') }}\n- hosts: all\n  tasks: [{ shell: "cd $MARKS && touch comment" }]`,
    );
    await mkdir(invDir);
    const dest = join(dir, 'node', 'ssl');
    const inv = join(invDir, 'inventory.yml');
    await writeFile(
      inv,
      [
        'cluster: jinja',
        `pki: ${JSON.stringify(join(dir, 'pki'))}`,
        'nodes:',
        '  - name: db1',
        '    host: 127.0.0.1',
        '    roles: [mariadb]',
        `    dest: ${JSON.stringify(dest)}`,
        `    reload: ${JSON.stringify(reload)}`,
        `    ssh: { user: ${JSON.stringify(user)}, identityFile: ${JSON.stringify(identity)}, knownHostsFile: ${JSON.stringify(knownHosts)} }`,
        '',
      ].join('\n'),
    );
    for (const step of [['issue'], ['render']]) {
      const r = await dbtls([...step, '-i', inv]);
      assert.equal(r.code, 0, r.stderr);
    }
    const out = join(dir, 'export');
    const exp = await dbtls(['export', 'ansible', '-i', inv, '--out', out]);
    assert.equal(exp.code, 0, exp.stderr);

    const real = await sealedAnsible(dir, ansiblePlaybook);
    const env = { MARKS: marks };
    const ansible = {
      tool: (name: string, args: string[], opts: { cwd: string }) => real.tool(name, args, { ...opts, env }),
      playbook: (args: string[], opts: { cwd: string }) => real.playbook(args, { ...opts, env }),
    };
    const listed = await ansible.tool('ansible-inventory', ['-i', 'hosts.yml', '--list'], { cwd: out });
    assert.equal(listed.code, 0, listed.stderr);
    const vars = JSON.parse(listed.stdout)._meta.hostvars.db1;
    assert.equal(literal(vars.ansible_user), user, 'the user reaches Ansible as written');
    assert.equal(literal(vars.ansible_ssh_private_key_file), identity);
    // Quoted for Ansible's shlex split, "%" doubled for ssh's own %-tokens: still the path as written.
    assert.equal(
      literal(vars.ansible_ssh_common_args),
      shellCommand(['-o', `UserKnownHostsFile=${knownHosts.replace(/%/g, '%%')}`]),
    );

    const local = ['-e', 'ansible_connection=local'];
    const ping = await ansible.tool('ansible', ['-i', 'hosts.yml', 'db1', '-m', 'ping', ...local], { cwd: out });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /"ping": "pong"/);
    // The variables are read (and so would be templated) when a task shows them.
    const shown = await ansible.tool(
      'ansible',
      ['-i', 'hosts.yml', 'db1', '-m', 'debug', '-a', 'var=ansible_user', ...local],
      { cwd: out },
    );
    assert.equal(shown.code, 0, shown.stdout + shown.stderr);
    assert.ok(shown.stdout.includes(JSON.stringify(user)), shown.stdout);

    const check = await ansible.playbook(['-i', 'hosts.yml', 'playbook.yml', '--check', ...local], { cwd: out });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(check.recap.db1?.failed, 0, check.stdout);
    assert.ok((check.recap.db1?.changed ?? 0) >= 1, `check mode sees the files to copy\n${check.stdout}`);
    assert.deepEqual(Object.keys(check.recap), ['db1'], 'one play, on the node: the file name added none');
    await assert.rejects(stat(dest), 'check mode wrote nothing');
    const playbook = await readFile(join(out, 'playbook.yml'), 'utf8');
    assert.match(
      playbook,
      /^# Generated by dbtls export ansible from .*\n# - hosts: all\n#   tasks:/,
      'the file name stays inside the comment',
    );

    assert.deepEqual(await readdir(marks), [], 'no Jinja ran: no marker file');
  },
);

test(
  'the Ansible YAML writer: every string !unsafe and read back by Ansible exactly as given, newlines, quotes and YAML line breaks included; keys outside the plain alphabet refused',
  T,
  async (t) => {
    const ansiblePlaybook = await findAnsiblePlaybook();
    if (!ansiblePlaybook)
      return t.skip('ansible-playbook is not installed (scripts/install-system-deps.sh: ansible-core)');
    const dir = await tempDir(t);
    const marker = join(dir, 'marker');
    const values = [
      `{{ lookup('pipe', 'touch ${marker}') }}`,
      `{% if lookup('pipe', 'touch ${marker}') %}x{% endif %}`,
      '{# not a comment #}',
      'two\nlines',
      'trailing newline\n',
      '\n\nleading newlines',
      '  leading blanks',
      `quote " and ' and \\ backslash`,
      '" !unsafe "',
      "\"\n{{ lookup('pipe', 'touch " + marker + "') }}",
      'a # comment?',
      'key: value',
      '- item',
      'carriage\rreturn',
      'line\u2028separator',
      'next\u0085line',
      '\ufeffbom',
      'tab\tand\x01control',
      'emoji 😀 and é',
      '0600',
      'null',
      '',
    ];
    const hostVars = Object.fromEntries(values.map((v, i) => [`v${i}`, v]));
    const hosts = join(dir, 'hosts.yml');
    await writeFile(
      hosts,
      ansibleYaml({ all: { hosts: { h1: { ansible_connection: 'local', ...hostVars } } } }, 'a comment\nover\rlines'),
    );
    const ansible = await sealedAnsible(dir, ansiblePlaybook);
    const listed = await ansible.tool('ansible-inventory', ['-i', hosts, '--list']);
    assert.equal(listed.code, 0, listed.stderr);
    const got = JSON.parse(listed.stdout)._meta.hostvars.h1;
    for (const [k, v] of Object.entries(hostVars)) assert.equal(literal(got[k]), v, `${k} = ${JSON.stringify(v)}`);

    // A task that uses the values (templating each variable it names) runs no Jinja inside them.
    const r = await ansible.tool('ansible', ['-i', hosts, 'h1', '-m', 'debug', '-a', 'msg={{ [v0, v1, v9] }}']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes("lookup('pipe'"), r.stdout);
    await assert.rejects(stat(marker), 'the marker file never appears');

    for (const key of ['a b', '{{x}}', 'x:', '', '-x', 'ü']) assert.throws(() => checkKey(key), /refusing to write/);
    assert.throws(() => ansibleYaml({ 'db1 {{ x }}': 'v' }), /refusing to write/);
  },
);
