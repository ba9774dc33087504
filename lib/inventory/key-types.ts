// Which key each certificate gets: `keyType` on ca and leaf (rsa2048 … p384), overridable per node,
// with the older `keySize` (RSA bits) still read. Refused where the product cannot take the key:
// TiKV fails to verify ECDSA peers (tikv/tikv#12617), so neither a TiKV/PD node nor anything that
// dials TiKV gets an EC key, nor a CA whose EC signature TiKV would have to check; ProxySQL before
// 2.3 reads RSA private keys only (sysown/proxysql#3551). The caching_sha2_password pair is RSA
// whatever the certificates are (lib/issue/plan.ts).
import { DEFAULT_KEY_TYPE, isEcKeyType, rsaKeyType, type KeyType, type RsaKeySize } from '../pki/keys.js';
import { TIDB_STACK, type Role } from './model.js';
import type { RawInventory } from './schema.js';

/** keyType, else keySize as RSA, else the default. */
export function keyTypeOf(
  given: { keyType?: string; keySize?: number } | undefined,
  fallback = DEFAULT_KEY_TYPE,
): KeyType {
  if (given?.keyType !== undefined) return given.keyType as KeyType;
  if (given?.keySize !== undefined) return rsaKeyType(given.keySize as RsaKeySize);
  return fallback;
}

const olderThan = (version: string, major: number, minor: number): boolean => {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a < major || (a === major && b < minor);
};

/** What is wrong with the inventory's key types, as [model path, message]. */
export function keyTypeProblems(raw: RawInventory): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const where of ['ca', 'leaf'] as const) {
    const given = raw[where];
    if (
      given?.keyType !== undefined &&
      given.keySize !== undefined &&
      keyTypeOf({ keyType: given.keyType }) !== rsaKeyType(given.keySize as RsaKeySize)
    )
      out.push([`${where}.keyType`, `${given.keyType} contradicts keySize ${given.keySize}; give one of them`]);
  }
  const roles = (n: { roles?: (string | undefined)[] } | undefined) => (n?.roles ?? []) as Role[];
  const hasTikv = (raw.nodes ?? []).some((n) => roles(n).includes('tikv'));
  const leaf = keyTypeOf(raw.leaf);
  if (hasTikv && isEcKeyType(keyTypeOf(raw.ca)))
    out.push([
      'ca.keyType',
      `${keyTypeOf(raw.ca)}: TiKV cannot verify an ECDSA-signed chain (tikv/tikv#12617); the CA of a cluster with TiKV must be RSA`,
    ]);
  (raw.nodes ?? []).forEach((n, i) => {
    if (!n) return;
    const type = keyTypeOf(n, leaf);
    if (!isEcKeyType(type)) return;
    const field = n.keyType !== undefined ? `nodes[${i}].keyType` : `nodes[${i}].roles`;
    const r = roles(n);
    const own = n.keyType !== undefined ? type : `${type} (from leaf.keyType)`;
    if (r.includes('tikv') || r.includes('pd'))
      out.push([
        field,
        `${own}: TiKV and PD cannot use ECDSA certificates (tikv/tikv#12617); set keyType: rsa2048 on ${n.name ?? 'the node'}`,
      ]);
    else if (hasTikv && r.some((x) => TIDB_STACK.includes(x)))
      out.push([
        field,
        `${own}: ${n.name ?? 'the node'} dials TiKV, which cannot verify ECDSA certificates (tikv/tikv#12617); set keyType: rsa2048 on it`,
      ]);
    if (r.includes('proxysql') && n.version !== undefined && olderThan(n.version, 2, 3))
      out.push([
        field,
        `${own}: ProxySQL ${n.version} reads RSA keys only (ECDSA from 2.3, sysown/proxysql#3551); set keyType: rsa2048 on ${n.name ?? 'the node'}`,
      ]);
  });
  return out;
}
