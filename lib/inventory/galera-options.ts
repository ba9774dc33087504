// A Galera node's `providerOptions`: the rest of its wsrep_provider_options string, as the operator
// has it today ("gcache.size=1G; gmcast.segment=1"). Galera reads only the last wsrep_provider_options
// line, so dbtls renders one line holding these and its own socket.ssl_* — which is why the TLS keys
// are refused here, and why every value must survive both the option file (a double-quoted value)
// and Galera's own split on ";" and "=".
import { quoteValue } from '../errors.js';
import type { Rule } from './rules.js';

/** The provider options dbtls writes itself (from the node's certificate files) or runs (the reload). */
export const DBTLS_PROVIDER_OPTIONS = [
  'socket.ssl',
  'socket.ssl_cert',
  'socket.ssl_key',
  'socket.ssl_ca',
  'socket.ssl_reload',
];

const KEY = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/i;

/** The options in order, or what is wrong with them. */
export function parseProviderOptions(text: string): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const raw of text.split(';')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return `${quoteValue(item)} is not key=value`;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (!KEY.test(key)) return `${quoteValue(key)} is not a provider option name (like gcache.size)`;
    if (DBTLS_PROVIDER_OPTIONS.includes(key.toLowerCase()))
      return `${key} is set by dbtls from the node's certificate files; leave it out`;
    if (seen.has(key.toLowerCase())) return `${key} is given twice`;
    seen.add(key.toLowerCase());
    if (value === '') return `${key} has no value`;
    // '"' and '\' would end or escape the option file's quoted value; '=' would split Galera's pair.
    const bad = [...value].find((c) => /["\\=#\x00-\x1f\x7f]/.test(c));
    if (bad !== undefined)
      return `the value of ${key} holds ${JSON.stringify(bad)}, which the rendered line cannot carry`;
    out.push([key, value]);
  }
  return out;
}

export const providerOptions: Rule<string> = (s) => {
  if (s.length > 4096) return 'is longer than 4096 characters';
  const r = parseProviderOptions(s);
  return typeof r === 'string' ? r : undefined;
};

/** The port of gmcast.listen_addr (tcp://host:port or ssl://host:port), when the options give one. */
export function listenPort(options: Array<[string, string]>): number | undefined {
  const addr = options.find(([k]) => k.toLowerCase() === 'gmcast.listen_addr')?.[1];
  const m = addr ? /:(\d{1,5})$/.exec(addr) : null;
  if (m) return Number(m[1]);
  const base = options.find(([k]) => k.toLowerCase() === 'base_port')?.[1];
  return base && /^\d{1,5}$/.test(base) ? Number(base) : undefined;
}
