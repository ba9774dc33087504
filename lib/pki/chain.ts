// Does a certificate chain up to a trusted root? The check `check` and `inspect --ca` make, with a
// reason a person can act on when it does not.
import type { X509Certificate } from 'node:crypto';
import { oneLine, signedBy } from './cert-info.js';

export type ChainResult = { ok: true; path: X509Certificate[] } | { ok: false; reason: string };

/**
 * Verifies a certificate up to one of the trusted roots: names chain, signatures check, every
 * issuer is a CA, and every certificate is valid at `at`. `intermediates` may be empty.
 */
export function verifyChain(
  leaf: X509Certificate,
  roots: X509Certificate[],
  intermediates: X509Certificate[] = [],
  at: Date = new Date(),
): ChainResult {
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const when = at.getTime();
    if (when < Date.parse(current.validFrom))
      return { ok: false, reason: `${oneLine(current.subject)} is not valid before ${current.validFrom}` };
    if (when > Date.parse(current.validTo))
      return { ok: false, reason: `${oneLine(current.subject)} expired on ${current.validTo}` };
    const root = roots.find((r) => signedBy(current, r));
    if (root) {
      if (!root.ca) return { ok: false, reason: `${oneLine(root.subject)} is not a CA (basicConstraints CA:FALSE)` };
      if (root !== current) path.push(root);
      if (when > Date.parse(root.validTo))
        return { ok: false, reason: `the CA ${oneLine(root.subject)} expired on ${root.validTo}` };
      return { ok: true, path };
    }
    const next = intermediates.find((c) => c !== current && signedBy(current, c));
    if (!next)
      return {
        ok: false,
        reason: `no trusted CA signed ${oneLine(current.subject)} (issuer ${oneLine(current.issuer)})`,
      };
    if (!next.ca) return { ok: false, reason: `${oneLine(next.subject)} is not a CA (basicConstraints CA:FALSE)` };
    path.push(next);
    current = next;
  }
  return { ok: false, reason: 'the chain is longer than 10 certificates' };
}
