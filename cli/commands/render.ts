// `dbtls render -i INVENTORY`: the TLS config each node's products need, and each client's settings.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { collect } from '../options.js';
import { run } from '../run.js';

export interface RenderFlags extends InventoryFlags {
  out?: string;
  templates?: string;
  node: string[];
  check?: boolean;
  json?: boolean;
}

export function registerRender(program: Command): void {
  const cmd = program
    .command('render')
    .summary('write the TLS config each node needs (my.cnf, TiDB toml, ProxySQL, Tungsten INI) and client settings')
    .description(
      'Renders, for each node, the files its roles need, with the paths its certificates will have on the ' +
        'node after the push: my.cnf, client.cnf, users.sql, replication.sql (MySQL, Percona, MariaDB), ' +
        'tidb.toml, pd.toml, tikv.toml, proxysql.cnf and proxysql-admin.sql, tungsten.ini; and for each ' +
        'client client.cnf, Connector/J properties and URLs, a Go DSN note, a Node mysql2 and a PHP snippet. ' +
        'Run `dbtls issue` first. Deterministic: a re-run writes nothing.',
    );
  addInventoryOptions(cmd)
    .option('--out <dir>', 'output folder (default: <pki>/rendered)')
    .option(
      '--templates <dir>',
      'your templates, searched before the built-in ones by relative path (e.g. mysql/my.cnf)',
    )
    .option(
      '--node <name>',
      'only this node (repeatable; clients are rendered only without --node)',
      collect,
      [] as string[],
    )
    .option('--check', 'write nothing: show how the files on disk differ from what would be written; exit 1 if they do')
    .option('--json', 'print a JSON report')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls render -i cluster.yml', "every node's and client's files under <pki>/rendered"],
          ['dbtls render -i cluster.yml --check', 'are the rendered files up to date? (for CI and Ansible check mode)'],
          ['dbtls render -i cluster.yml --templates ./my-templates', 'with your own copy of, say, mysql/my.cnf'],
        ],
        exitCodes: [
          [0, 'rendered (or, with --check, everything up to date)'],
          [1, 'with --check: some file differs or is missing; otherwise the work failed'],
          [
            2,
            'usage or input error (inventory problems, nothing issued yet, a --templates folder that is not there, a template error with its file and line)',
          ],
        ],
      }),
    )
    .action((flags: RenderFlags) => run('render', flags));
}
