// `dbtls rotate ca`: replace the cluster's CA with no moment where a client and a server disagree.
//   phase 1  a new CA (same name, new key); ca.pem = old + new; truststores trust both; push; reload
//   phase 2  the new CA signs: ca.pem = new + old, every leaf and keystore re-issued; push; reload;
//            probes must verify against the new CA alone
//   phase 3  ca.pem = new only; truststores rebuilt; push; reload; the old CA kept in archive/
// The first certificate of ca.pem is always the CA that signs (lib/issue/ca.ts), so phases 1 and 3
// change trust without re-issuing leaves, and phase 2 re-issues them because their CA changed.
// The new CA takes the old one's subject byte for byte: accounts made with REQUIRE ISSUER keep matching.
import { certificatePem } from '../pki/pem.js';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generateKey, exportPrivateKeyPem } from '../pki/keys.js';
import { certificateInfo, parseCertificatesOf } from '../pki/cert-info.js';
import { issueCertificate, subjectAsn1Of } from '../pki/certificate.js';
import { CERT_MODE, KEY_MODE, writeFileAtomic } from '../store/atomic-write.js';
import { commitBatch, recoverBatch, type BatchFile } from '../store/batch.js';
import { acquireLock } from '../store/lock.js';
import { ensurePrivateDir, pkiLayout } from '../store/pki-dir.js';
import { readManifest } from '../store/manifest.js';
import { inputError, usageError } from '../errors.js';
import {
  archiveDir,
  PHASES,
  readRotation,
  rotationPaths,
  serializeRotation,
  type CaSummary,
  type Phase,
  type RotationState,
} from './state.js';
import { runCrlRefresh } from '../revoke/revoke.js';
import { swapIntermediate } from './intermediate.js';
import { rollOut, type RolloutEvent, type RolloutOptions, type RolloutReport } from './rollout.js';
import type { Cluster } from '../inventory/model.js';

/** The phases as they go, and, between a phase's start and its end, that phase's roll-out events. */
export type RotateCaEvent =
  | RolloutEvent
  | { type: 'phase-start'; phase: Phase; what: string }
  | { type: 'pki'; phase: Phase; message: string }
  | { type: 'phase-done'; phase: Phase; report: RolloutReport }
  | { type: 'phase-failed'; phase: Phase; report: RolloutReport }
  | { type: 'complete'; archived: string };

export interface RotateCaOptions extends Omit<RolloutOptions, 'renew' | 'verifyCa' | 'nodes' | 'onEvent'> {
  /** Run this phase only (it must be the one the rotation is at). */
  phase?: Phase;
  now?: Date;
  onEvent?: (e: RotateCaEvent) => void;
}

export interface RotateCaReport {
  ok: boolean;
  changed: boolean;
  /** Phases run now, with their results. */
  phases: Array<{ phase: Phase; ok: boolean; report: RolloutReport }>;
  /** Where it stands afterwards: the next phase, or 'complete'. */
  state: Phase | 'complete';
  failed: string[];
}

const bundle = (certs: X509Certificate[]) => certs.map(certificatePem).join('');

function summary(c: X509Certificate): CaSummary {
  const i = certificateInfo(c);
  return { subject: i.subject, serial: i.serial, fingerprint256: i.fingerprint256, notAfter: i.notAfter.toISOString() };
}

async function withPki<T>(cluster: Cluster, fn: () => Promise<T>): Promise<T> {
  const layout = pkiLayout(cluster.pki);
  const lock = await acquireLock(layout.lock);
  try {
    await recoverBatch(layout.journal);
    return await fn();
  } finally {
    await lock.release();
  }
}

async function caCerts(cluster: Cluster): Promise<X509Certificate[]> {
  const file = pkiLayout(cluster.pki).ca;
  const certs = parseCertificatesOf(
    await readFile(file, 'utf8').catch(() => {
      throw inputError(
        'no-ca',
        `${file} does not exist: there is no CA to rotate`,
        { file },
        `run: dbtls apply -i ${cluster.file}`,
      );
    }),
    file,
  );
  if (!certs.length) throw inputError('no-ca', `${file} holds no certificate`, { file });
  return certs;
}

