// The work of `dbtls exporter` (spec: cli/commands/exporter.ts): start it, say where, run until
// SIGINT or SIGTERM, then stop taking scrapes and close.
import { isIP } from 'node:net';
import { usageError, inputError } from '../../lib/errors.js';
import { parseDuration } from '../../lib/check/duration.js';
import { startExporter } from '../../lib/exporter/server.js';
import { loadCluster } from '../inventory-options.js';
import { VERSION } from '../version.js';
import type { ExporterFlags } from '../commands/exporter.js';

export async function exporter(flags: ExporterFlags): Promise<number> {
  const listen = parseListen(flags.listen);
  if (flags.inventory === undefined && flags.anyTarget)
    throw usageError('bad-option', '--any-target goes with -i: without an inventory every target is probed already');
  const inventory = flags.inventory;
  // Before the address is announced: a SIGTERM from whoever read it must find its handler in place.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const log = (line: string) => process.stderr.write(`dbtls exporter: ${line}\n`);
  let running;
  try {
    running = await startExporter({
      ...listen,
      ...(inventory !== undefined
        ? { loadCluster: () => loadCluster({ inventory, cluster: flags.cluster, roleMap: flags.roleMap }) }
        : {}),
      ...(flags.ca !== undefined ? { caFile: flags.ca } : {}),
      anyTarget: Boolean(flags.anyTarget),
      concurrency: flags.concurrency,
      queue: flags.queue,
      cacheMs: flags.cache * 1000,
      probeTimeoutMs: flags.probeTimeout * 1000,
      withinMs: parseDuration(flags.within),
      checkEveryMs: flags.checkEvery * 1000,
      version: VERSION,
      log,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw inputError(
        'listen-failed',
        `cannot listen on ${flags.listen}: ${code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : 'not an address of this host'}`,
      );
    throw e;
  }
  log(`listening on ${running.url} (/metrics, /probe?target=HOST:PORT&module=mysql|tls)`);
  await stopped;
  log('stopping');
  await running.close();
  log('stopped');
  return 0;
}

/**
 * HOST:PORT, HOST an IP address ([::1] in brackets) or localhost: a name that resolves elsewhere is
 * not where to listen. Port 0 takes a free one (the log line says which).
 */
function parseListen(text: string): { host: string; port: number } {
  const bad = (why: string) =>
    usageError('bad-listen', `--listen "${text}" ${why}`, 'e.g. 127.0.0.1:9219, [::1]:9219, 0.0.0.0:9219');
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw bad('is not HOST:PORT');
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535) throw bad('has a port above 65535');
  if (m[1] !== undefined ? isIP(host) !== 6 : !isIP(host) && host !== 'localhost')
    throw bad('must name an IP address or localhost');
  return { host, port };
}
