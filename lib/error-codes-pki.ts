// The error codes of certificates, keys, the CA, issuing and revocation, and of a CA key in a PKCS#11
// token: part of the one catalogue (lib/error-codes.ts spreads them in), kept apart for its size.
import type { ErrorCodeInfo } from './error-codes.js';

export const PKI_ERROR_CODES = {
  // Certificates and keys (lib/pki).
  'bad-ca': { kind: 'failure', summary: 'the CA file holds no certificate' },
  'bad-crl': { kind: 'input', summary: 'a CRL file is truncated, garbled or not a CRL' },
  'no-revocation': {
    kind: 'input',
    summary: 'revoke or crl refresh on an inventory without ca.crlDays (revocation is off)',
  },
  'no-crl-key': {
    kind: 'input',
    summary:
      'ca.pem trusts a second CA (a rotation) whose key is in neither rotation/ nor archive/: its CRL cannot be signed',
  },
  'key-type': { kind: 'failure', summary: 'a key to sign with is not RSA, P-256 or P-384' },
  'key-format': { kind: 'failure', summary: 'a non-RSA key was asked for in PKCS#1' },
  'same-cn': { kind: 'failure', summary: "a certificate's CN is the same as its CA's" },
  'bad-certificate': { kind: 'input', summary: 'a certificate cannot be read (truncated or garbled?)' },
  'bad-key': { kind: 'input', summary: 'a private key cannot be read' },
  'key-mismatch': { kind: 'input', summary: 'a private key does not belong to its certificate' },
  'not-a-ca': {
    kind: 'input',
    summary: 'a certificate given as a CA is not one (basicConstraints CA:TRUE is missing)',
  },
  'no-certificate': { kind: 'input', summary: 'a file that should hold a certificate holds none' },
  unrecognised: { kind: 'input', summary: '`inspect`: the file holds no certificate, key or certificate request' },
  'no-ca-certificate': { kind: 'input', summary: '`inspect`: the CA file holds no certificate to trust' },
  'encrypted-key': {
    kind: 'input',
    summary: '`inspect`: the private key is encrypted (inspect asks for no passphrase)',
  },
  'no-key': { kind: 'input', summary: '`inspect`: the file holds no private or public key' },
  'pair-missing': { kind: 'input', summary: 'an issued certificate or key is missing from the PKI folder' },
  'pair-unreadable': {
    kind: 'input',
    summary:
      'an issued certificate or key of the PKI folder cannot be read (permissions, I/O error): damaged state, refused',
  },
  'pair-bad-certificate': { kind: 'input', summary: 'an issued certificate in the PKI folder cannot be read' },
  'pair-bad-key': { kind: 'input', summary: 'an issued private (or public) key in the PKI folder cannot be read' },
  'pair-key-mismatch': {
    kind: 'input',
    summary: 'an issued key in the PKI folder does not belong to its certificate (or its public half)',
  },
  'pair-wrong-ca': {
    kind: 'input',
    summary: "an issued certificate in the PKI folder was not signed by the cluster's CA",
  },

  // An offline root and an online intermediate (lib/issue/intermediate.ts).
  'root-unsealed': {
    kind: 'input',
    summary: 'ca.intermediate with a new root whose key would be written unencrypted (no passphrase, no token)',
  },
  'intermediate-foreign': { kind: 'input', summary: "intermediate.pem is not signed by ca.pem's root" },
  'intermediate-half': { kind: 'input', summary: 'one of intermediate.pem and intermediate-key.pem is missing' },
  'root-external': {
    kind: 'input',
    summary:
      "something needs the root's key (a new intermediate, its CRL), but the root is your own PKI's, brought with an intermediate",
  },
  'byo-chain': {
    kind: 'input',
    summary: '--ca-cert with ca.intermediate is not a chain from the intermediate up to a self-signed root',
  },
  'byo-crl': {
    kind: 'input',
    summary: "ca.crlDays with a brought intermediate: the root's CRL would be needed, and dbtls cannot sign it",
  },
  'no-intermediate': { kind: 'input', summary: 'rotate intermediate on an inventory without ca.intermediate' },
  'rotate-intermediate-crl': {
    kind: 'input',
    summary:
      'rotate intermediate while revocation is on (not supported yet: the new CRL must reach every server first)',
  },
  'intermediate-missing': {
    kind: 'input',
    summary: 'both intermediate files are missing, but the manifest records the intermediate that signed the leaves',
  },

  // A CA key in a PKCS#11 token (lib/pki/pkcs11.ts).
  'ca-key-on-disk': {
    kind: 'input',
    summary: 'the inventory puts the CA key in a PKCS#11 token (ca.pkcs11), yet ca-key.pem is in the PKI directory',
  },
  'ca-key-in-token': {
    kind: 'input',
    summary:
      'something needs the CA key itself (a rotation writing a new one), but it is in a PKCS#11 token and never leaves it',
  },
  'pkcs11-unavailable': { kind: 'input', summary: 'ca.pkcs11 needs the optional package pkcs11js, not loadable here' },
  'pkcs11-module': { kind: 'input', summary: 'the PKCS#11 module (ca.pkcs11.module) cannot be loaded or initialised' },
  'pkcs11-no-token': {
    kind: 'input',
    summary: 'no token, or more than one, has the label ca.pkcs11.token (labels listed)',
  },
  'pkcs11-pin': { kind: 'input', summary: 'the token refused the PIN: wrong, locked, or of a length it does not take' },
  'pkcs11-no-key': { kind: 'input', summary: 'the token has no private key, or no public key object, with the label' },
  'pkcs11-duplicate-key': { kind: 'input', summary: 'the token has more than one key with the label ca.pkcs11.label' },
  'pkcs11-key-exists': { kind: 'input', summary: 'a key to generate on the token has a label a key already has' },
  'pkcs11-failure': { kind: 'failure', summary: 'a PKCS#11 call failed (the message names it and its CKR_ code)' },

  // The CA and issuing (lib/issue).
  'ca-passphrase-needed': { kind: 'input', summary: 'the CA key is encrypted and no passphrase was given' },
  'ca-passphrase-wrong': { kind: 'input', summary: 'the passphrase given does not decrypt the CA key' },
  'ca-key-mismatch': { kind: 'input', summary: 'the CA key does not belong to the CA certificate' },
  'ca-expired': { kind: 'input', summary: 'the CA certificate has expired' },
  'ca-key-type': { kind: 'input', summary: 'the CA key is not RSA' },
  'no-ca-key': { kind: 'input', summary: 'the CA certificate is there but its key is missing' },
  'orphan-ca-key': { kind: 'input', summary: 'a CA key is there without its certificate' },
  'ca-replaced': { kind: 'input', summary: 'the CA in the PKI folder is not the one the manifest records' },
  'ca-missing': {
    kind: 'input',
    summary: 'the CA is missing, but the manifest records the one that signed the certificates',
  },
  'ca-intact': { kind: 'usage', summary: '--new-ca was given but the recorded CA is intact' },
  'ca-exists': {
    kind: 'input',
    summary: 'the PKI folder already holds another CA than the one given to import (--ca-cert)',
  },
  'no-ca': { kind: 'input', summary: 'nothing has been issued yet: the CA certificate is missing or empty' },
  'unknown-node': { kind: 'input', summary: 'a node named on the command line is not in the inventory' },
  'unknown-client': { kind: 'input', summary: 'a client named on the command line is not in the inventory' },
  'leaf-outlives-ca': { kind: 'input', summary: 'a certificate issued now would outlive the CA that signs it' },
  'jgroups-unreadable': {
    kind: 'input',
    summary: "the cluster's Tungsten JGroups keystore does not open with the store password",
  },
  'not-issued': { kind: 'input', summary: 'a file to render or push has not been issued yet (or cannot be read)' },
} as const satisfies Record<string, ErrorCodeInfo>;
