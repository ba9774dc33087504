// Every command's help ends with EXAMPLES and EXIT CODES, so people and scripts know what to expect.

export interface HelpSections {
  examples: Array<[command: string, what: string]>;
  exitCodes: Array<[code: number, meaning: string]>;
}

export function helpSections({ examples, exitCodes }: HelpSections): string {
  const ex = examples.map(([cmd, what]) => `  # ${what}\n  $ ${cmd}`).join('\n\n');
  const codes = exitCodes.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n');
  return `\nEXAMPLES\n${ex}\n\nEXIT CODES\n${codes}`; // commander adds the last newline
}

export const COMMON_EXIT_CODES: HelpSections['exitCodes'] = [
  [0, 'success'],
  [1, 'the work failed (I/O, crypto, another run holds the lock)'],
  [2, 'usage or input error; nothing was written'],
];
