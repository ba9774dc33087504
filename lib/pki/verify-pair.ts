// One check of a certificate and its key as dbtls keeps them: both parse, the key belongs to the
// certificate, and the certificate was signed by one of the given CAs. `issue` runs it before it
// calls a leaf up to date, and push runs it before a pair leaves the machine, so a truncated key,
// a key swapped with another node's or a certificate from another CA is never passed on.
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { parseCertificates, signedBy } from './cert-info.js';
import { keyReadFailure, parsePrivateKey, sameKey } from './keys.js';
import { readTextNoFollow } from '../store/safe-fs.js';
import { DbtlsError, inputError, isDbtlsError } from '../errors.js';

export type VerifyProblemCode =
  /** The certificate file holds no readable PEM certificate. */
  | 'bad-certificate'
  /** The key file holds no readable private key (truncated, garbled, wrong passphrase). */
  | 'bad-key'
  /** The key is a good key, but not the one whose public half the certificate carries. */
  | 'key-mismatch'
  /** No CA of the given ones signed the certificate. */
  | 'wrong-ca';

export interface VerifyProblem {
  code: VerifyProblemCode;
  /** Which of the two files is at fault. */
  which: 'cert' | 'key';
  /** Why, without the file's name (callers name it). */
  message: string;
}

export interface VerifyPairOptions {
  /** For an encrypted key. */
  passphrase?: string;
}

/** The CAs as certificates; a text that holds none is skipped (the caller vouches for its CAs). */
function caCertificates(caPems: string[]): X509Certificate[] {
  return caPems.flatMap((pem) => {
    try {
      return parseCertificates(pem);
    } catch {
      return [];
    }
  });
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

/**
 * Verifies a leaf and its key: undefined when they are a good pair signed by one of `caPems`,
 * otherwise the first problem found (certificate, then key, then match, then chain).
 * Time is not checked: an expired certificate is still the right pair (renewal is `rotate`'s job).
 */
export function verifyPair(
  certPem: string,
  keyPem: string,
  caPems: string[],
  opts: VerifyPairOptions = {},
): VerifyProblem | undefined {
  let cert: X509Certificate | undefined;
  let carried: X509Certificate[] = [];
  try {
    [cert, ...carried] = parseCertificates(certPem);
  } catch (e) {
    return { code: 'bad-certificate', which: 'cert', message: `is not a readable certificate (${firstLine(e)})` };
  }
  if (!cert)
    return { code: 'bad-certificate', which: 'cert', message: 'holds no PEM certificate (truncated or garbled?)' };

  let key: KeyObject;
  try {
    key = parsePrivateKey(keyPem, opts.passphrase);
  } catch (e) {
    return { code: 'bad-key', which: 'key', message: `is not a readable private key (${keyReadFailure(e)})` };
  }
  if (key.type !== 'private') return { code: 'bad-key', which: 'key', message: 'holds no private key' };

  let matches: boolean;
  try {
    matches = sameKey(cert.publicKey, key);
  } catch {
    matches = false;
  }
  if (!matches)
    return {
      code: 'key-mismatch',
      which: 'key',
      message: 'does not belong to its certificate (a key of another certificate?)',
    };

  // Signed by a CA given, or (an intermediate's leaf) through the CAs its file carries after it, in
  // order, up to one a CA given signed: the chain a server sends from this file.
  const cas = caCertificates(caPems);
  const byCa = (c: X509Certificate) => cas.some((ca) => signedBy(c, ca));
  let current = cert;
  let chained = byCa(current);
  for (const next of carried) {
    if (chained || !next.ca || !signedBy(current, next)) break;
    current = next;
    chained = byCa(current);
  }
  if (!chained) {
    return { code: 'wrong-ca', which: 'cert', message: "was not signed by this cluster's CA" };
  }
  return undefined;
}

export interface VerifyPairFilesOptions extends VerifyPairOptions {
  /** The remedy to offer, e.g. "dbtls issue --force --node db1"; a general one otherwise. */
  hint?: string;
}

/**
 * Reads a certificate and its key (no symlinks, regular files only, bounded: lib/store/safe-fs.ts)
 * and verifies them with verifyPair. Throws a DbtlsError of kind input naming the file at fault and
 * the problem; `what` names the pair for the message ("db1's server certificate").
 */
export async function verifyPairFiles(
  certPath: string,
  keyPath: string,
  caPems: string[],
  what: string,
  opts: VerifyPairFilesOptions = {},
): Promise<void> {
  const hint =
    opts.hint ??
    're-issue it deliberately with `dbtls issue --force --node NAME` (or --client NAME), or restore the files from a backup';
  const read = async (path: string, label: string): Promise<string> => {
    try {
      return await readTextNoFollow(path, { what: label });
    } catch (e) {
      if (isDbtlsError(e)) throw inputError(e.code, `${what}: ${e.message}`, { file: path }, e.hint ?? hint, e);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw inputError('pair-missing', `${what}: ${path} is missing`, { file: path }, hint);
      throw inputError(
        'pair-unreadable',
        `${what}: cannot read ${path}: ${firstLine(e)}`,
        { file: path },
        undefined,
        e,
      );
    }
  };
  const [certPem, keyPem] = await Promise.all([read(certPath, 'certificates'), read(keyPath, 'private keys')]);
  const problem = verifyPair(certPem, keyPem, caPems, opts);
  if (problem) throw pairError(problem, certPath, keyPath, what, hint);
}

/** The error for a problem verifyPair found: kind input, code "pair-<problem>", naming the file at fault. */
export function pairError(
  problem: VerifyProblem,
  certPath: string,
  keyPath: string,
  what: string,
  hint: string,
): DbtlsError {
  const file = problem.which === 'cert' ? certPath : keyPath;
  return inputError(`pair-${problem.code}`, `${what}: ${file} ${problem.message}`, { file }, hint);
}

export interface KeyPairProblem {
  code: 'bad-key' | 'key-mismatch';
  /** Which file is at fault. */
  which: 'private' | 'public';
  message: string;
}

/**
 * The same check for a bare key pair (MySQL's private_key.pem / public_key.pem): both parse and
 * the public key is the private key's public half.
 */
export function keyPairProblem(privatePem: string, publicPem: string): KeyPairProblem | undefined {
  let key: KeyObject;
  try {
    key = parsePrivateKey(privatePem);
  } catch (e) {
    return { code: 'bad-key', which: 'private', message: `is not a readable private key (${keyReadFailure(e)})` };
  }
  let matches: boolean;
  try {
    matches = sameKey(createPublicKey(publicPem), key);
  } catch (e) {
    return {
      code: 'bad-key',
      which: 'public',
      message: `is not a readable public key (truncated or garbled?): ${firstLine(e)}`,
    };
  }
  if (!matches) return { code: 'key-mismatch', which: 'public', message: 'is not the public half of its private key' };
  return undefined;
}
