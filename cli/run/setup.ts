// The work of `dbtls setup` (spec: cli/commands/setup.ts).
import { usageError } from '../../lib/errors.js';
import { isEcKeyType, isKeyType, isRsaKeySize, KEY_TYPES, rsaKeyType } from '../../lib/pki/keys.js';
import { datadirFromOptionFiles } from '../../lib/setup/datadir.js';
import { FALLBACK_SUFFIX, localServerVersion } from '../../lib/setup/local-server.js';
import { resolveOwner, runningAsRoot } from '../../lib/setup/owner.js';
import { checkDatadir, checkSuffix, runSetup } from '../../lib/setup/setup.js';
import type { FileOwner } from '../../lib/store/atomic-write.js';
import type { SetupFlags } from '../commands/setup.js';
import { outputMode } from '../ui/mode.js';
import { printSetupReport, setupEventLine, verboseLines } from '../ui/setup-report.js';
import { standaloneAudit } from '../audit.js';

export async function setup(flags: SetupFlags): Promise<number> {
  // mysql_ssl_rsa_setup's own options take strings; these two are checked here, with its messages.
  const keySize = Number(flags.keySize);
  if (!isRsaKeySize(keySize))
    throw usageError('bad-key-size', `--key-size must be 2048, 3072 or 4096, got "${flags.keySize}"`);
  const keyType = flags.keyType ?? rsaKeyType(keySize);
  if (!isKeyType(keyType))
    throw usageError('bad-key-type', `--key-type must be one of ${KEY_TYPES.join(', ')}, got "${flags.keyType}"`);
  if (flags.keyType !== undefined && flags.keySize !== '2048' && keyType !== rsaKeyType(keySize))
    throw usageError('bad-key-type', `--key-type ${keyType} contradicts --key-size ${flags.keySize}; give one of them`);
  if (isEcKeyType(keyType) && flags.keyFormat === 'pkcs1')
    throw usageError('bad-key-type', `--key-format pkcs1 holds RSA keys only; ${keyType} keys are written as PKCS#8`);
  if (!/^\d+$/.test(flags.days)) throw usageError('bad-days', `--days must be a whole number, got "${flags.days}"`);
  if (flags.suffix !== undefined) checkSuffix(flags.suffix);

  const mode = outputMode(flags.json);
  const say = verboseLines(flags.verbose, mode);
  // Asked now, answered while the datadir is looked up: the server binary may be slow to start.
  const versionLookup = flags.suffix === undefined ? localServerVersion() : undefined;

  let datadir = flags.datadir;
  if (datadir === undefined) {
    const found = await datadirFromOptionFiles({
      defaultsFile: flags.defaultsFile,
      extraFile: flags.defaultsExtraFile,
      noDefaults: !flags.defaults,
    });
    datadir = found.datadir;
    say(`datadir ${datadir} (from ${found.source})`);
  }
  await checkDatadir(datadir);

  let owner: FileOwner | undefined;
  if (flags.uid !== undefined) {
    if (runningAsRoot()) owner = await resolveOwner(flags.uid);
    else say(`--uid ${flags.uid} ignored: only root can give files away`);
  }
  const suffix = flags.suffix ?? (await versionLookup) ?? FALLBACK_SUFFIX;
  const audit = await standaloneAudit('setup', flags.check);

  const report = await runSetup(
    {
      datadir,
      suffix,
      sans: flags.san,
      days: Number(flags.days),
      keySize,
      keyType,
      keyFormat: flags.keyFormat,
      owner,
      check: flags.check,
    },
    (e) => {
      if (e.type === 'written') {
        const { path, kind, mode: fileMode, certificate: c } = e.file;
        audit.record('setup-written', {
          file: path,
          kind,
          mode: fileMode,
          ...(c
            ? { serial: c.serial, fingerprint256: c.fingerprint256, subject: c.subject, notAfter: c.notAfter }
            : {}),
        });
      }
      say(setupEventLine(e));
    },
  );
  printSetupReport(report, mode, Boolean(flags.check), say);
  return 0;
}
