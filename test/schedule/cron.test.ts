// `dbtls schedule --cron`: the crontab line read back field by field, and its command run the way
// cron runs it (% handling, /bin/sh, a minimal environment, another working directory) with a fake
// dbtls under a path holding a space, a quote and a percent sign.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { cronSplit, readCall, setup, SECRET } from './fixtures.js';

interface CronReport {
  ok: boolean;
  line: string;
  log: string;
  lock: string;
  command: string[];
  files: Array<{ name: string; path?: string; text: string }>;
  install: string[];
  warnings: string[];
}

async function schedule(args: string[], cwd?: string) {
  const r = await dbtls(['schedule', '--cron', '--json', ...args], cwd ? { cwd } : {});
  return { ...r, report: (r.stdout ? JSON.parse(r.stdout) : undefined) as CronReport };
}

/** Runs a crontab line's command as cron does: /bin/sh -c, cron's environment, in $HOME. */
async function runAsCron(line: string, home: string) {
  const { command } = cronSplit(line);
  return run('/bin/sh', ['-c', command], {
    cwd: home,
    env: { PATH: '/usr/bin:/bin', SHELL: '/bin/sh', HOME: home, LOGNAME: 'root' },
    timeoutMs: 20_000,
  });
}

test('the crontab line: five time fields, flock, log redirection, valid sh, and it runs the rotation with every path intact', async (t) => {
  const s = await setup(t);
  const log = join(s.dir, 'logs 100%', "prod's.log");
  await (await import('node:fs/promises')).mkdir(dirname(log));
  const r = await schedule([
    '-i',
    s.inventory,
    '--dbtls',
    s.fake,
    '--log',
    log,
    '--environment-file',
    s.envFile,
    '--at',
    '04:41',
    '--within',
    '21d',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { line } = r.report;
  assert.equal(line.split('\n').length, 1);

  const { fields, command, stdin } = cronSplit(line);
  assert.deepEqual(fields, ['41', '4', '*', '*', '*']);
  assert.equal(stdin, undefined, 'no unescaped % may cut the command');
  assert.match(command, /\/flock -n -E 75 '[^']*it'\\''s 100% a dir \$HOME\/pki\/\.dbtls-schedule\.lock' /);
  assert.ok(command.endsWith(` >> '${log.replace(/'/g, `'\\''`)}' 2>&1`), command);
  assert.equal(r.report.log, log);
  assert.equal(r.report.lock, join(s.pki, '.dbtls-schedule.lock'));
  assert.deepEqual(r.report.command, [
    s.fake,
    'rotate',
    'leaf',
    '-i',
    s.inventory,
    '--within',
    '21d',
    '--yes',
    '--json',
  ]);
  const syntax = await run('/bin/sh', ['-n', '-c', command]);
  assert.equal(syntax.code, 0, syntax.stderr);
  // The snippet is the line plus comments saying whose crontab, where output and secrets go.
  const text = r.report.files[0]!.text;
  assert.equal(r.report.files[0]!.name, 'dbtls-rotate-prod.crontab');
  assert.ok(text.endsWith(line + '\n'));
  for (const l of text.trimEnd().split('\n').slice(0, -1)) assert.match(l, /^# /);
  assert.match(text, /crontab of the user that owns/);
  assert.ok(!text.includes(SECRET) && !r.stdout.includes(SECRET), 'the secret never appears');

  const home = await tempDir(t, 'dbtls-cron-home-');
  const ran = await runAsCron(line, home);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout + ran.stderr, '', 'everything goes to the log');
  const call = await readCall(s.calls);
  assert.deepEqual(call.argv, ['rotate', 'leaf', '-i', s.inventory, '--within', '21d', '--yes', '--json']);
  assert.equal(call.cwd, s.dir, "runs in the inventory's folder");
  assert.equal(call.secret, SECRET, 'the env file was sourced and exported');
  const logged = await readFile(log, 'utf8');
  assert.match(logged, /^--- \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ dbtls rotate leaf, cluster prod\n/);
  assert.match(logged, /\{"ok":true,"fake":"stdout"\}\n/);
  assert.match(logged, /fake stderr line\n/);
  assert.equal((await stat(join(s.pki, '.dbtls-schedule.lock'))).isFile(), true);

  // A second run appends.
  assert.equal((await runAsCron(line, home)).code, 0);
  assert.equal((await readFile(log, 'utf8')).match(/^--- /gm)?.length, 2);
});

test('a run that finds the lock held does not start dbtls and logs that it skipped', async (t) => {
  const s = await setup(t);
  const log = join(s.dir, 'rotate.log');
  const r = await schedule(['-i', s.inventory, '--dbtls', s.fake, '--log', log]);
  assert.equal(r.code, 0, r.stderr);
  const lock = r.report.lock;

  // One process holds the lock (flock on fd 9, then exec sleep keeps it): as a long rotation would.
  const holder = spawn('/bin/sh', ['-c', 'exec 9>>"$1" && flock -n 9 && echo locked && exec sleep 30', 'sh', lock], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  t.after(async () => {
    holder.kill('SIGKILL');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the lock holder did not start')), 10_000);
    holder.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });

  const home = await tempDir(t, 'dbtls-cron-home-');
  const ran = await runAsCron(r.report.line, home);
  assert.equal(ran.code, 0, ran.stderr);
  await assert.rejects(readFile(s.calls), { code: 'ENOENT' }, 'dbtls must not have started');
  assert.match(
    await readFile(log, 'utf8'),
    new RegExp(`dbtls: skipped, another run holds ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`),
  );

  holder.kill('SIGKILL');
  await exited;
  assert.equal((await runAsCron(r.report.line, home)).code, 0);
  assert.equal((await readCall(s.calls)).argv[0], 'rotate', 'runs once the lock is free');
});

test('a missing env file is reported in the log, and dbtls does not start', async (t) => {
  const s = await setup(t);
  const log = join(s.dir, 'rotate.log');
  const missing = join(s.dir, 'gone.env');
  const r = await schedule(['-i', s.inventory, '--dbtls', s.fake, '--log', log, '--environment-file', missing]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.report.warnings.some((w) => w.includes('gone.env') && w.includes('does not exist')),
    r.report.warnings.join('\n'),
  );
  const home = await tempDir(t, 'dbtls-cron-home-');
  await runAsCron(r.report.line, home);
  assert.match(await readFile(log, 'utf8'), /gone\.env/);
  await assert.rejects(readFile(s.calls), { code: 'ENOENT' });
});

test('defaults: this node and this dbtls by absolute path, the inventory resolved, /var/log/dbtls/<cluster>.log, 03:17, 30d', async (t) => {
  const s = await setup(t);
  // Run from another folder with a relative inventory path: the line must not depend on it.
  const elsewhere = join(s.root, 'elsewhere');
  await (await import('node:fs/promises')).mkdir(elsewhere);
  const r = await schedule(['-i', join('..', "it's 100% a dir $HOME", 'prod inventory.yml')], elsewhere);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.report.command, [
    process.execPath,
    cliPath,
    'rotate',
    'leaf',
    '-i',
    s.inventory,
    '--within',
    '30d',
    '--yes',
    '--json',
  ]);
  assert.equal(r.report.log, '/var/log/dbtls/prod.log');
  const { fields, command } = cronSplit(r.report.line);
  assert.deepEqual(fields, ['17', '3', '*', '*', '*']);
  assert.ok(command.endsWith(' >> /var/log/dbtls/prod.log 2>&1'));
  assert.ok(
    r.report.install.some((step) => step.includes('install -d -m 0750 /var/log/dbtls')),
    r.report.install.join('\n'),
  );
  // The node and main.js it names are the real ones: run them as the line would (with --version).
  const v = await run(r.report.command[0]!, [r.report.command[1]!, '--version']);
  assert.equal(v.code, 0, v.stderr);

  // Human mode: the snippet on stdout, how to install on stderr.
  const human = await dbtls(['schedule', '--cron', '-i', s.inventory, '--user', 'dbtls']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^# dbtls-rotate-prod: daily at 03:17/);
  assert.match(human.stdout, /crontab of user dbtls \(sudo crontab -u dbtls -e\)/);
  assert.match(
    human.stderr,
    /to install \(runs as dbtls\):\n {2}sudo install -d -m 0750 -o dbtls \/var\/log\/dbtls\n {2}sudo crontab -u dbtls -e/,
  );
});

test('--out writes the snippet atomically, 0644, and the install step appends it to the crontab', async (t) => {
  const s = await setup(t);
  const out = await tempDir(t, 'dbtls-cron-out-');
  const r = await schedule(['-i', s.inventory, '--dbtls', s.fake, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(out, 'dbtls-rotate-prod.crontab');
  assert.equal(r.report.files[0]!.path, file);
  assert.equal(await readFile(file, 'utf8'), r.report.files[0]!.text);
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  assert.deepEqual(await readdir(out), ['dbtls-rotate-prod.crontab']);
  assert.ok(
    r.report.install.some((step) => step.includes(`cat ${file}) | crontab -`)),
    r.report.install.join('\n'),
  );
  const human = await dbtls(['schedule', '--cron', '-i', s.inventory, '--out', out]);
  assert.equal(human.stdout, `wrote ${file}\n`);
});

test('usage errors exit 2 with a clear message and write nothing', async (t) => {
  const s = await setup(t);
  const out = await tempDir(t, 'dbtls-cron-out-');
  const cases: Array<[string[], RegExp]> = [
    [['--within', '3x'], /--within "3x" must be a number/],
    [['--within', ''], /--within "" must be a number/],
    [['--at', '24:00'], /--at "24:00" must be a time of day/],
    [['--at', '3pm'], /--at "3pm"/],
    [['--at', '03:60'], /--at "03:60"/],
    [['--randomized-delay', '5m'], /--randomized-delay is for --systemd/],
    [['--name', '../evil'], /--name "..\/evil" must be/],
    [['--user', 'bad user'], /--user "bad user" is not a user/],
    [['--dbtls', join(s.dir, 'no-such-dbtls')], /no-such-dbtls is not an executable file/],
    [['--dbtls', 'no-such-dbtls-anywhere'], /not found on PATH/],
    [['--log', '/var/log/a\\%b.log'], /backslash followed by "%"/],
    [['--log', '/var/log/a\nb.log'], /control character/],
  ];
  for (const [args, message] of cases) {
    const r = await dbtls(['schedule', '--cron', '-i', s.inventory, '--out', out, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
  for (const kinds of [[], ['--cron', '--systemd']]) {
    const r = await dbtls(['schedule', '-i', s.inventory, '--out', out, ...kinds]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly one of --cron or --systemd/);
  }
  const json = await dbtls(['schedule', '--cron', '-i', s.inventory, '--at', '25:00', '--json']);
  assert.equal(json.code, 2);
  assert.equal(JSON.parse(json.stdout).error.code, 'bad-at');
  const noInventory = await dbtls(['schedule', '--cron', '-i', join(s.dir, 'nope.yml')]);
  assert.equal(noInventory.code, 2, noInventory.stderr);
  assert.deepEqual(await readdir(out), []);
  await rm(s.calls, { force: true });
});

test('warnings: no PKI folder yet, an env file others can read', async (t) => {
  const s = await setup(t, { pki: false });
  const { chmod } = await import('node:fs/promises');
  await chmod(s.envFile, 0o644);
  const r = await schedule(['-i', s.inventory, '--environment-file', s.envFile]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.report.warnings.some((w) => /PKI directory .* does not exist yet/.test(w)),
    r.report.warnings.join('\n'),
  );
  assert.ok(
    r.report.warnings.some((w) => /readable by others \(mode 0644\)/.test(w)),
    r.report.warnings.join('\n'),
  );
  const human = await dbtls(['schedule', '--cron', '-i', s.inventory, '--environment-file', s.envFile]);
  assert.match(human.stderr, /^warning: .*chmod 600/m);
});

test('an Ansible inventory: --cluster and --role-map are passed on to the rotation', async (t) => {
  const dir = await tempDir(t, 'dbtls-schedule-');
  const hosts = join(dir, 'hosts.ini');
  await (await import('node:fs/promises')).writeFile(hosts, '[galera]\ndb1 ansible_host=10.0.0.11\n');
  const r = await schedule(['-i', hosts, '--cluster', 'eu-prod', '--role-map', 'galera=mariadb']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.report.command.slice(2), [
    'rotate',
    'leaf',
    '-i',
    hosts,
    '--cluster',
    'eu-prod',
    '--role-map',
    'galera=mariadb',
    '--within',
    '30d',
    '--yes',
    '--json',
  ]);
  assert.equal(r.report.files[0]!.name, 'dbtls-rotate-eu-prod.crontab');
  assert.equal(r.report.log, '/var/log/dbtls/eu-prod.log');
});

test('an encrypted CA key and no --environment-file: a warning that the job will lack the passphrase', async (t) => {
  const s = await setup(t, { pki: false });
  const issued = await dbtls(['issue', '-i', s.inventory], { env: { ...process.env, DBTLS_CA_PASSPHRASE: SECRET } });
  assert.equal(issued.code, 0, issued.stderr);
  const r = await schedule(['-i', s.inventory]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.report.warnings.some((w) => /CA key is encrypted/.test(w)),
    r.report.warnings.join('\n'),
  );
  const given = await schedule(['-i', s.inventory, '--environment-file', s.envFile]);
  assert.deepEqual(given.report.warnings, []);
});
