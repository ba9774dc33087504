// `dbtls init`: the interactive bootstrap wizard (being built).
import type { Command } from 'commander';

export function registerInit(_program: Command): void {}
