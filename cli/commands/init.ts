// `dbtls init`: the bootstrap wizard. Asks for the cluster (or reads every answer from --answers FILE),
// tests SSH to the nodes and offers their unknown host keys, then — only once the last question is
// answered — adds the accepted keys to known_hosts, writes the commented inventory atomically, issues
// and renders with progress, summarises what was made and where, and asks before pushing. Ctrl-C at a
// prompt exits 130 with nothing written. The work: cli/run/init.ts; the questions, their checks and
// the inventory text: lib/init/.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { run } from '../run.js';

export interface InitFlags {
  answers?: string;
  yes?: boolean;
  force?: boolean;
  localRoot: string;
}

const EXIT_CODES: Array<[number, string]> = [
  [0, 'done: inventory written, certificates issued, configs rendered (and pushed, when chosen)'],
  [
    1,
    'the work failed (a node could not be reached or failed its push, I/O), or the review was declined; the message says what was written',
  ],
  [
    2,
    'usage or input error: no terminal and no --answers, a missing or bad answer (file:line:col and key), an inventory that exists; nothing was written',
  ],
  [130, 'interrupted with Ctrl-C at a question; nothing was written'],
];

export function registerInit(program: Command): void {
  program
    .command('init')
    .summary('bootstrap a cluster: a wizard that writes the inventory, issues, renders and pushes')
    .description(
      'Asks for the cluster name, its products, the nodes (typed, pasted, or imported from an Ansible ' +
        'inventory), SSH settings, the CA and the clients; tests SSH to every node and shows each unknown ' +
        "host key's fingerprint to accept; then writes a commented inventory, issues the certificates, " +
        'renders the configs, prints what was made and where, and asks before pushing. Nothing is written ' +
        'before the last question is answered. Without a terminal, --answers FILE gives every answer.',
    )
    .option(
      '--answers <file>',
      'take the answers from this YAML file (its keys: docs/bootstrap.md); what it leaves out takes its default, and a terminal is asked only what has none',
    )
    .option(
      '-y, --yes',
      'no confirmation: write after the last answer and push at the end (never replaces an inventory, never accepts a host key)',
    )
    .option('--force', 'replace an existing inventory file without asking')
    .option('--local-root <dir>', 'where transport: local nodes receive their files (<dir>/<node>/<path>)', 'out/nodes')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls init', 'the wizard, in a terminal'],
          [
            'dbtls init --answers cluster-answers.yml --yes',
            'unattended (CI, provisioning): every answer from the file, push at the end',
          ],
          [
            'dbtls init --answers try.yml',
            'a try-out with transport: local; push: false in the file stops before pushing',
          ],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: InitFlags) => run('init', flags));
}
