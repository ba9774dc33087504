// When the job runs: --at HH:MM (local time of the controller, as cron and systemd timers use) and
// the spread a systemd timer adds, written the way systemd.time(7) reads time spans.
import { usageError } from '../errors.js';

export interface TimeOfDay {
  hour: number;
  minute: number;
}

/** Off the hour, so that a fleet of controllers does not start at the same second. */
export const DEFAULT_AT = '03:17';

export function parseAt(text: string): TimeOfDay {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const hour = m ? Number(m[1]) : NaN;
  const minute = m ? Number(m[2]) : NaN;
  if (!(hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59)) {
    throw usageError('bad-at', `--at "${text}" must be a time of day HH:MM from 00:00 to 23:59 (e.g. 03:17)`);
  }
  return { hour, minute };
}

const pad = (n: number) => String(n).padStart(2, '0');

export function formatAt(t: TimeOfDay): string {
  return `${pad(t.hour)}:${pad(t.minute)}`;
}

/** A duration in whole seconds as systemd writes it: "15min", "2h", "1d", "90s". */
export function systemdTimespan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s === 0) return '0';
  if (s % 86_400 === 0) return `${s / 86_400}d`;
  if (s % 3_600 === 0) return `${s / 3_600}h`;
  if (s % 60 === 0) return `${s / 60}min`;
  return `${s}s`;
}
