// `dbtls exporter [--listen 127.0.0.1:9219] [-i INVENTORY]`: Prometheus scrapes it, blackbox style.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { collect, count, duration, seconds } from '../options.js';
import { run } from '../run.js';

export interface ExporterFlags {
  listen: string;
  inventory?: string;
  cluster?: string;
  roleMap: string[];
  ca?: string;
  anyTarget?: boolean;
  concurrency: number;
  queue: number;
  /** seconds */
  cache: number;
  /** seconds */
  probeTimeout: number;
  within: string;
  /** seconds */
  checkEvery: number;
}

export function registerExporter(program: Command): void {
  program
    .command('exporter')
    .summary('a Prometheus exporter: what each server serves (/probe) and the PKI (/metrics)')
    .description(
      'An HTTP exporter in the style of blackbox_exporter. /probe?target=HOST:PORT&module=mysql probes a ' +
        "server when Prometheus scrapes it, as `dbtls probe` does (module tls: TLS from the first byte, Galera's " +
        'group channel): success, TLS version, the served serial and expiry, and with -i whether it serves the ' +
        "manifest's certificate. At most --concurrency probes run at once, --queue more wait, scrapes of one " +
        'target share a probe, results are reused for --cache seconds, and every answer comes within the ' +
        "scrape's timeout (Prometheus's X-Prometheus-Scrape-Timeout-Seconds, less half a second).\n" +
        '\n' +
        "/metrics: with -i, the PKI directory's certificates as `check --prometheus` writes them (re-checked at " +
        "most every --check-every seconds), and the exporter's own counters. With -i, targets are the " +
        "inventory's nodes, by name (target=db1) or HOST:PORT; --any-target lifts that. It listens on loopback " +
        'unless --listen says otherwise, needs no passphrase and shows no secret.',
    )
    .option('--listen <host:port>', 'the address to listen on', '127.0.0.1:9219')
    .option('-i, --inventory <file>', "the inventory: its nodes are the targets, its PKI directory's CA the trust")
    .option('--cluster <name>', 'cluster name for an Ansible inventory (default: from its file name)')
    .option('--role-map <group=role,…>', 'map an Ansible group to dbtls roles (repeatable)', collect, [] as string[])
    .option('--ca <file>', "without -i: the CA file probes verify against (default: the system's root CAs)")
    .option('--any-target', 'with -i: probe targets that are not nodes of the inventory too')
    .option('--concurrency <n>', 'probes at once (connections to servers, all together)', count(1, 256), 8)
    .option('--queue <n>', 'scrapes that may wait for a probe slot; more are answered busy', count(0, 10000), 64)
    .option('--cache <seconds>', "reuse a target's result this long", seconds(3600), 10)
    .option(
      '--probe-timeout <seconds>',
      "the most a probe may take (the scrape's timeout may shorten it)",
      seconds(600),
      5,
    )
    .option('--within <duration>', "/metrics: the check's expiry window (30d, 12h, 2w)", duration, '30d')
    .option('--check-every <seconds>', '/metrics: re-check the PKI directory at most this often', seconds(86400), 30)
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls exporter -i cluster.yml', 'on 127.0.0.1:9219; scrape /metrics and /probe?target=db1'],
          [
            'curl -s "127.0.0.1:9219/probe?target=db1.example.com:3306&module=mysql"',
            'what one server serves, as Prometheus sees it',
          ],
          ['dbtls exporter --listen [::1]:9219 --ca /etc/mysql/ca.pem', 'no inventory: any target, this CA'],
          ['dbtls exporter -i cluster.yml --concurrency 4 --cache 30', 'gentler on the servers'],
        ],
        exitCodes: [
          [0, 'stopped by SIGINT or SIGTERM'],
          [2, 'usage or input error: a bad --listen, the address in use, an inventory problem'],
        ],
      }),
    )
    .action((flags: ExporterFlags) => run('exporter', flags));
}
