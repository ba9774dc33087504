// The load loop every live rotation test runs against the replicating pair: the `app` client's files
// as dbtls keeps them (its trust follows the rotation), verified connections to both nodes, writes on
// the primary. Stopped by the scope if the test does not stop it first.
import { startLoadLoop, type LoadLoop } from './load-loop.js';
import type { Scope } from './scope.js';
import type { TlsCluster } from './tls-cluster.js';

export function startAppLoop(scope: Scope, c: TlsCluster, maxMs = 300_000): LoadLoop {
  const loop = startLoadLoop({
    targets: c.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    files: c.appFiles,
    write: { host: '127.0.0.1', port: c.primary.port, table: c.table },
    maxMs,
  });
  scope.after(() => loop.stop());
  return loop;
}
