// The distinguished names MySQL and MariaDB compare for REQUIRE SUBJECT and REQUIRE ISSUER: both
// servers call OpenSSL's X509_NAME_oneline() on the client certificate and strcmp() the result with
// the account's string, so the rendered SQL must hold exactly those bytes ("/C=DE/O=back\slash/CN=app"),
// not an RFC 2253 form ("O=back\\slash"). Computed from the certificate's DER, as OpenSSL does:
//   - each attribute as "/" + OpenSSL's short name + "=" + the value's bytes as encoded;
//   - a byte below 0x20 or above 0x7e as \xHH (upper-case hex), in every OpenSSL version;
//   - GeneralString's 4-byte groups with three zero bytes reduced to the fourth, as OpenSSL does.
// Where OpenSSL versions disagree, or the string would be ambiguous, the name is refused instead of
// rendered one way: "/" and "+" in a value (OpenSSL 3.x writes "\/" and "\+", 1.1.1 and older
// write them bare, which also makes the name ambiguous), a literal "\x" (it would read like an
// escaped byte), a multi-valued RDN (joined by "+" in 3.x, by "/" before), and an attribute type
// OpenSSL may not know by a short name (older versions print its dotted number).
import { children, readTlv, type Tlv } from '../pki/der.js';
import { NAME_ATTRIBUTES as SHORT_NAMES, readOid as oidOf } from '../pki/x509-der.js';
import { inputError } from '../errors.js';

const GENERAL_STRING = 0x1b;

export interface NameRefusal {
  /** The attribute, by short name (or dotted OID when it has none here). */
  attribute: string;
  why: string;
}

/** The value bytes OpenSSL prints (all of them, except GeneralString's zero-padded 4-byte groups). */
function printedBytes(tag: number, v: Buffer): number[] {
  const all = [...v];
  if (tag !== GENERAL_STRING || v.length % 4 !== 0) return all;
  const nonZero = [0, 1, 2, 3].map((k) => all.some((b, j) => j % 4 === k && b !== 0));
  if (nonZero[0] || nonZero[1] || nonZero[2]) return all;
  return all.filter((_, j) => j % 4 === 3);
}

/**
 * X509_NAME_oneline() of a DER Name, or what makes it unrenderable. Throws a plain Error on DER it
 * cannot walk (the caller names the file).
 */
export function onelineOfName(buf: Buffer, name: Tlv): { text: string } | { refused: NameRefusal } {
  let text = '';
  for (const rdn of children(buf, name)) {
    const atvs = children(buf, rdn);
    for (const atv of atvs) {
      const [type, val] = children(buf, atv);
      if (!type || !val) throw new Error('DER: attribute without a type or value');
      const oid = oidOf(buf, type);
      const sn = SHORT_NAMES[oid];
      if (!sn)
        return {
          refused: {
            attribute: oid,
            why: `attribute type ${oid} has no short name every OpenSSL version prints the same way`,
          },
        };
      if (atvs.length > 1)
        return {
          refused: {
            attribute: sn,
            why: 'it is part of a multi-valued RDN, which OpenSSL versions print differently ("+" or "/")',
          },
        };
      let value = '';
      let previous = -1;
      for (const b of printedBytes(val.tag, buf.subarray(val.start, val.end))) {
        if (b === 0x2f || b === 0x2b) {
          return {
            refused: {
              attribute: sn,
              why: `"${String.fromCharCode(b)}" in a value is printed bare by OpenSSL 1.1.1 and as "\\${String.fromCharCode(b)}" by 3.x, and a bare one is ambiguous`,
            },
          };
        }
        // A literal backslash before "x" would read like OpenSSL's escape of a byte (\xC3 for 0xC3).
        if (previous === 0x5c && b === 0x78)
          return {
            refused: { attribute: sn, why: 'a backslash followed by "x" reads like OpenSSL\'s \\xHH escape of a byte' },
          };
        value += b < 0x20 || b > 0x7e ? '\\x' + b.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(b);
        previous = b;
      }
      text += `/${sn}=${value}`;
    }
  }
  return { text };
}

/** Subject and issuer of a DER certificate, as X509_NAME_oneline() prints them. */
export function certificateNames(der: Buffer): {
  subject: ReturnType<typeof onelineOfName>;
  issuer: ReturnType<typeof onelineOfName>;
} {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  if (!tbs) throw new Error('DER: no tbsCertificate');
  const fields = children(der, tbs);
  // [0] version is optional; then serial, signature, issuer, validity, subject.
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = fields[at + 2];
  const subject = fields[at + 4];
  if (!issuer || !subject || issuer.tag !== 0x30 || subject.tag !== 0x30) throw new Error('DER: no issuer or subject');
  return { subject: onelineOfName(der, subject), issuer: onelineOfName(der, issuer) };
}

/** The one-line subject (or issuer) of the certificate in FILE, or a located input error. */
export function onelineOrRefuse(der: Buffer, which: 'subject' | 'issuer', file: string, hint: string): string {
  let names: ReturnType<typeof certificateNames>;
  try {
    names = certificateNames(der);
  } catch (e) {
    throw inputError('bad-certificate', `${file} is not a certificate dbtls can read (${(e as Error).message})`, {
      file,
    });
  }
  const r = names[which];
  if ('text' in r) return r.text;
  throw inputError(
    'subject-unrenderable',
    `the ${which} ${r.refused.attribute} of ${file} cannot be written for REQUIRE ${which.toUpperCase()}: ${r.refused.why}`,
    { file, field: `${which}.${r.refused.attribute}` },
    hint,
  );
}
