// What a `/probe?target=…&module=…` scrape asks for, checked before anything connects: a module the
// exporter has, a target that parses, and — with an inventory — a target that is one of its nodes
// (by name, or by host and port), unless the exporter was told to probe any target. A target an
// inventory node owns is judged against the manifest too.
import { DbtlsError } from '../errors.js';
import type { Cluster, NodeSpec } from '../inventory/model.js';
import { probesSql } from '../check/live.js';
import { formatTarget, parseTarget, type ProbeTarget } from '../probe/target.js';

/** mysql: the MySQL protocol's TLS upgrade (SQL ports); tls: TLS from the first byte (Galera gcomm, stunnel). */
export const PROBE_MODULES = ['mysql', 'tls'] as const;
export type ProbeModule = (typeof PROBE_MODULES)[number];

export interface ProbeRequest {
  target: ProbeTarget;
  module: ProbeModule;
  /** The inventory node whose port this is. */
  node?: NodeSpec;
  /** The cache key: module and target, as probed. */
  key: string;
}

/** A request the exporter will not probe; `status` is the HTTP status to answer with. */
export class RequestError extends Error {
  constructor(
    readonly status: 400 | 403,
    message: string,
  ) {
    super(message);
  }
}

const MAX_TARGET = 300;

export function probeRequest(params: URLSearchParams, cluster: Cluster | undefined, anyTarget: boolean): ProbeRequest {
  const text = params.get('target');
  if (!text) throw new RequestError(400, 'the target parameter is missing (target=HOST:PORT or a node name)');
  if (text.length > MAX_TARGET) throw new RequestError(400, `the target is longer than ${MAX_TARGET} characters`);
  const moduleText = params.get('module') ?? 'mysql';
  if (!(PROBE_MODULES as readonly string[]).includes(moduleText))
    throw new RequestError(400, `unknown module "${moduleText.slice(0, 40)}": ${PROBE_MODULES.join(' or ')}`);
  const module = moduleText as ProbeModule;

  const named = cluster?.nodes.find((n) => n.name === text);
  let target: ProbeTarget;
  let node: NodeSpec | undefined;
  if (named) {
    node = named;
    const port = module === 'tls' ? named.galera?.port : named.port;
    if (port === undefined) throw new RequestError(400, `node ${named.name} has no TLS-from-the-first-byte port`);
    target = { host: named.host, port };
  } else {
    try {
      target = parseTarget(text);
    } catch (e) {
      throw new RequestError(400, e instanceof DbtlsError ? e.message : String(e));
    }
    node = cluster?.nodes.find((n) => n.host === target.host && portsOf(n).includes(target.port));
  }
  if (node && module === 'mysql' && !probesSql(node))
    throw new RequestError(400, `node ${node.name} (${node.roles.join(', ')}) has no MySQL-protocol port`);
  if (cluster && !node && !anyTarget)
    throw new RequestError(
      403,
      `${formatTarget(target)} is not a node of the inventory (start the exporter with --any-target to probe others)`,
    );
  return { target, module, ...(node ? { node } : {}), key: `${module} ${formatTarget(target)}` };
}

function portsOf(n: NodeSpec): number[] {
  return n.galera ? [n.port, n.galera.port] : [n.port];
}
