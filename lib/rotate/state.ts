// Where a CA rotation stands, kept in the PKI directory (<pki>/rotation/state.json) so a rotation
// that was interrupted — killed, a node down, a failed reload — resumes at the phase it was in.
// Each phase is idempotent: running it again after an interruption only finishes it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../errors.js';

export type Phase = 1 | 2 | 3;

export const PHASES: Record<Phase, string> = {
  1: 'trust old + new CA everywhere (bundles, truststores); push; reload',
  2: 'every leaf re-issued under the new CA; push; reload; probes verify against the new CA',
  3: 'trust only the new CA; push; reload; the old CA archived',
};

export interface CaSummary {
  subject: string;
  serial: string;
  fingerprint256: string;
  notAfter: string;
}

export interface RotationState {
  version: 1;
  /** The phase to run next (done phases are below it). */
  phase: Phase;
  oldCa: CaSummary;
  newCa: CaSummary;
  startedAt: string;
  updatedAt: string;
  /** Phases finished, with when. */
  done: Array<{ phase: Phase; at: string }>;
}

export function rotationDir(pki: string): string {
  return join(pki, 'rotation');
}

export function rotationPaths(pki: string) {
  const dir = rotationDir(pki);
  return {
    dir,
    state: join(dir, 'state.json'),
    nextCa: join(dir, 'ca-next.pem'),
    nextKey: join(dir, 'ca-next-key.pem'),
  };
}

export function archiveDir(pki: string, serial: string): string {
  return join(pki, 'archive', `ca-${serial}`);
}

export async function readRotation(pki: string): Promise<RotationState | null> {
  const file = rotationPaths(pki).state;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const s = JSON.parse(text) as RotationState;
    if (s.version !== 1 || ![1, 2, 3].includes(s.phase)) throw new Error('unknown version or phase');
    return s;
  } catch (e) {
    throw inputError(
      'bad-rotation-state',
      `${file} is not a rotation state dbtls can read (${(e as Error).message})`,
      { file },
      'restore it from a backup, or inspect it before removing it',
    );
  }
}

export function serializeRotation(s: RotationState): string {
  return JSON.stringify(s, null, 2) + '\n';
}
