// The work of `dbtls setup` (spec: cli/commands/setup.ts).
import { usageError } from '../../lib/errors.js';
import { isRsaKeySize } from '../../lib/pki/keys.js';
import { datadirFromOptionFiles } from '../../lib/setup/datadir.js';
import { FALLBACK_SUFFIX, localServerVersion } from '../../lib/setup/local-server.js';
import { resolveOwner, runningAsRoot } from '../../lib/setup/owner.js';
import { checkDatadir, checkSuffix, runSetup } from '../../lib/setup/setup.js';
import type { FileOwner } from '../../lib/store/atomic-write.js';
import type { SetupFlags } from '../commands/setup.js';
import { outputMode } from '../ui/mode.js';
import { printSetupReport, setupEventLine, verboseLines } from '../ui/setup-report.js';

export async function setup(flags: SetupFlags): Promise<number> {
  // mysql_ssl_rsa_setup's own options take strings; these two are checked here, with its messages.
  const keySize = Number(flags.keySize);
  if (!isRsaKeySize(keySize))
    throw usageError('bad-key-size', `--key-size must be 2048, 3072 or 4096, got "${flags.keySize}"`);
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

  const report = await runSetup(
    {
      datadir,
      suffix,
      sans: flags.san,
      days: Number(flags.days),
      keySize,
      keyFormat: flags.keyFormat,
      owner,
      check: flags.check,
    },
    (e) => say(setupEventLine(e)),
  );
  printSetupReport(report, mode, Boolean(flags.check), say);
  return 0;
}
