// `dbtls schedule --systemd`: the .service and .timer accepted by systemd-analyze verify, their
// settings read back, and the ExecStart= line unquoted by systemd's rules and run for real with a
// fake dbtls under a path holding a space, a quote, a percent sign and a dollar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { which } from '../helpers/which.js';
import { expandSpecifiers, parseUnit, readCall, setting, setup, systemdUnquote, SECRET } from './fixtures.js';

interface SystemdReport {
  ok: boolean;
  name: string;
  lock: string;
  syslogIdentifier: string;
  command: string[];
  files: Array<{ name: string; path?: string; text: string }>;
  install: string[];
  warnings: string[];
}

async function schedule(args: string[]) {
  const r = await dbtls(['schedule', '--systemd', '--json', ...args]);
  return { ...r, report: (r.stdout ? JSON.parse(r.stdout) : undefined) as SystemdReport };
}

const systemdAnalyze = await which('systemd-analyze');

/** systemd-analyze verify: exit 0 and not a word on stderr (it only warns about unknown keys, bad values). */
async function verify(files: string[]) {
  const r = await run(systemdAnalyze!, ['verify', ...files], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'info' } });
  return r;
}

test('the .service and .timer: every setting read back, accepted by systemd-analyze verify, and ExecStart runs the rotation', async (t) => {
  const s = await setup(t);
  const out = await tempDir(t, 'dbtls-units-');
  const r = await schedule([
    '-i',
    s.inventory,
    '--dbtls',
    s.fake,
    '--environment-file',
    s.envFile,
    '--user',
    'root',
    '--at',
    '04:41',
    '--within',
    '21d',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.name, 'dbtls-rotate-prod');
  const servicePath = join(out, 'dbtls-rotate-prod.service');
  const timerPath = join(out, 'dbtls-rotate-prod.timer');
  assert.deepEqual((await readdir(out)).sort(), ['dbtls-rotate-prod.service', 'dbtls-rotate-prod.timer']);
  for (const [i, p] of [servicePath, timerPath].entries()) {
    assert.equal(r.report.files[i]!.path, p);
    assert.equal(await readFile(p, 'utf8'), r.report.files[i]!.text);
    assert.equal((await stat(p)).mode & 0o777, 0o644);
  }
  const serviceText = await readFile(servicePath, 'utf8');
  assert.ok(!serviceText.includes(SECRET), 'the secret never appears in the unit');

  const service = parseUnit(serviceText);
  assert.equal(setting(service, 'Service', 'Type'), 'oneshot');
  assert.match(setting(service, 'Unit', 'Description')!, /cluster prod$/);
  assert.equal(setting(service, 'Unit', 'Wants'), 'network-online.target');
  assert.equal(setting(service, 'Unit', 'After'), 'network-online.target');
  assert.equal(setting(service, 'Service', 'User'), 'root');
  assert.equal(expandSpecifiers(setting(service, 'Service', 'WorkingDirectory')!), s.dir);
  assert.equal(expandSpecifiers(setting(service, 'Service', 'EnvironmentFile')!), s.envFile);
  assert.equal(setting(service, 'Service', 'SyslogIdentifier'), 'dbtls-prod');
  assert.match(setting(service, 'Service', 'Nice')!, /^\d+$/);
  assert.equal(setting(service, 'Service', 'TimeoutStartSec'), '1h');
  assert.equal(service.get('Service')!.get('ExecStart')!.length, 1);
  const argv = systemdUnquote(setting(service, 'Service', 'ExecStart')!);
  const flock = (await which('flock'))!;
  const lock = join(s.pki, '.dbtls-schedule.lock');
  assert.deepEqual(argv, [
    flock,
    '-n',
    '-E',
    '75',
    lock,
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

  const timer = parseUnit(await readFile(timerPath, 'utf8'));
  assert.equal(setting(timer, 'Timer', 'OnCalendar'), '*-*-* 04:41:00');
  assert.equal(setting(timer, 'Timer', 'RandomizedDelaySec'), '15min');
  assert.equal(setting(timer, 'Timer', 'Persistent'), 'true');
  assert.equal(setting(timer, 'Timer', 'Unit'), 'dbtls-rotate-prod.service');
  assert.equal(setting(timer, 'Install', 'WantedBy'), 'timers.target');

  // Run the command systemd would run, where it would run it (the secret as EnvironmentFile= gives it).
  const ran = await run(argv[0]!, argv.slice(1), {
    cwd: s.dir,
    env: { PATH: '/usr/bin:/bin', DBTLS_CA_PASSPHRASE: SECRET },
    timeoutMs: 20_000,
  });
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /"fake":"stdout"/);
  const call = await readCall(s.calls);
  assert.deepEqual(call.argv, ['rotate', 'leaf', '-i', s.inventory, '--within', '21d', '--yes', '--json']);
  assert.equal(call.cwd, s.dir);

  if (!systemdAnalyze) {
    t.diagnostic('systemd-analyze not installed: settings checked by parsing only');
    return;
  }
  const verified = await verify([servicePath, timerPath]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(verified.stderr.trim(), '', 'systemd-analyze verify had something to say');
  const cal = await run(systemdAnalyze, ['calendar', setting(timer, 'Timer', 'OnCalendar')!]);
  assert.equal(cal.code, 0, cal.stderr);
  assert.match(cal.stdout, /Next elapse: .* 04:41:00/);
});

test('systemd-analyze verify does catch what the quoting prevents (the check can fail)', async (t) => {
  if (!systemdAnalyze) return t.skip('systemd-analyze not installed');
  const s = await setup(t);
  const r = await schedule(['-i', s.inventory, '--dbtls', s.fake]);
  assert.equal(r.code, 0, r.stderr);
  const dir = await tempDir(t, 'dbtls-units-');
  const write = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };
  // The same unit without the %% escaping: the fake dbtls's name holds %s (silently the shell) and %z (unknown).
  const unescaped = r.report.files[0]!.text.replace(/%%/g, '%');
  assert.notEqual(unescaped, r.report.files[0]!.text);
  const bad = await verify([await write('unescaped.service', unescaped)]);
  assert.match(bad.stderr, /Failed to resolve unit specifiers/, bad.stderr);
  const good = await verify([await write('escaped.service', r.report.files[0]!.text)]);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stderr.trim(), '');
  const unit = (line: string) => `[Unit]\nDescription=x\n[Service]\nType=oneshot\n${line}\n`;
  const cases: Array<[string, RegExp]> = [
    ['ExecStart=/bin/true "unbalanced', /[Uu]nbalanced quot/],
    ['ExecStart=/bin/true %z', /specifier/i],
    ['ExecStart=/bin/true\nWorkingDirectory=/tmp/%z', /specifier/i],
  ];
  for (const [i, [line, message]] of cases.entries()) {
    const v = await verify([await write(`bad${i}.service`, unit(line))]);
    assert.match(v.stderr, message, `${line}: ${v.stderr}`);
  }
});

test('defaults and options: 15min spread, --randomized-delay, --name, no User= without --user; human output', async (t) => {
  const s = await setup(t);
  const r = await schedule(['-i', s.inventory, '--randomized-delay', '1h', '--name', 'rotate-prod-tls']);
  assert.equal(r.code, 0, r.stderr);
  const [service, timer] = r.report.files.map((f) => parseUnit(f.text));
  assert.deepEqual(
    r.report.files.map((f) => f.name),
    ['rotate-prod-tls.service', 'rotate-prod-tls.timer'],
  );
  assert.equal(setting(timer!, 'Timer', 'RandomizedDelaySec'), '1h');
  assert.equal(setting(timer!, 'Timer', 'OnCalendar'), '*-*-* 03:17:00');
  assert.equal(setting(timer!, 'Timer', 'Unit'), 'rotate-prod-tls.service');
  assert.equal(setting(service!, 'Service', 'User'), undefined);
  assert.equal(setting(service!, 'Service', 'EnvironmentFile'), undefined);
  assert.equal(setting(service!, 'Service', 'SyslogIdentifier'), 'dbtls-prod');
  const argv = systemdUnquote(setting(service!, 'Service', 'ExecStart')!);
  assert.deepEqual(argv.slice(5), [
    process.execPath,
    r.report.command[1],
    'rotate',
    'leaf',
    '-i',
    s.inventory,
    '--within',
    '30d',
    '--yes',
    '--json',
  ]);
  assert.match(r.report.command[1]!, /\/dist\/cli\/main\.js$/);
  assert.ok(
    r.report.install.includes('sudo systemctl daemon-reload && sudo systemctl enable --now rotate-prod-tls.timer'),
    r.report.install.join('\n'),
  );
  const zero = await schedule(['-i', s.inventory, '--randomized-delay', '0']);
  assert.equal(setting(parseUnit(zero.report.files[1]!.text), 'Timer', 'RandomizedDelaySec'), '0');

  const human = await dbtls(['schedule', '--systemd', '-i', s.inventory]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^# dbtls-rotate-prod\.service: generated by dbtls schedule/);
  assert.match(human.stdout, /\n# dbtls-rotate-prod\.timer: generated by dbtls schedule/);
  assert.match(human.stderr, /systemctl daemon-reload && sudo systemctl enable --now dbtls-rotate-prod\.timer/);
  if (systemdAnalyze) {
    const dir = await tempDir(t, 'dbtls-units-');
    const files = r.report.files.map((f) => join(dir, f.name));
    for (const [i, f] of files.entries()) await writeFile(f, r.report.files[i]!.text);
    const verified = await verify(files);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stderr.trim(), '');
  }
});

test('usage errors exit 2 and write nothing', async (t) => {
  const s = await setup(t);
  const out = await tempDir(t, 'dbtls-units-');
  const cases: Array<[string[], RegExp]> = [
    [['--log', '/var/log/x.log'], /--log is for --cron/],
    [['--randomized-delay', 'soon'], /--randomized-delay "soon" must be/],
    [['--within', '-1d'], /--within "-1d"/],
    [['--at', '7'], /--at "7"/],
    [['--out', join(out, 'missing')], /is not a directory/],
  ];
  for (const [args, message] of cases) {
    const r = await dbtls(['schedule', '--systemd', '-i', s.inventory, '--out', out, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(await readdir(out), []);
});

test('--out is all or nothing: a timer name taken by a folder, or a rename refused, leaves the old files as they were', async (t) => {
  const s = await setup(t);
  const out = await tempDir(t, 'dbtls-units-');
  await mkdir(join(out, 'dbtls-rotate-prod.timer'));
  const taken = await dbtls(['schedule', '--systemd', '-i', s.inventory, '--out', out]);
  assert.equal(taken.code, 2);
  assert.match(taken.stderr, /dbtls-rotate-prod\.timer exists and is not a regular file/);
  assert.deepEqual(await readdir(out), ['dbtls-rotate-prod.timer']);

  // An immutable timer (chattr +i): even root's rename over it fails, after the service was renamed.
  const out2 = await tempDir(t, 'dbtls-units-');
  const service = join(out2, 'dbtls-rotate-prod.service');
  const timer = join(out2, 'dbtls-rotate-prod.timer');
  await writeFile(service, 'old service\n');
  await writeFile(timer, 'old timer\n');
  const chattr = await which('chattr', ['/usr/bin', '/bin', '/sbin', '/usr/sbin']);
  const immutable = chattr ? await run(chattr, ['+i', timer]) : undefined;
  if (!immutable || immutable.code !== 0)
    return t.skip(`chattr +i not possible here: ${immutable?.stderr ?? 'no chattr'}`);
  t.after(() => run(chattr!, ['-i', timer]));
  const refused = await dbtls(['schedule', '--systemd', '-i', s.inventory, '--out', out2]);
  await run(chattr!, ['-i', timer]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(await readFile(service, 'utf8'), 'old service\n', 'the service put back');
  assert.equal(await readFile(timer, 'utf8'), 'old timer\n');
  assert.deepEqual(
    (await readdir(out2)).sort(),
    ['dbtls-rotate-prod.service', 'dbtls-rotate-prod.timer'],
    'no temporaries left',
  );
});
