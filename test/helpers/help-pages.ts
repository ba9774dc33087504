// Walking the CLI's help: the subcommands a help page lists, so tests find every command from the
// program's own lists rather than a hand-kept one.

/** The subcommand names a help page lists under "Commands:" (without commander's own `help`). */
export function subcommands(help: string): string[] {
  const section = /\nCommands:\n([\s\S]*?)(?:\n\n|$)/.exec(help)?.[1] ?? '';
  return section
    .split('\n')
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => l.trim().split(/\s+/)[0]!.split('|')[0]!)
    .filter((name) => name !== 'help');
}
