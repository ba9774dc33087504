// Asking before a command changes a live cluster: on a terminal a yes/no prompt (default no);
// without one, --yes is required, so cron and Ansible never hang on a question nobody sees.
import { usageError } from '../../lib/errors.js';

export async function confirm(flags: { yes?: boolean }, question: string): Promise<void> {
  if (flags.yes) return;
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw usageError('needs-yes', `${question}: pass --yes to go ahead without a terminal`);
  // The prompt library loads only when there is someone to ask.
  const { confirm: ask } = await import('@inquirer/prompts');
  if (!(await ask({ message: `${question}?`, default: false }))) throw usageError('declined', 'nothing was changed');
}
