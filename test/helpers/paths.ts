// Where things are, seen from a compiled test in dist/test/**.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The repository root (the folder holding package.json). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The compiled CLI entry point. */
export const cliPath = resolve(repoRoot, 'dist/cli/main.js');
