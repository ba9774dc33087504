// Which CAs sign a CRL: every CA that ca.pem trusts. Servers with ssl_crl set check every certificate
// a client presents against a CRL of its issuer (OpenSSL's CRL_CHECK_ALL); a trusted CA without one
// makes its certificates fail ("unable to get certificate CRL"). Outside a rotation that is the one
// CA; during `rotate ca` ca.pem trusts the old and the new CA, and the key of the one that does not
// sign leaves is in rotation/ (phase 1: the new CA's) or in archive/ (phase 2: the old CA's).
import { certificatePem } from '../pki/pem.js';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { parseCertificatesOf } from '../pki/cert-info.js';
import { sameKey } from '../pki/keys.js';
import { keySigner, type Signer } from '../pki/signer.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { archiveDir, rotationPaths } from '../rotate/state.js';
import { decryptKey, type CaState } from '../issue/ca.js';
import type { SigningCa } from '../issue/intermediate.js';
import { inputError } from '../errors.js';
import type { PkiLayout } from '../store/pki-dir.js';

export interface CrlIssuer {
  certPem: string;
  fingerprint256: string;
  serial: string;
  signer(): Promise<Signer>;
  /**
   * A root kept offline (ca.intermediate): its CRL lives longer (ROOT_CRL_DAYS) and is signed again
   * only when it changes or nears its end, so the root key is needed rarely, not on every revoke.
   */
  sealed?: boolean;
}

/** How long an offline root's CRL is valid: it lists revoked intermediates, and is rarely re-signed. */
export const ROOT_CRL_DAYS = 180;

// As lib/pki/cert-info.ts writes it, and so as archive/ca-<serial> is named.
const serialOf = (c: X509Certificate) => c.serialNumber.toLowerCase();

/**
 * The CA that signs leaves first (the intermediate, with ca.intermediate), then ca.pem's signing CA,
 * then each other CA of ca.pem with the key found for it.
 */
export async function crlIssuers(
  layout: PkiLayout,
  ca: CaState,
  passphrase: string | undefined,
  intermediate?: SigningCa,
): Promise<CrlIssuer[]> {
  const certs = parseCertificatesOf(ca.certPem, layout.ca);
  const [signing, ...others] = certs;
  const out: CrlIssuer[] = [];
  if (intermediate?.record) {
    const [cert] = parseCertificatesOf(intermediate.certPem, layout.intermediate);
    out.push({
      certPem: intermediate.certPem,
      fingerprint256: cert!.fingerprint256,
      serial: serialOf(cert!),
      signer: intermediate.signer,
    });
  }
  out.push({
    certPem: certificatePem(signing!),
    fingerprint256: signing!.fingerprint256,
    serial: serialOf(signing!),
    signer: ca.signer,
    ...(intermediate?.record ? { sealed: true } : {}),
  });
  for (const cert of others) {
    if (out.some((i) => i.fingerprint256 === cert.fingerprint256)) continue;
    // Each place a CA key is kept sits beside its certificate: the key whose certificate this is.
    const rotation = rotationPaths(layout.root);
    const archive = archiveDir(layout.root, serialOf(cert));
    const places = [
      { certFile: rotation.nextCa, keyFile: rotation.nextKey },
      { certFile: join(archive, 'ca.pem'), keyFile: join(archive, 'ca-key.pem') },
    ];
    let found: { pem: string; file: string } | undefined;
    for (const { certFile, keyFile } of places) {
      const beside = await readTextIfExists(certFile, { what: 'a CA certificate' });
      if (beside === undefined) continue;
      if (!parseCertificatesOf(beside, certFile).some((c) => c.fingerprint256 === cert.fingerprint256)) continue;
      const pem = await readTextIfExists(keyFile, { what: 'a CA key' });
      if (pem !== undefined) found = { pem, file: keyFile };
      break;
    }
    if (!found)
      throw inputError(
        'no-crl-key',
        `${layout.ca} trusts the CA serial ${serialOf(cert)}, but its key is neither in ${rotation.dir} nor in ${archive}: its CRL cannot be signed`,
        { file: layout.ca },
        'restore that key from a backup, or finish the rotation (dbtls rotate ca) so ca.pem trusts one CA',
      );
    const { pem, file } = found;
    let cached: KeyObject | undefined;
    out.push({
      certPem: certificatePem(cert),
      fingerprint256: cert.fingerprint256,
      serial: serialOf(cert),
      ...(intermediate?.record ? { sealed: true } : {}),
      async signer() {
        if (!cached) {
          const key = decryptKey(pem, file, passphrase);
          if (!sameKey(cert.publicKey, key))
            throw inputError(
              'ca-key-mismatch',
              `${file} does not belong to the CA serial ${serialOf(cert)} in ${layout.ca}`,
              {
                file,
              },
            );
          cached = key;
        }
        return keySigner(cached);
      },
    });
  }
  return out;
}
