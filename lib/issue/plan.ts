// What a cluster needs from its PKI directory, and what of it must be (re-)issued: new owners,
// changed specs (a SAN or role added, another key size, another CA), missing or altered files,
// or --force. Everything else is left alone, so a second run writes nothing.
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { keyPairProblem, pairError, verifyPair } from '../pki/verify-pair.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { DbtlsError, inputError, isDbtlsError } from '../errors.js';
import { parseSans, formatSan, type San } from '../pki/san.js';
import type { Subject } from '../pki/certificate.js';
import type { Profile } from '../pki/profiles.js';
import { DAY_MS, validityFor } from '../pki/validity.js';
import { describeKeyType, isEcKeyType, keyTypeBits, rsaKeyType, type KeyType, type RsaKeySize } from '../pki/keys.js';
import { RSA_PAIR_ROLES, type Cluster, type NodeSpec } from '../inventory/model.js';
import { NODE_FILES, ownerDir } from '../store/pki-dir.js';
import type { Manifest, Owner } from '../store/manifest.js';

export interface PlannedCertificate {
  kind: 'certificate';
  id: string;
  owner: Owner;
  profile: Profile;
  subject: Subject;
  sans: San[];
  keyType: KeyType;
  days: number;
  cert: string;
  key: string;
  spec: string;
  /** Why it is issued; null when it is up to date. */
  reason: string | null;
}

export interface PlannedKeyPair {
  kind: 'key-pair';
  id: string;
  owner: Owner;
  keySize: RsaKeySize;
  private: string;
  public: string;
  spec: string;
  reason: string | null;
}

export type PlannedItem = PlannedCertificate | PlannedKeyPair;

export interface PlanFilter {
  /** Only these nodes (names); undefined = all. */
  nodes?: string[];
  /** Only these clients; undefined = all (or none when only nodes were chosen). */
  clients?: string[];
  force?: boolean;
}

