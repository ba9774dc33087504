// HOST[:PORT] as people type it for a MySQL server: "db1", "db1:3307", "10.0.0.5:6033",
// "[::1]:4000" and a bare "::1" (an IPv6 address with no brackets cannot carry a port).
import { isIP } from 'node:net';
import { usageError } from '../errors.js';

export interface ProbeTarget {
  host: string;
  port: number;
}

export const MYSQL_DEFAULT_PORT = 3306;

// Letters, digits, '-', '_' (container and Docker Compose names), dots between labels.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

export function parseTarget(text: string, defaultPort = MYSQL_DEFAULT_PORT): ProbeTarget {
  const bad = (why: string) =>
    usageError('bad-target', `"${text}" is not HOST[:PORT]: ${why}`, 'e.g. db1, db1:3307, 10.0.0.5:6033, [::1]:4000');
  const s = text.trim();
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
    if (!m) throw bad('unbalanced brackets');
    host = m[1]!;
    portText = m[2];
    if (isIP(host) !== 6) throw bad('brackets hold an IPv6 address');
  } else if (s.split(':').length > 2) {
    host = s;
    if (isIP(host) !== 6) throw bad('not an IPv6 address; write [ADDRESS]:PORT to give one a port');
  } else {
    const i = s.indexOf(':');
    host = i < 0 ? s : s.slice(0, i);
    portText = i < 0 ? undefined : s.slice(i + 1);
    if (!host) throw bad('no host');
    if (!isIP(host) && !HOSTNAME.test(host)) throw bad('the host is neither a name nor an IP address');
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      throw bad(`port "${portText}" is not 1-65535`);
    port = Number(portText);
  }
  return { host, port };
}

/** "db1:3306", "[::1]:3306": the form error messages use. */
export function formatTarget(t: ProbeTarget): string {
  return isIP(t.host) === 6 ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}
