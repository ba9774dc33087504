// Foreign text in a line the CLI lays out itself: each part between the CLI's own two-space
// separators is sanitized (lib/text/sanitize.ts: no escapes or control characters, one line,
// bounded), so the layout stays as written and nothing from outside can change the terminal.
import { sanitizeForTerminal } from '../lib/text/sanitize.js';

export function terminalText(text: string, max = 500): string {
  return text
    .split('  ')
    .map((part) => sanitizeForTerminal(part, max))
    .join('  ');
}
