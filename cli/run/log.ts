// The work of `dbtls log` (spec: cli/commands/log.ts): reads the audit trail, answers from it.
import { auditLogPath, readAuditLog, type AuditLogContents } from '../../lib/audit/audit-log.js';
import { filterRecords, servedAt } from '../../lib/audit/query.js';
import { usageError } from '../../lib/errors.js';
import type { LogFlags } from '../commands/log.js';
import { loadCluster } from '../inventory-options.js';
import { outputMode, printJson } from '../ui/mode.js';
import { printLogRecords, printServed, printTorn } from '../ui/log-report.js';

export async function log(flags: LogFlags): Promise<number> {
  const targets = [flags.inventory, flags.pki, flags.file].filter((x) => x !== undefined).length;
  if (targets !== 1)
    throw usageError('log-target', 'give the inventory (-i), the PKI folder (--pki) or the log (--file), one of them');
  if (flags.at && flags.node === undefined)
    throw usageError('at-needs-node', '--at answers for one node: give --node too');
  const path = await logPath(flags);
  const json = outputMode(flags.json) === 'json';
  const contents = await readIfThere(path);
  if (!json) printTorn(contents);
  if (flags.at) {
    const answer = servedAt(contents.records, flags.node!, flags.at);
    if (json) printJson({ ok: true, file: path, ...answer, torn: contents.torn });
    else printServed(answer, contents.missing);
    return answer.installed || answer.serving ? 0 : 1;
  }
  const records = filterRecords(contents.records, {
    ...(flags.node !== undefined ? { node: flags.node } : {}),
    ...(flags.serial !== undefined ? { serial: flags.serial } : {}),
    ...(flags.since ? { since: flags.since } : {}),
  });
  if (json) printJson({ ok: true, file: path, records, torn: contents.torn });
  else printLogRecords(records, contents.missing);
  return records.length ? 0 : 1;
}

async function logPath(flags: LogFlags): Promise<string> {
  if (flags.file !== undefined) return flags.file;
  if (flags.pki !== undefined) return auditLogPath(flags.pki);
  const cluster = await loadCluster({ inventory: flags.inventory!, cluster: flags.cluster, roleMap: [] });
  return auditLogPath(cluster.pki);
}

/** The log, or (nothing recorded yet) an empty one that says so. */
async function readIfThere(path: string): Promise<AuditLogContents & { missing?: string }> {
  try {
    return await readAuditLog(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return { path, records: [], torn: [], missing: path };
  }
}