function specHash(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** A node's server certificate names: its name, its host, its extra SANs, and localhost when asked. */
export function nodeSans(node: NodeSpec): San[] {
  const wanted = [node.name, node.host, ...node.sans, ...(node.localhost ? ['localhost', '127.0.0.1'] : [])];
  // The node name is a SAN only when it is a valid DNS name (it always is after validation, but be safe).
  return parseSans(wanted).sans;
}

/** The CN of a node's client certificate; distinct from its server CN so REQUIRE SUBJECT can tell them apart. */
export function nodeClientCn(node: NodeSpec): string {
  return `${node.name}-client`;
}

/** Everything the cluster should have, before looking at what exists. */
export function desiredItems(cluster: Cluster, caFingerprint: string, filter: PlanFilter = {}): PlannedItem[] {
  const items: PlannedItem[] = [];
  const { days } = cluster.leaf;
  const cert = (
    owner: Owner,
    id: string,
    profile: Profile,
    cn: string,
    sans: San[],
    base: string,
    keyType: KeyType,
  ) => {
    const subject: Subject = { ...cluster.subject, CN: cn };
    const spec = specHash({ profile, subject, sans: sans.map(formatSan), ...keySpec(keyType), ca: caFingerprint });
    items.push({
      kind: 'certificate',
      id,
      owner,
      profile,
      subject,
      sans,
      keyType,
      days,
      cert: `${base}-cert.pem`,
      key: `${base}-key.pem`,
      spec,
      reason: null,
    });
  };
  const nodeSet = filter.nodes ? new Set(filter.nodes) : undefined;
  const clientSet = filter.clients ? new Set(filter.clients) : filter.nodes ? new Set<string>() : undefined;

  for (const node of cluster.nodes) {
    if (nodeSet && !nodeSet.has(node.name)) continue;
    const owner: Owner = { kind: 'node', name: node.name };
    const dir = ownerDir('node', node.name);
    // The server certificate is a peer certificate: Galera, TiDB/PD/TiKV and replication links use
    // the same certificate to serve and to dial.
    cert(owner, `${dir}/server`, 'peer', node.name, nodeSans(node), `${dir}/server`, node.keyType);
    cert(owner, `${dir}/client`, 'client', nodeClientCn(node), [], `${dir}/client`, node.keyType);
    if (node.roles.some((r) => RSA_PAIR_ROLES.includes(r))) {
      // caching_sha2_password's pair is RSA whatever the certificates are: the leaf size if RSA, else 2048.
      const keySize = (isEcKeyType(node.keyType) ? 2048 : keyTypeBits(node.keyType)) as RsaKeySize;
      items.push({
        kind: 'key-pair',
        id: `${dir}/rsa`,
        owner,
        keySize,
        private: `${dir}/${NODE_FILES.rsaPrivate}`,
        public: `${dir}/${NODE_FILES.rsaPublic}`,
        spec: specHash({ keyPair: 'rsa', keySize }),
        reason: null,
      });
    }
  }
  for (const client of cluster.clients) {
    if (clientSet && !clientSet.has(client.name)) continue;
    const dir = ownerDir('client', client.name);
    cert(
      { kind: 'client', name: client.name },
      `${dir}/client`,
      'client',
      client.commonName,
      [],
      `${dir}/client`,
      cluster.leaf.keyType,
    );
  }
  return items;
}

/** A file of the PKI directory, or null when it does not exist; a symlink or a non-file is refused, naming it. */
async function readOrNull(path: string, hint: string): Promise<string | null> {
  try {
    return (await readTextIfExists(path, { what: 'certificates and keys' })) ?? null;
  } catch (e) {
    if (isDbtlsError(e))
      throw new DbtlsError(e.code, e.message, {
        kind: e.kind,
        location: { file: path },
        hint: `${e.hint ? `${e.hint}, or ` : ''}${hint}`,
      });
    throw e;
  }
}

export interface PlanVerification {
  /** The CA certificates a kept leaf must be signed by (ca.pem's text). */
  caPems: string[];
  /** The command that re-issues an owner's files deliberately, offered when they are damaged. */
  remedy(owner: Owner): string;
}

/**
 * Fills in each item's reason by comparing with the manifest and the files on disk. A certificate
 * or key pair the plan would keep is verified first (lib/pki/verify-pair.ts): a damaged one (a
 * truncated or swapped key, a certificate of another CA, a symlink) is refused with the remedy,
 * never called up to date and never silently replaced. --force and `renew` re-issue without looking.
 */
export async function planIssuance(
  root: string,
  items: PlannedItem[],
  manifest: Manifest,
  force = false,
  renew?: Map<string, string>,
  verify?: PlanVerification,
): Promise<PlannedItem[]> {
  const certs = new Map(manifest.certificates.map((r) => [r.id, r]));
  const pairs = new Map(manifest.keyPairs.map((r) => [r.id, r]));
  // Serials are compared as numbers: the manifest and `dbtls revoke --serial` may spell them differently.
  const revoked = new Set((manifest.revoked ?? []).map((r) => BigInt(`0x${r.serial}`)));
  return Promise.all(
    items.map(async (item): Promise<PlannedItem> => {
      const rec = item.kind === 'certificate' ? certs.get(item.id) : pairs.get(item.id);
      let reason: string | null = null;
      if (force) reason = 'forced';
      else if (renew?.has(item.id)) reason = renew.get(item.id)!;
      else if (!rec) reason = 'new';
      else if (item.kind === 'certificate' && revoked.has(BigInt(`0x${(rec as { serial: string }).serial}`)))
        reason = 'revoked';
      else if (rec.spec !== item.spec) reason = describeChange(item, rec);
      else if (item.kind === 'certificate') {
        const hint = remedyFor(item.owner, verify);
        const [pem, key] = await Promise.all([
          readOrNull(join(root, item.cert), hint),
          readOrNull(join(root, item.key), hint),
        ]);
        if (pem === null || key === null) reason = `${pem === null ? item.cert : item.key} is missing`;
        else {
          const problem = verify ? verifyPair(pem, key, verify.caPems) : undefined;
          if (problem)
            throw pairError(
              problem,
              join(root, item.cert),
              join(root, item.key),
              `${item.id} (${item.owner.kind} ${item.owner.name})`,
              hint,
            );
          if (safeFingerprint(pem) !== (rec as { fingerprint256: string }).fingerprint256)
            reason = `${item.cert} differs from the manifest`;
        }
      } else {
        const hint = remedyFor(item.owner, verify);
        const [priv, pub] = await Promise.all([
          readOrNull(join(root, item.private), hint),
          readOrNull(join(root, item.public), hint),
        ]);
        if (priv === null || pub === null) reason = `${priv === null ? item.private : item.public} is missing`;
        else if (verify) {
          const problem = keyPairProblem(priv, pub);
          if (problem) {
            const file = join(root, problem.which === 'private' ? item.private : item.public);
            throw inputError(
              `pair-${problem.code}`,
              `${item.id} (${item.owner.kind} ${item.owner.name}): ${file} ${problem.message}`,
              { file },
              hint,
            );
          }
        }
      }
      return { ...item, reason };
    }),
  );
}

function remedyFor(owner: Owner, verify: PlanVerification | undefined): string {
  return `re-issue it deliberately: ${verify ? verify.remedy(owner) : `dbtls issue --force --${owner.kind} ${owner.name}`} (or restore the files from a backup)`;
}

function safeFingerprint(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}

/**
 * What of the key goes into a certificate's spec: an RSA key its size (as before key types existed,
 * so an upgrade re-issues nothing), an EC key its type.
 */
function keySpec(t: KeyType): { keySize: number } | { keyType: KeyType } {
  return isEcKeyType(t) ? { keyType: t } : { keySize: keyTypeBits(t) };
}

function describeChange(item: PlannedItem, rec: { sans?: string[]; keySize: number; keyType?: string }): string {
  if (item.kind === 'certificate') {
    const now = item.sans.map(formatSan);
    const before = rec.sans ?? [];
    const added = now.filter((s) => !before.includes(s));
    const removed = before.filter((s) => !now.includes(s));
    if (added.length || removed.length) {
      return [
        'SANs changed',
        added.length ? `+${added.join(' +')}` : '',
        removed.length ? `-${removed.join(' -')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
    }
  }
  if (item.kind === 'certificate') {
    const before = (rec.keyType as KeyType | undefined) ?? rsaKeyType(rec.keySize as RsaKeySize);
    if (item.keyType !== before) return `key ${describeKeyType(before)} → ${describeKeyType(item.keyType)}`;
  } else if (item.keySize !== rec.keySize) return `key size ${rec.keySize} → ${item.keySize}`;
  return 'subject, profile or CA changed';
}

/**
 * A leaf may not outlive its CA. When the inventory's leaf days reach past the CA's notAfter, the
 * run is refused before anything is generated, naming both dates: silently cutting the validity
 * would hand cron a certificate shorter than asked for and hide that the CA itself is due.
 */
export function refuseOutlivingCa(cluster: Cluster, todo: PlannedItem[], caNotAfter: Date, now: Date): void {
  const certs = todo.filter((i): i is Extract<PlannedItem, { kind: 'certificate' }> => i.kind === 'certificate');
  const longest = certs.reduce<(typeof certs)[number] | undefined>(
    (a, b) => (a && a.days >= b.days ? a : b),
    undefined,
  );
  if (!longest) return;
  const { notBefore, notAfter } = validityFor(longest.days, now);
  if (notAfter.getTime() <= caNotAfter.getTime()) return;
  const fits = Math.floor((caNotAfter.getTime() - notBefore.getTime()) / DAY_MS);
  throw inputError(
    'leaf-outlives-ca',
    `a leaf of ${longest.days} days issued now would end ${notAfter.toISOString()}, after the CA it is signed by (valid until ${caNotAfter.toISOString()})`,
    { file: cluster.file, field: 'leaf.days' },
    fits >= 1
      ? `lower leaf.days to ${fits} or less, or renew the CA first (dbtls rotate ca) so that it outlasts its leaves`
      : 'the CA expires within a day: renew it first (dbtls rotate ca)',
  );
}
