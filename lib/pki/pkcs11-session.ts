// The PKCS#11 plumbing under lib/pki/pkcs11.ts: pkcs11js (a native addon, an optional dependency)
// loaded on first use, the module initialised once per process, a token found by its label, a
// logged-in session, and key objects found by their label. Every failure is a DbtlsError naming the
// module, the token or the label (never the PIN).
//
// One process may hold several signers of one module (the old and the new CA of a rotation): the
// module is loaded and C_Initialize'd once and finalised when the last session closes, and a token is
// logged out when its last session closes (PKCS#11 logins are per application and token, not per
// session, so a second session on a token already logged in does not present its PIN again).
import { createRequire } from 'node:module';
import { DbtlsError, inputError, quoteValue } from '../errors.js';

export interface Pkcs11Settings {
  /** The PKCS#11 module: the path of the vendor's shared library. */
  module: string;
  /** The token label (CK_TOKEN_INFO.label, space-padded by the token, compared trimmed). */
  token: string;
  /** The key's CKA_LABEL, the same on its private and public object. */
  label: string;
}

/** The PKCS#11 (v2.40) numbers dbtls uses: the values pkcs11js exports too (the test checks each). */
export const CK = {
  CKO_PUBLIC_KEY: 2,
  CKO_PRIVATE_KEY: 3,
  CKA_CLASS: 0x0,
  CKA_TOKEN: 0x1,
  CKA_PRIVATE: 0x2,
  CKA_LABEL: 0x3,
  CKA_VALUE: 0x11,
  CKA_KEY_TYPE: 0x100,
  CKA_ID: 0x102,
  CKA_SENSITIVE: 0x103,
  CKA_SIGN: 0x108,
  CKA_VERIFY: 0x10a,
  CKA_MODULUS: 0x120,
  CKA_MODULUS_BITS: 0x121,
  CKA_PUBLIC_EXPONENT: 0x122,
  CKA_PRIVATE_EXPONENT: 0x123,
  CKA_EXTRACTABLE: 0x162,
  CKA_EC_PARAMS: 0x180,
  CKA_EC_POINT: 0x181,
  CKK_RSA: 0x0,
  CKK_EC: 0x3,
  CKM_RSA_PKCS_KEY_PAIR_GEN: 0x0,
  CKM_SHA256_RSA_PKCS: 0x40,
  CKM_EC_KEY_PAIR_GEN: 0x1040,
  CKM_ECDSA: 0x1041,
  CKU_USER: 1,
  CKF_RW_SESSION: 0x2,
  CKF_SERIAL_SESSION: 0x4,
  CKF_TOKEN_INITIALIZED: 0x400,
  CKR_ATTRIBUTE_SENSITIVE: 0x11,
  CKR_PIN_INCORRECT: 0xa0,
  CKR_PIN_LEN_RANGE: 0xa2,
  CKR_PIN_LOCKED: 0xa4,
  CKR_USER_ALREADY_LOGGED_IN: 0x100,
  CKR_CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;

// The part of pkcs11js dbtls calls, typed here: the package is optional, so its own types may be absent.
export type Handle = Buffer;
export interface Pkcs11Attribute {
  type: number;
  value?: number | boolean | string | Buffer;
}
export interface Pkcs11Api {
  load(path: string): void;
  close(): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): { label: string; flags: number };
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_Logout(session: Handle): void;
  C_FindObjectsInit(session: Handle, template: Pkcs11Attribute[]): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_DestroyObject(session: Handle, object: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Pkcs11Attribute[]): { type: number; value: Buffer }[];
  C_SignInit(session: Handle, mechanism: { mechanism: number }, key: Handle): void;
  C_Sign(session: Handle, data: Buffer, out: Buffer): Buffer;
  C_GenerateKeyPair(
    session: Handle,
    mechanism: { mechanism: number },
    publicTemplate: Pkcs11Attribute[],
    privateTemplate: Pkcs11Attribute[],
  ): { publicKey: Handle; privateKey: Handle };
}
export interface Pkcs11js {
  PKCS11: new () => Pkcs11Api;
}

/** pkcs11js, loaded on first use; an input error naming the remedy when it is not installed or not built. */
export function loadPkcs11js(): Pkcs11js {
  try {
    return createRequire(import.meta.url)('pkcs11js') as Pkcs11js;
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw inputError(
      'pkcs11-unavailable',
      `ca.pkcs11 needs the optional package pkcs11js, which is not installed (or not built for this Node): ${why}`,
      { field: 'ca.pkcs11' },
      'run: npm install pkcs11js',
      e,
    );
  }
}

/** The CKR_ return value of a pkcs11js error (its Pkcs11Error carries it as code and message). */
function ckr(e: unknown): { code: number; name: string } | undefined {
  if (!(e instanceof Error) || !/^CKR_\w+$/.test(e.message)) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? { code, name: e.message } : undefined;
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** A failed PKCS#11 call as a DbtlsError naming the call, the module and the token. */
export const failure = (what: string, settings: Pkcs11Settings, e: unknown): DbtlsError =>
  new DbtlsError(
    'pkcs11-failure',
    `${what} failed on token ${quoteValue(settings.token)} (${settings.module}): ${reason(e)}`,
    { cause: e },
  );

/** Runs a PKCS#11 call; a failure becomes a DbtlsError (one dbtls raised itself passes through). */
export function call<T>(what: string, settings: Pkcs11Settings, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof DbtlsError ? e : failure(what, settings, e);
  }
}

// ---- the module and its sessions ---------------------------------------------------------------

interface Library {
  api: Pkcs11Api;
  users: number;
  /** False when something else in the process had initialised the module: it finalises it, not us. */
  finalize: boolean;
  /** Open logged-in sessions by slot: the token is logged out when its last one closes. */
  logins: Map<string, number>;
}

