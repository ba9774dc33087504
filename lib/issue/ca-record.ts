// The manifest's record of a CA (the root, or the intermediate): what it is, where its files are.
import type { CertificateInfo } from '../pki/cert-info.js';
import type { CaRecord } from '../store/manifest.js';

export function caRecord(
  info: CertificateInfo,
  where: Pick<CaRecord, 'cert' | 'key' | 'encrypted' | 'imported' | 'external'>,
): CaRecord {
  return {
    subject: info.subject,
    serial: info.serial,
    fingerprint256: info.fingerprint256,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    cert: where.cert,
    key: where.key,
    encrypted: where.encrypted,
    imported: where.imported,
    ...(where.external ? { external: true } : {}),
  };
}
