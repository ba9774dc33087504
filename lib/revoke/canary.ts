// The revocation canary: a client certificate of the CA that signs leaves, listed in that CA's CRL
// from the moment it is made, kept in <pki>/revocation-canary/. It belongs to no one and logs in
// nowhere; `check --live` presents it to every server that should read the CRL, and a server that
// does not refuse it is not enforcing revocation (the file was not delivered, ssl_crl is not set,
// the server was not reloaded, or its TLS library ignores CRLs: MariaDB's WolfSSL builds, MDEV-40382).
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { certificateInfo } from '../pki/cert-info.js';
import { generateKey, privateKeyToPem } from '../pki/keys.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import type { BatchFile } from '../store/batch.js';
import type { Manifest, RevokedRecord } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { SigningCa } from '../issue/intermediate.js';

export const CANARY_ID = 'revocation-canary';

export function canaryPaths(layout: PkiLayout) {
  const dir = join(layout.root, CANARY_ID);
  return { dir, cert: join(dir, 'client-cert.pem'), key: join(dir, 'client-key.pem') };
}

const serialOf = (c: X509Certificate) => BigInt(`0x${c.serialNumber}`).toString(16);

/**
 * A canary of the signing CA, revoked in the manifest: nothing when the one on disk is that CA's and
 * revoked already; else a new one (its files, and its revocation to add before the CRL is signed).
 */
export async function ensureCanary(
  layout: PkiLayout,
  manifest: Manifest,
  signing: SigningCa,
  now: Date,
): Promise<{ files: BatchFile[]; revoked?: RevokedRecord }> {
  const paths = canaryPaths(layout);
  const revoked = new Set((manifest.revoked ?? []).map((r) => r.serial));
  const text = await readTextIfExists(paths.cert, { what: 'the revocation canary' });
  const signer = new X509Certificate(signing.certPem);
  if (text !== undefined) {
    try {
      const cert = new X509Certificate(text);
      if (cert.verify(signer.publicKey) && revoked.has(serialOf(cert)) && Date.parse(cert.validTo) > now.getTime())
        return { files: [] };
    } catch {
      // unreadable: made anew below
    }
  }
  const { issueCertificate, loadIssuer } = await import('../pki/certificate.js');
  const key = await generateKey('p256');
  const issued = issueCertificate({
    profile: 'client',
    subject: { CN: 'dbtls revocation canary' },
    days: 365,
    subjectKey: key,
    issuer: loadIssuer(signing.certPem, await signing.signer()),
    now,
  });
  const info = certificateInfo(new X509Certificate(issued.pem));
  return {
    files: [
      { path: paths.cert, data: issued.pem + signing.chainPem, mode: CERT_MODE },
      { path: paths.key, data: privateKeyToPem(key), mode: KEY_MODE },
    ],
    revoked: {
      serial: BigInt(`0x${info.serial}`).toString(16),
      id: CANARY_ID,
      subject: info.subject,
      reason: 'cessationOfOperation',
      revokedAt: now.toISOString(),
      caFingerprint256: signing.info.fingerprint256,
    },
  };
}
