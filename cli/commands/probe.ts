// `dbtls probe HOST[:PORT]`: what a MySQL-protocol server serves on its SQL port, and whether a
// client that checks would accept it. `openssl s_client -starttls mysql`, with a verdict.
import type { Command } from 'commander';
import { seconds } from '../options.js';
import { helpSections } from '../help.js';
import { run } from '../run.js';

export interface ProbeFlags {
  ca?: string;
  direct?: boolean;
  cert?: string;
  key?: string;
  servername?: string;
  json?: boolean;
  /** seconds */
  timeout: number;
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .summary('show the certificate a MySQL-protocol server serves, and whether it verifies against a CA and name')
    .description(
      'Connects to HOST[:PORT] (default port 3306) as a MySQL client does: reads the ' +
        'server greeting, sends an SSLRequest and does the TLS handshake on the same ' +
        'connection (what `openssl s_client -starttls mysql` does), then hangs up ' +
        'before logging in. Works for MySQL, MariaDB, Percona, TiDB and ProxySQL ' +
        'frontends: they all send the same greeting.\n' +
        '\n' +
        'Shows the served chain (subject, issuer, SANs, serial, validity, SHA-256 ' +
        'fingerprint), the server version, TLS version and cipher, and two verdicts: ' +
        'the chain against the CA (--ca: a PEM file that may hold several CAs, e.g. ' +
        "old and new during a CA rotation; default the system's root CAs), and the " +
        'certificate against the name (--servername, default HOST; an IP address is ' +
        'checked against the IP SANs). HOST: a name, an IPv4 address, ::1, [::1]:PORT.\n' +
        '\n' +
        "--direct: the port speaks TLS from its first byte, as Galera's group channel " +
        '(gcomm, port 4567) and IST do; Galera admits only a peer with a certificate of ' +
        'its CA, so give one with --cert and --key (a client certificate of the cluster; ' +
        'under TLS 1.2 the handshake fails without one).',
    )
    .argument('<host[:port]>', 'the server: db1, db1:3307, 10.0.0.5:6033, [::1]:4000')
    .option('--ca <file>', 'PEM file of the trusted CA(s) (default: the system root CAs)')
    .option(
      '--servername <name>',
      'the name (or IP) the certificate must be made out to; sent as SNI unless an IP (default: HOST)',
    )
    .option('--direct', 'TLS from the first byte (Galera gcomm/IST), not the MySQL protocol upgrade')
    .option('--cert <file>', 'client certificate (PEM) to present, with --direct: Galera requires one')
    .option('--key <file>', 'the key of --cert (PEM)')
    .option('--timeout <seconds>', 'deadline of each step: connect, greeting, TLS handshake', seconds(3600), 10)
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          [
            'dbtls probe db1.example.com --ca pki/ca.pem',
            'what db1 serves on 3306, and would VERIFY_IDENTITY accept it?',
          ],
          [
            'dbtls probe 10.0.0.11:3306 --ca pki/ca.pem --servername db1.example.com',
            'dial the IP, check the name clients use',
          ],
          ['dbtls probe proxysql1:6033 --ca pki/ca.pem', 'a ProxySQL frontend (TiDB: port 4000)'],
          ['dbtls probe db1 --ca ca-bundle.pem --json | jq -r .leaf.serialHex', 'the served serial, for a script'],
          [
            'dbtls probe 10.0.0.11:4567 --direct --ca pki/ca.pem --cert c.pem --key k.pem',
            "a Galera node's group channel",
          ],
        ],
        exitCodes: [
          [0, 'served over TLS; the chain verifies against the CA and the certificate matches the name'],
          [
            1,
            'not verified (chain or name), or no answer: refused, timed out, not MySQL, no TLS offered, server error',
          ],
          [2, 'usage error: bad HOST[:PORT] or --timeout, --ca file unreadable or without a certificate'],
        ],
      }),
    )
    .action((target: string, flags: ProbeFlags) => run('probe', target, flags));
}