/** Phase 1's local part: the new CA, and ca.pem trusting old + new. Idempotent. */
async function startRotation(cluster: Cluster, opts: RotateCaOptions): Promise<RotationState> {
  return withPki(cluster, async () => {
    const existing = await readRotation(cluster.pki);
    if (existing) return existing;
    const layout = pkiLayout(cluster.pki);
    const paths = rotationPaths(cluster.pki);
    const old = await caCerts(cluster);
    const manifest = await readManifest(layout.manifest, cluster.cluster);
    if (manifest.ca?.encrypted && opts.passphrase === undefined) {
      throw inputError(
        'ca-passphrase-needed',
        `${layout.caKey} is encrypted: the new CA key will be too, and needs the passphrase`,
        { file: layout.caKey },
        'set DBTLS_CA_PASSPHRASE or pass --ca-passphrase-file FILE',
      );
    }
    const now = opts.now ?? new Date();
    const key = await generateKey(cluster.ca.keyType);
    const oldCa = old[0]!;
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(oldCa.subject)?.[1] ?? cluster.ca.commonName;
    const issued = issueCertificate({
      profile: 'ca',
      subject: { CN: cn },
      subjectAsn1: subjectAsn1Of(certificatePem(oldCa)),
      days: cluster.ca.days,
      subjectKey: key,
      now,
    });
    const fresh = new X509Certificate(issued.pem);
    const keyPem = exportPrivateKeyPem(key, manifest.ca?.encrypted ? opts.passphrase : undefined); // PBKDF2 at KEY_PBKDF2_ITERATIONS
    const at = now.toISOString();
    const state: RotationState = {
      version: 1,
      phase: 1,
      oldCa: summary(oldCa),
      newCa: summary(fresh),
      startedAt: at,
      updatedAt: at,
      done: [],
    };
    await ensurePrivateDir(layout.root, paths.dir);
    await commitBatch(
      [
        { path: paths.nextCa, data: issued.pem, mode: CERT_MODE },
        { path: paths.nextKey, data: keyPem, mode: KEY_MODE },
        { path: layout.ca, data: bundle([...old, fresh]), mode: CERT_MODE },
        { path: paths.state, data: serializeRotation(state), mode: KEY_MODE },
      ],
      layout.journal,
    );
    opts.onEvent?.({
      type: 'pki',
      phase: 1,
      message: `new CA ${state.newCa.serial} (same subject, new key); ca.pem trusts old + new`,
    });
    return state;
  });
}

/** Phase 2's local part: the new CA signs from now on; the old one is archived. Idempotent. */
async function swapSigner(cluster: Cluster, state: RotationState, opts: RotateCaOptions): Promise<void> {
  await withPki(cluster, async () => {
    const layout = pkiLayout(cluster.pki);
    const paths = rotationPaths(cluster.pki);
    const certs = await caCerts(cluster);
    if (certs[0]!.fingerprint256 === state.newCa.fingerprint256) return;
    const next = new X509Certificate(await readFile(paths.nextCa, 'utf8'));
    const archive = archiveDir(cluster.pki, state.oldCa.serial);
    await ensurePrivateDir(layout.root, archive);
    const files: BatchFile[] = [
      {
        path: join(archive, 'ca.pem'),
        data: bundle(certs.filter((c) => c.fingerprint256 !== state.newCa.fingerprint256)),
        mode: CERT_MODE,
      },
      { path: join(archive, 'ca-key.pem'), data: await readFile(layout.caKey), mode: KEY_MODE },
      {
        path: layout.ca,
        data: bundle([next, ...certs.filter((c) => c.fingerprint256 !== next.fingerprint256)]),
        mode: CERT_MODE,
      },
      { path: layout.caKey, data: await readFile(paths.nextKey), mode: KEY_MODE },
    ];
    await commitBatch(files, layout.journal);
    opts.onEvent?.({
      type: 'pki',
      phase: 2,
      message: `the new CA ${state.newCa.serial} signs now; the old one is archived in ${archive}`,
    });
  });
}

/** Phase 3's local part: ca.pem holds the new CA only. Idempotent. */
async function dropOld(cluster: Cluster, state: RotationState, opts: RotateCaOptions): Promise<void> {
  await withPki(cluster, async () => {
    const layout = pkiLayout(cluster.pki);
    const certs = await caCerts(cluster);
    if (certs.length === 1 && certs[0]!.fingerprint256 === state.newCa.fingerprint256) return;
    const next = certs.find((c) => c.fingerprint256 === state.newCa.fingerprint256);
    if (!next)
      throw inputError(
        'rotation-mismatch',
        `${layout.ca} does not hold the new CA ${state.newCa.serial} the rotation expects`,
        { file: layout.ca },
      );
    await commitBatch([{ path: layout.ca, data: bundle([next]), mode: CERT_MODE }], layout.journal);
    opts.onEvent?.({ type: 'pki', phase: 3, message: 'ca.pem trusts the new CA only' });
  });
}

