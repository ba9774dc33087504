// The CA key in a PKCS#11 token (`ca.pkcs11` in the inventory): it signs in the token and never
// leaves it, so the PKI directory holds ca.pem and no ca-key.pem. The token's user PIN comes the way a
// CA passphrase does (DBTLS_CA_PASSPHRASE or --ca-passphrase-file), and only when something is signed.
// A new CA whose key is not on the token yet gets one generated there (ca.keyType), never imported.
import { inputError, isDbtlsError } from '../errors.js';
import type { Signer } from '../pki/signer.js';
import type { Cluster } from '../inventory/model.js';
import type { KeyType } from '../pki/keys.js';

export type TokenSettings = NonNullable<Cluster['ca']['pkcs11']>;

export interface TokenSigner extends Signer {
  close(): void;
}

/** The key's RFC 7512 URI, for the manifest and messages: pkcs11:token=…;object=… */
export function tokenUri(t: TokenSettings): string {
  const pct = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `pkcs11:token=${pct(t.token)};object=${pct(t.label)}`;
}

function pinOf(cluster: Cluster, pin: string | undefined): string {
  if (pin !== undefined) return pin;
  const t = cluster.ca.pkcs11!;
  throw inputError(
    'ca-passphrase-needed',
    `the CA key is in the PKCS#11 token "${t.token}" (ca.pkcs11 in ${cluster.file}) and no PIN was given`,
    { file: cluster.file, field: 'ca.pkcs11' },
    "set DBTLS_CA_PASSPHRASE to the token's user PIN, or pass --ca-passphrase-file FILE",
  );
}

/** Opens the CA's key on its token (the optional pkcs11js is loaded only now). */
export async function openTokenSigner(cluster: Cluster, pin: string | undefined): Promise<TokenSigner> {
  const { openPkcs11Signer } = await import('../pki/pkcs11.js');
  return openPkcs11Signer(cluster.ca.pkcs11!, pinOf(cluster, pin));
}

/** For a new CA: the key on the token, generated there when the token has none of that label. */
export async function tokenSignerForNewCa(
  cluster: Cluster,
  pin: string | undefined,
  keyType: KeyType,
): Promise<{ signer: TokenSigner; generated: boolean }> {
  const { openPkcs11Signer, generatePkcs11Key } = await import('../pki/pkcs11.js');
  const settings = cluster.ca.pkcs11!;
  const p = pinOf(cluster, pin);
  try {
    return { signer: openPkcs11Signer(settings, p), generated: false };
  } catch (e) {
    if (!isDbtlsError(e) || e.code !== 'pkcs11-no-key') throw e;
  }
  generatePkcs11Key(settings, p, keyType);
  return { signer: openPkcs11Signer(settings, p), generated: true };
}
