// `dbtls rotate intermediate`: a new online intermediate, signed by the root (whose sealed key is
// needed for this and nothing else), then every leaf re-issued under it, pushed, reloaded and probed.
// Trust files hold the root alone, so no node trusts anything new: a node serving the old chain and
// one serving the new verify alike, and one phase is enough (rotate ca needs three for the root).
// The old intermediate is archived in archive/intermediate-<serial>/.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { certificateInfo, parseCertificatesOf, signedBy } from '../pki/cert-info.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import { commitBatch, recoverBatch } from '../store/batch.js';
import { acquireLock } from '../store/lock.js';
import { ensurePrivateDir, pkiLayout } from '../store/pki-dir.js';
import { readManifest, serializeManifest } from '../store/manifest.js';
import { prepareCa } from '../issue/ca.js';
import { newIntermediate, prepareSigningCa } from '../issue/intermediate.js';
import { inputError } from '../errors.js';
import { rollOut, type RolloutEvent, type RolloutOptions, type RolloutReport } from './rollout.js';
import type { Cluster } from '../inventory/model.js';

export type RotateIntermediateEvent = RolloutEvent | { type: 'pki'; message: string };

export interface RotateIntermediateOptions extends Omit<RolloutOptions, 'renew' | 'verifyCa' | 'nodes' | 'onEvent'> {
  now?: Date;
  onEvent?: (e: RotateIntermediateEvent) => void;
}

export interface RotateIntermediateReport {
  ok: boolean;
  changed: boolean;
  old: { serial: string; notAfter: string };
  new: { serial: string; notAfter: string };
  archived: string;
  rollout: RolloutReport;
  failed: string[];
}

/**
 * Under the PKI lock: the new intermediate in place, the old one archived, the manifest updated.
 * With whenRootChanged (rotate ca's phase 2), only when the intermediate is not signed by ca.pem's
 * signing root yet: a phase run again after an interruption makes no second one.
 */
export async function swapIntermediate(
  cluster: Cluster,
  opts: Pick<RotateIntermediateOptions, 'passphrase'>,
  now: Date,
  whenRootChanged = false,
) {
  const layout = pkiLayout(cluster.pki);
  const lock = await acquireLock(layout.lock);
  let close = () => {};
  try {
    await recoverBatch(layout.journal);
    const manifest = await readManifest(layout.manifest, cluster.cluster);
    if (!manifest.intermediate)
      throw inputError(
        'not-issued',
        `${layout.manifest} records no intermediate: nothing to rotate`,
        { file: layout.manifest },
        `run: dbtls issue -i ${cluster.file}`,
      );
    const ca = await prepareCa(layout, cluster, { passphrase: opts.passphrase, now, recorded: manifest.ca });
    close = () => ca.close();
    const old = await prepareSigningCa(layout, cluster, ca, {
      passphrase: opts.passphrase,
      now,
      ...(manifest.intermediate ? { recorded: manifest.intermediate } : {}),
    });
    const [signingRoot] = parseCertificatesOf(ca.certPem, layout.ca);
    if (whenRootChanged && signedBy(new X509Certificate(old.certPem), signingRoot!)) return undefined;
    const made = await newIntermediate(layout, cluster, ca, now);
    const archive = join(layout.root, 'archive', `intermediate-${old.info.serial}`);
    await ensurePrivateDir(layout.root, archive);
    const info = certificateInfo(made.cert);
    manifest.intermediate = {
      ...manifest.intermediate!,
      subject: info.subject,
      serial: info.serial,
      fingerprint256: info.fingerprint256,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
    };
    await commitBatch(
      [
        { path: join(archive, 'intermediate.pem'), data: await readFile(layout.intermediate), mode: CERT_MODE },
        { path: join(archive, 'intermediate-key.pem'), data: await readFile(layout.intermediateKey), mode: KEY_MODE },
        ...made.files,
        { path: layout.manifest, data: serializeManifest(manifest), mode: CERT_MODE },
      ],
      layout.journal,
    );
    return {
      old: { serial: old.info.serial, notAfter: old.info.notAfter.toISOString() },
      new: { serial: info.serial, notAfter: info.notAfter.toISOString() },
      archived: archive,
    };
  } finally {
    close();
    await lock.release();
  }
}

export async function runRotateIntermediate(
  cluster: Cluster,
  opts: RotateIntermediateOptions,
): Promise<RotateIntermediateReport> {
  if (!cluster.ca.intermediate)
    throw inputError(
      'no-intermediate',
      `${cluster.file} has no intermediate CA (ca.intermediate): its leaves are signed by ca.pem's CA`,
      { file: cluster.file, field: 'ca.intermediate' },
      'to replace that CA: dbtls rotate ca',
    );
  // With ssl_crl set, servers want a CRL from every CA of a chain they see: the new intermediate's
  // would have to be on every server before any of its leaves is presented.
  if (cluster.ca.crlDays !== undefined)
    throw inputError(
      'rotate-intermediate-crl',
      `rotate intermediate with revocation on (ca.crlDays in ${cluster.file}) is not supported yet: the new intermediate's CRL must reach every server before its leaves do`,
      { file: cluster.file, field: 'ca.crlDays' },
      'remove ca.crlDays, push, rotate the intermediate, then turn revocation on again',
    );
  const now = opts.now ?? new Date();
  const onEvent = opts.onEvent ?? (() => {});
  const swapped = (await swapIntermediate(cluster, opts, now))!;
  onEvent({
    type: 'pki',
    message: `new intermediate ${swapped.new.serial} (the old ${swapped.old.serial} archived in ${swapped.archived})`,
  });
  // Every leaf names the intermediate it was issued under: all are due now.
  const rollout = await rollOut(cluster, { ...opts, onEvent });
  return {
    ok: rollout.ok,
    changed: true,
    ...swapped,
    rollout,
    failed: rollout.failed,
  };
}
