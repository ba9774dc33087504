// How long a certificate lasts: one rule for the CA, every leaf and setup's certificates. Kept apart
// from certificate.ts (node-forge) so planning and checking load no heavy module.

/** Certificates start a little in the past so that a node whose clock lags still accepts them. */
export const BACKDATE_SECONDS = 300;

export const DAY_MS = 86_400_000;

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/**
 * The validity a certificate of `days` gets when made at `now`: it starts BACKDATE_SECONDS early
 * (whole seconds, as X.509 stores them) and lasts exactly `days` × 86400 s from that start, so
 * `openssl x509 -dates` shows the days the inventory asked for, no more.
 */
export function validityFor(days: number, now: Date = new Date()): { notBefore: Date; notAfter: Date } {
  const notBefore = wholeSeconds(now.getTime() - BACKDATE_SECONDS * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}
