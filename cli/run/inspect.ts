// The work of `dbtls inspect` (spec: cli/commands/inspect.ts). Every file is described even when
// another fails; the exit status is the worst one.
import { describeFile, loadMatchKey, loadRoots, type FileDescription } from '../../lib/pki/inspect-file.js';
import { storepassFromSources } from '../../lib/keystore/passwords.js';
import type { InspectFlags } from '../commands/inspect.js';
import { storepassFlags } from '../secrets.js';
import { inspectPrinter } from '../ui/inspect-report.js';
import { outputMode } from '../ui/mode.js';

export async function inspect(files: string[], flags: InspectFlags): Promise<number> {
  const opts = {
    now: new Date(),
    storepass: await storepassFromSources(await storepassFlags(flags)),
    roots: flags.ca === undefined ? undefined : await loadRoots(flags.ca),
    key: flags.key === undefined ? undefined : await loadMatchKey(flags.key),
  };
  const results = await Promise.allSettled(files.map((f) => describeFile(f, opts)));
  const printer = inspectPrinter(outputMode(flags.json), flags.key);
  let status = 0;
  results.forEach((r, i) => {
    const file = files[i]!;
    if (r.status === 'fulfilled') {
      if (failedChecks(r.value)) status = Math.max(status, 1);
      printer.described(file, r.value);
    } else status = Math.max(status, printer.failed(file, r.reason));
  });
  printer.end();
  return status;
}

/** A --ca chain or a --key match that did not hold: exit 1. */
function failedChecks(d: FileDescription): boolean {
  return d.objects.some((o) => o.kind === 'certificate' && (o.chain?.ok === false || o.keyMatches === false));
}
