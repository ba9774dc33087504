// The work of `dbtls probe` (spec: cli/commands/probe.ts).
import { DbtlsError, inputError, usageError } from '../../lib/errors.js';
import { probe as probeServer, probeDirect, type DirectProbeResult } from '../../lib/probe/probe.js';
import { parseTarget } from '../../lib/probe/target.js';
import type { ProbeFlags } from '../commands/probe.js';
import { readInputFile } from '../input-files.js';
import { outputMode } from '../ui/mode.js';
import { printProbeReport } from '../ui/probe-report.js';

export async function probe(targetText: string, flags: ProbeFlags): Promise<number> {
  const target = parseTarget(targetText);
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw usageError('bad-option', '--cert and --key go together');
  if (flags.cert !== undefined && !flags.direct)
    throw usageError('bad-option', '--cert and --key are for --direct (a MySQL-protocol probe logs in as nobody)');
  const ca = flags.ca === undefined ? undefined : await readInputFile('--ca', flags.ca);
  const identity =
    flags.cert !== undefined && flags.key !== undefined
      ? { cert: await readInputFile('--cert', flags.cert), key: await readInputFile('--key', flags.key) }
      : {};
  const common = { ca, servername: flags.servername, timeoutMs: Math.round(flags.timeout * 1000) };
  const work: Promise<DirectProbeResult> = flags.direct
    ? probeDirect(target, { ...common, ...identity })
    : probeServer(target, common);
  const result = await work.catch((e: unknown) => {
    // The library does not know the bundle's file name; the user needs it.
    if (e instanceof DbtlsError && e.code === 'probe-bad-ca')
      throw inputError(e.code, `--ca ${flags.ca}: ${e.message}`, { file: flags.ca });
    throw e;
  });
  printProbeReport(result, outputMode(flags.json), flags.ca ?? 'the system root CAs');
  return result.ok ? 0 : 1;
}
