// The work of `dbtls probe` (spec: cli/commands/probe.ts).
import { DbtlsError, inputError } from '../../lib/errors.js';
import { probe as probeServer } from '../../lib/probe/probe.js';
import { parseTarget } from '../../lib/probe/target.js';
import type { ProbeFlags } from '../commands/probe.js';
import { readInputFile } from '../input-files.js';
import { outputMode } from '../ui/mode.js';
import { printProbeReport } from '../ui/probe-report.js';

export async function probe(targetText: string, flags: ProbeFlags): Promise<number> {
  const target = parseTarget(targetText);
  const ca = flags.ca === undefined ? undefined : await readInputFile('--ca', flags.ca);
  const result = await probeServer(target, {
    ca,
    servername: flags.servername,
    timeoutMs: Math.round(flags.timeout * 1000),
  }).catch((e: unknown) => {
    // The library does not know the bundle's file name; the user needs it.
    if (e instanceof DbtlsError && e.code === 'probe-bad-ca')
      throw inputError(e.code, `--ca ${flags.ca}: ${e.message}`, { file: flags.ca });
    throw e;
  });
  printProbeReport(result, outputMode(flags.json), flags.ca ?? 'the system root CAs');
  return result.ok ? 0 : 1;
}
