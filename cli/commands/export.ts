// `dbtls export ansible -i INVENTORY --out DIR`: a playbook that distributes the certificates with
// Ansible's own copy module, for fleets that push everything through Ansible.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { run } from '../run.js';

export interface ExportAnsibleFlags extends InventoryFlags {
  out: string;
  force?: boolean;
  check?: boolean;
  json?: boolean;
  hostsFromInventory?: boolean;
  knownHosts?: string;
}

export function registerExport(program: Command): void {
  const exp = program
    .command('export')
    .summary('hand the delivery to another tool: `dbtls export ansible`')
    .description('Writes what another tool needs to deliver the certificates dbtls issued and rendered.')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          [
            'dbtls export ansible -i cluster.yml --out ansible-tls',
            'a playbook that delivers the issued files with Ansible',
          ],
          ['dbtls export ansible -i cluster.yml --out ansible-tls --check', 'whether an earlier export is up to date'],
        ],
        exitCodes: [
          [0, 'written, or already up to date (with --check: nothing written)'],
          [1, 'the folder could not be written'],
          [2, 'usage or input error; nothing was written'],
        ],
      }),
    );

  addInventoryOptions(
    exp
      .command('ansible')
      .summary("a playbook + files that deliver the certificates with Ansible's copy module")
      .description(
        'Writes --out DIR: files/<node>/… (exactly what `dbtls push` delivers: same ' +
          'paths on the node, modes, owner and group), dbtls-nodes.yml listing them, ' +
          'playbook.yml (copy with mode, owner/group, backup, and an openssl check of ' +
          "each certificate and key on the node; a handler runs the node's TLS reload " +
          "only when one of its files changed) and hosts.yml from the inventory's ssh " +
          'settings. DIR is built under a temporary name, then renamed into place; ' +
          'keys are 0600 from their first byte. Run `dbtls issue` and `dbtls render` ' +
          'first (or `dbtls apply`). See docs/ansible.md.',
      ),
  )
    .requiredOption('--out <dir>', 'the folder to write (new or empty; an earlier export with --force)')
    .option('--force', 'replace an earlier, different export in --out')
    .option('--check', 'write nothing: report whether --out would change')
    .option('--json', 'print a JSON report: { ok, changed, out, files }')
    .option(
      '--hosts-from-inventory',
      'write no hosts.yml: run the playbook with your own Ansible inventory (same host names)',
    )
    .option(
      '--known-hosts <file>',
      "known_hosts file for every node in hosts.yml (default: each node's ssh.knownHostsFile)",
    )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          [
            'dbtls export ansible -i cluster.yml --out ansible-tls',
            'then: cd ansible-tls && ansible-playbook -i hosts.yml playbook.yml',
          ],
          [
            'dbtls export ansible -i hosts.ini --out ansible-tls --hosts-from-inventory',
            'an Ansible inventory: reuse it to run the playbook',
          ],
          [
            'dbtls export ansible -i cluster.yml --out ansible-tls --force --json',
            'refresh an earlier export after `dbtls apply`',
          ],
        ],
        exitCodes: [
          [0, 'written, or already up to date (with --check: nothing written)'],
          [1, 'the folder could not be written'],
          [
            2,
            'usage or input error (inventory problems, nothing issued yet, --out not empty or a different export without --force); nothing was written',
          ],
        ],
      }),
    )
    .action((flags: ExportAnsibleFlags) => run('export ansible', flags));
}
