// How a command shows its work: a live task tree on a terminal, plain lines for cron, CI and pipes,
// nothing but the final JSON with --json. Every renderer in cli/ui takes one of these.
export type OutputMode = 'tty' | 'plain' | 'json';

export function outputMode(json: boolean | undefined): OutputMode {
  if (json) return 'json';
  return process.stdout.isTTY && !process.env.CI ? 'tty' : 'plain';
}

export { plural } from '../../lib/text/plural.js';

/** What --json prints: one document, indented, with its newline. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
