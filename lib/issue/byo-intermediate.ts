// Bringing an intermediate from your own PKI (a corporate CA): with ca.intermediate, `issue --ca-cert
// CHAIN --ca-key KEY` takes CHAIN as the intermediate first, then any CA above it, ending at the
// self-signed root. ca.pem becomes that root (what everyone trusts), intermediate.pem the rest (what
// every leaf file carries after the leaf), intermediate-key.pem the key. The root's key stays with
// its owner: the manifest marks the root external, and nothing that would need it (a new
// intermediate, a root CRL, rotate ca) is attempted: each says so.
import { certificatePem } from '../pki/pem.js';
import type { X509Certificate } from 'node:crypto';
import { relative } from 'node:path';
import { certificateInfo, parseCertificatesOf, signedBy } from '../pki/cert-info.js';
import { privateKeyToPem, sameKey } from '../pki/keys.js';
import { keySigner } from '../pki/signer.js';
import { readGivenFile } from '../store/safe-fs.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import { inputError, isDbtlsError } from '../errors.js';
import { decryptKey, type CaImport, type CaState } from './ca.js';
import type { SigningCa } from './intermediate.js';
import { caRecord } from './ca-record.js';
import type { CaRecord } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { Cluster } from '../inventory/model.js';

function recordOf(c: X509Certificate, cert: string, key: string, external: boolean): CaRecord {
  return caRecord(certificateInfo(c), { cert, key, encrypted: false, imported: true, external });
}

/** The root of the user's PKI, as a CaState that holds no key and refuses to sign. */
export function externalRoot(layout: PkiLayout, certPem: string, record: CaRecord, files: CaState['files']): CaState {
  const [root] = parseCertificatesOf(certPem, layout.ca);
  const refuse = async (): Promise<never> => {
    throw inputError(
      'root-external',
      `the root ${record.subject} belongs to your own PKI (brought with --ca-cert): dbtls holds no key of it and cannot sign with it`,
      { file: layout.ca },
      'a new intermediate, or a CRL of the root, comes from that PKI: bring the new intermediate with issue --ca-cert/--ca-key',
    );
  };
  return {
    action: files.length ? 'imported' : 'loaded',
    certPem,
    info: certificateInfo(root!),
    record,
    files,
    key: refuse,
    signer: refuse,
    close: () => {},
  };
}

export async function importIntermediate(
  layout: PkiLayout,
  cluster: Cluster,
  imp: CaImport,
  passphrase: string | undefined,
  now: Date,
): Promise<{ ca: CaState; signing: SigningCa }> {
  const chainFile = imp.certPath;
  const read = (file: string, what: string) =>
    readGivenFile(file, { what }).catch((e: NodeJS.ErrnoException) => {
      if (isDbtlsError(e)) throw e;
      throw inputError('unreadable', `cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, {
        file,
      });
    });
  const certs = parseCertificatesOf(await read(chainFile, 'the intermediate chain'), chainFile);
  const bad = (message: string, hint?: string) =>
    inputError('byo-chain', `${chainFile}: ${message}`, { file: chainFile }, hint);
  const chainHint = 'give the intermediate first, then each CA above it, ending at the self-signed root';
  if (certs.length < 2) throw bad('holds one certificate; with ca.intermediate it must be a chain', chainHint);
  const root = certs[certs.length - 1]!;
  if (root.subject !== root.issuer || !root.verify(root.publicKey))
    throw bad('does not end at a self-signed root', chainHint);
  for (let i = 0; i < certs.length - 1; i++) {
    const c = certs[i]!;
    if (!c.ca) throw bad(`certificate ${i + 1} (${c.subject.replace(/\n/g, ', ')}) is not a CA`, chainHint);
    if (!signedBy(c, certs[i + 1]!)) throw bad(`certificate ${i + 1} is not signed by certificate ${i + 2}`, chainHint);
  }
  for (const c of certs)
    if (Date.parse(c.validTo) <= now.getTime()) throw bad(`${c.subject.replace(/\n/g, ', ')} expired on ${c.validTo}`);
  const intermediate = certs[0]!;
  const key = decryptKey((await read(imp.keyPath, 'the intermediate key')).toString('utf8'), imp.keyPath, passphrase);
  if (!sameKey(intermediate.publicKey, key))
    throw inputError('ca-key-mismatch', `${imp.keyPath} does not belong to the first certificate of ${chainFile}`, {
      file: imp.keyPath,
    });
  if (cluster.ca.crlDays !== undefined)
    throw inputError(
      'byo-crl',
      `ca.crlDays in ${cluster.file} with a brought intermediate: servers would need your root's CRL too, which dbtls cannot sign`,
      { file: cluster.file, field: 'ca.crlDays' },
      'remove ca.crlDays, or keep the root with dbtls (ca.intermediate without --ca-cert)',
    );
  const rootPem = certificatePem(root);
  const chainPem = certs.slice(0, -1).map(certificatePem).join('');
  const rel = (p: string) => relative(layout.root, p);
  const ca = externalRoot(layout, rootPem, recordOf(root, rel(layout.ca), 'external', true), [
    { path: layout.ca, data: rootPem, mode: CERT_MODE },
  ]);
  const signing: SigningCa = {
    action: 'imported',
    certPem: certificatePem(intermediate),
    chainPem,
    info: certificateInfo(intermediate),
    signer: async () => keySigner(key),
    files: [
      { path: layout.intermediate, data: chainPem, mode: CERT_MODE },
      { path: layout.intermediateKey, data: privateKeyToPem(key), mode: KEY_MODE },
    ],
    record: recordOf(intermediate, rel(layout.intermediate), rel(layout.intermediateKey), false),
  };
  return { ca, signing };
}