async function advance(cluster: Cluster, state: RotationState, done: Phase, now: Date): Promise<RotationState> {
  const at = now.toISOString();
  const next: RotationState = {
    ...state,
    phase: (done + 1) as Phase,
    updatedAt: at,
    done: [...state.done, { phase: done, at }],
  };
  await withPki(cluster, () =>
    commitBatch(
      [{ path: rotationPaths(cluster.pki).state, data: serializeRotation(next), mode: KEY_MODE }],
      pkiLayout(cluster.pki).journal,
    ),
  );
  return next;
}

/** The rotation is over: its record goes to archive/rotations.log, its working folder away. */
async function finish(cluster: Cluster, state: RotationState, now: Date): Promise<string> {
  return withPki(cluster, async () => {
    const archive = archiveDir(cluster.pki, state.oldCa.serial);
    const record = {
      ...state,
      done: [...state.done, { phase: 3 as Phase, at: now.toISOString() }],
      completedAt: now.toISOString(),
    };
    await ensurePrivateDir(cluster.pki, archive);
    await writeFileAtomic(join(archive, 'rotation.json'), JSON.stringify(record, null, 2) + '\n', { mode: CERT_MODE });
    await rm(rotationPaths(cluster.pki).dir, { recursive: true, force: true });
    return archive;
  });
}

export async function rotationStatus(cluster: Cluster): Promise<RotationState | null> {
  return readRotation(cluster.pki);
}

export async function runRotateCa(cluster: Cluster, opts: RotateCaOptions): Promise<RotateCaReport> {
  const onEvent = opts.onEvent ?? (() => {});
  if (cluster.ca.pkcs11)
    throw inputError(
      'ca-key-in-token',
      `rotate ca makes a new CA key file, but ${cluster.file} keeps the CA key in a PKCS#11 token (ca.pkcs11): not supported yet`,
      { file: cluster.file, field: 'ca.pkcs11' },
      'rotate leaf, issue and revoke sign with the token; for a new CA key, generate it on the token and start a new PKI',
    );
  let state = await readRotation(cluster.pki);
  const current: Phase = state?.phase ?? 1;
  if (opts.phase !== undefined && opts.phase !== current) {
    throw usageError(
      'wrong-phase',
      state
        ? `the rotation is at phase ${current}; --phase ${opts.phase} cannot run now`
        : `no rotation is under way: it starts with --phase 1, not ${opts.phase}`,
    );
  }
  const report: RotateCaReport = { ok: true, changed: false, phases: [], state: current, failed: [] };
  for (let phase = current; phase <= 3; phase = (phase + 1) as Phase) {
    onEvent({ type: 'phase-start', phase, what: PHASES[phase] });
    if (phase === 1) state = await startRotation(cluster, opts);
    else if (phase === 2) {
      await swapSigner(cluster, state!, opts);
      // An intermediate signed by the old root would stop chaining in phase 3: the new root signs a
      // new one now, and the phase's leaves are issued under it.
      if (cluster.ca.intermediate) {
        const made = await swapIntermediate(cluster, opts, opts.now ?? new Date(), true);
        if (made)
          onEvent({ type: 'pki', phase, message: `new intermediate ${made.new.serial}, signed by the new root` });
      }
    } else await dropOld(cluster, state!, opts);
    // With revocation on, servers want a CRL from every CA they trust (OpenSSL's CRL_CHECK_ALL):
    // crl.pem gains the new CA's in phase 1 and drops the old CA's in phase 3, before the push.
    if (cluster.ca.crlDays !== undefined) {
      const refreshed = await runCrlRefresh(cluster, { passphrase: opts.passphrase, now: opts.now ?? new Date() });
      if (refreshed.refreshed)
        onEvent({ type: 'pki', phase, message: `crl.pem signed again: one CRL for each CA that ca.pem trusts` });
    }
    // From phase 2 on, what the nodes serve must verify against the new CA alone.
    const verifyCa = phase >= 2 ? await readFile(rotationPaths(cluster.pki).nextCa, 'utf8') : undefined;
    const r = await rollOut(cluster, { ...opts, ...(verifyCa ? { verifyCa } : {}), onEvent });
    report.changed = true;
    report.phases.push({ phase, ok: r.ok, report: r });
    if (!r.ok) {
      report.ok = false;
      report.failed = r.failed;
      report.state = phase;
      onEvent({ type: 'phase-failed', phase, report: r });
      return report;
    }
    onEvent({ type: 'phase-done', phase, report: r });
    const now = opts.now ?? new Date();
    if (phase < 3) {
      state = await advance(cluster, state!, phase, now);
      report.state = state.phase;
    } else {
      const archived = await finish(cluster, state!, now);
      report.state = 'complete';
      onEvent({ type: 'complete', archived });
    }
    if (opts.phase !== undefined) break;
  }
  return report;
}
