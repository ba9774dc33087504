// Windows like "30d", "12h", "2w" or a bare number of days, as `--within` takes them.
import { usageError } from '../errors.js';
import { DAY_MS } from '../pki/validity.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

export function parseDuration(text: string, flag = '--within'): number {
  const m = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!m)
    throw usageError(
      'bad-duration',
      `${flag} "${text}" must be a number with an optional unit s, m, h, d or w (e.g. 30d)`,
    );
  return Number(m[1]) * UNIT_MS[m[2] || 'd']!;
}
