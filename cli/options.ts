// Option parsers that validate while commander parses (argParser): a bad value is a usage error,
// exit 2, before any work starts, and commander names the option and the value once:
//   error: option '--retries <n>' argument '1000' is invalid. It must be a whole number from 0 to 100.
// Defaults are given to commander as numbers, so help shows `(default: 0.3)`, not `(default: "0.3")`.
import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../lib/check/duration.js';

/** A number of seconds above 0 and at most `max` (decimals allowed: 0.3); the value is in seconds. */
export function seconds(max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n > 0 && n <= max))
      throw new InvalidArgumentError(`It must be a number of seconds above 0 (at most ${max}).`);
    return n;
  };
}

/** A whole number from min to max. */
export function count(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`It must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** A window like 30d, 12h, 2w or a bare number of days (lib/check/duration.ts); kept as written, for messages. */
export function duration(value: string): string {
  try {
    parseDuration(value);
  } catch {
    throw new InvalidArgumentError('It must be a number with an optional unit s, m, h, d or w (e.g. 30d).');
  }
  return value;
}

/** Repeatable options: each use adds one value. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Help headings, so a long list of options reads in groups (commander's optionsGroup). */
export const GROUP = {
  inventory: 'Inventory options:',
  transport: 'Transport options (SSH, local):',
  secrets: 'Secrets:',
  output: 'Output:',
} as const;

/** Adds options under one help heading, then restores the heading that was in force before. */
export function inGroup(cmd: Command, heading: string, add: (cmd: Command) => Command): Command {
  const before = cmd.optionsGroup();
  cmd.optionsGroup(heading);
  add(cmd);
  return cmd.optionsGroup(before);
}
