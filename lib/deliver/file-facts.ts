// What the audit trail records of each file a push leaves on a node: the SHA-256 of its bytes, and,
// for a node's certificate files, the leaf's serial and fingerprint (cli/audit-events.ts).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { certificateInfo, parseCertificates } from '../pki/cert-info.js';
import { NODE_FILES } from '../store/pki-dir.js';
import type { DeliveryItem } from './plan.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The leaf in one of a node's certificate files (server-cert.pem, client-cert.pem) as sent. */
export interface SentCertificate {
  of: 'server' | 'client';
  serial: string;
  fingerprint256: string;
  notAfter: string;
}

const CERT_FILES: Record<string, SentCertificate['of']> = {
  [NODE_FILES.serverCert]: 'server',
  [NODE_FILES.clientCert]: 'client',
};

function sentCertificate(source: string, data: Buffer): SentCertificate | undefined {
  const of = CERT_FILES[basename(source)];
  const leaf = of ? parseCertificates(data)[0] : undefined;
  if (!of || !leaf) return undefined;
  const info = certificateInfo(leaf);
  return { of, serial: info.serial, fingerprint256: info.fingerprint256, notAfter: info.notAfter.toISOString() };
}

/** What the audit trail records of a file a node has now: its hash, and its certificate if it is one. */
export function fileFacts(item: DeliveryItem, data: Buffer): { sha256: string; certificate?: SentCertificate } {
  const certificate = sentCertificate(item.source, data);
  return { sha256: sha256(data), ...(certificate ? { certificate } : {}) };
}