const libraries = new Map<string, Library>();

function acquire(settings: Pkcs11Settings): Library {
  const known = libraries.get(settings.module);
  if (known) {
    known.users++;
    return known;
  }
  const api = new (loadPkcs11js().PKCS11)();
  const unusable = (what: string, e: unknown) =>
    inputError(
      'pkcs11-module',
      `ca.pkcs11.module ${quoteValue(settings.module)} ${what}: ${reason(e)}`,
      { field: 'ca.pkcs11.module' },
      "give the path of the token vendor's PKCS#11 library (SoftHSM2's is /usr/lib/softhsm/libsofthsm2.so)",
      e,
    );
  try {
    api.load(settings.module);
  } catch (e) {
    throw unusable('cannot be loaded as a PKCS#11 module', e);
  }
  let finalize = true;
  try {
    api.C_Initialize();
  } catch (e) {
    if (ckr(e)?.code === CK.CKR_CRYPTOKI_ALREADY_INITIALIZED) finalize = false;
    else {
      api.close();
      throw unusable('loads but C_Initialize failed', e);
    }
  }
  const lib: Library = { api, users: 1, finalize, logins: new Map() };
  libraries.set(settings.module, lib);
  return lib;
}

function release(settings: Pkcs11Settings, lib: Library): void {
  if (--lib.users > 0) return;
  libraries.delete(settings.module);
  try {
    if (lib.finalize) lib.api.C_Finalize();
  } finally {
    lib.api.close();
  }
}

function findSlot(api: Pkcs11Api, settings: Pkcs11Settings): Handle {
  const labels: string[] = [];
  const matches: Handle[] = [];
  for (const slot of call('C_GetSlotList', settings, () => api.C_GetSlotList(true))) {
    const info = call('C_GetTokenInfo', settings, () => api.C_GetTokenInfo(slot));
    if (!(info.flags & CK.CKF_TOKEN_INITIALIZED)) continue;
    const label = info.label.trim();
    labels.push(quoteValue(label));
    if (label === settings.token) matches.push(slot);
  }
  const found = labels.length ? `the tokens there are labelled ${labels.join(', ')}` : 'it has no initialised token';
  const where = { field: 'ca.pkcs11.token' };
  if (matches.length === 0)
    throw inputError(
      'pkcs11-no-token',
      `ca.pkcs11.token: no token labelled ${quoteValue(settings.token)} in ${settings.module}; ${found}`,
      where,
      'set ca.pkcs11.token to the label of the token that holds the CA key',
    );
  if (matches.length > 1)
    throw inputError(
      'pkcs11-no-token',
      `ca.pkcs11.token: ${matches.length} tokens in ${settings.module} are labelled ${quoteValue(settings.token)}; dbtls needs one`,
      where,
      'give each token its own label',
    );
  return matches[0]!;
}

export interface Session {
  api: Pkcs11Api;
  handle: Handle;
  close(): void;
}

/** A session on the token, logged in as the user with PIN. */
export function openSession(settings: Pkcs11Settings, pin: string, readWrite: boolean): Session {
  const lib = acquire(settings);
  const { api } = lib;
  let handle: Handle | undefined;
  let slotKey: string | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      if (handle && slotKey !== undefined) {
        const left = (lib.logins.get(slotKey) ?? 1) - 1;
        if (left > 0) lib.logins.set(slotKey, left);
        else {
          lib.logins.delete(slotKey);
          call('C_Logout', settings, () => api.C_Logout(handle!));
        }
      }
      if (handle) call('C_CloseSession', settings, () => api.C_CloseSession(handle!));
    } finally {
      release(settings, lib);
    }
  };
  try {
    const slot = findSlot(api, settings);
    const flags = CK.CKF_SERIAL_SESSION | (readWrite ? CK.CKF_RW_SESSION : 0);
    const session = call('C_OpenSession', settings, () => api.C_OpenSession(slot, flags));
    try {
      api.C_Login(session, CK.CKU_USER, pin);
    } catch (e) {
      const code = ckr(e);
      if (code?.code !== CK.CKR_USER_ALREADY_LOGGED_IN) {
        try {
          api.C_CloseSession(session);
        } catch {
          // the login's error is the one to report
        }
        // The PIN itself is never part of the message.
        if (code && [CK.CKR_PIN_INCORRECT, CK.CKR_PIN_LEN_RANGE, CK.CKR_PIN_LOCKED].some((c) => c === code.code))
          throw inputError(
            'pkcs11-pin',
            `the token ${quoteValue(settings.token)} (${settings.module}) refused the PIN: ${code.name}`,
            { field: 'ca.pkcs11' },
            code.code === CK.CKR_PIN_LOCKED
              ? "the user PIN is locked: the token's security officer must unlock it"
              : 'check the PIN given for the token',
          );
        throw failure('C_Login', settings, e);
      }
    }
    handle = session;
    slotKey = slot.toString('hex');
    lib.logins.set(slotKey, (lib.logins.get(slotKey) ?? 0) + 1);
  } catch (e) {
    try {
      close();
    } catch {
      // the first error is the one to report
    }
    throw e;
  }
  return { api, handle, close };
}

/** The objects of CLASS with the key label (at most 2: enough to tell one from several). */
export function findKeys(s: Session, settings: Pkcs11Settings, cls: number): Handle[] {
  const template = [
    { type: CK.CKA_CLASS, value: cls },
    { type: CK.CKA_LABEL, value: settings.label },
  ];
  return call('C_FindObjects', settings, () => {
    s.api.C_FindObjectsInit(s.handle, template);
    try {
      return s.api.C_FindObjects(s.handle, 2);
    } finally {
      s.api.C_FindObjectsFinal(s.handle);
    }
  });
}
