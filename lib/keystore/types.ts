// Java key and trust stores, format-neutral: what goes in (entries) and what a reader finds.
import type { KeyObject, X509Certificate } from 'node:crypto';

export const STORE_TYPES = ['jks', 'pkcs12'] as const;
export type StoreType = (typeof STORE_TYPES)[number];

/** A private key with its certificate chain (leaf first, DER), as Java's PrivateKeyEntry. */
export interface PrivateKeyInput {
  kind: 'private-key';
  alias: string;
  key: KeyObject;
  chain: Buffer[];
  date?: Date;
}

/** A CA certificate trusted on its own, as Java's trustedCertEntry. */
export interface TrustedCertInput {
  kind: 'trusted-cert';
  alias: string;
  cert: Buffer;
  date?: Date;
}

export type StoreInput = PrivateKeyInput | TrustedCertInput;

export interface ListedEntry {
  alias: string;
  kind: 'private-key' | 'trusted-cert' | 'secret-key';
  date?: Date;
  /** private-key: the chain, leaf first; trusted-cert: the one certificate; secret-key: empty. */
  certificates: X509Certificate[];
  /** The decrypted key, when the reader was given the key password. */
  key?: KeyObject;
  /** secret-key: the algorithm, when known. */
  algorithm?: string;
}

export interface StoreListing {
  type: StoreType | 'jceks';
  entries: ListedEntry[];
  /** Whether the store's integrity (JKS hash, PKCS#12 MAC) was checked with the given password. */
  verified: boolean;
}
