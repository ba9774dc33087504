// The wizard's questions about the CA and what it signs: the CA's CN, the subject fields on every
// certificate, validity in days and RSA key sizes.
import * as rules from '../inventory/rules.js';
import { DEFAULTS, type SubjectFields } from '../inventory/model.js';
import { DEFAULT_KEY_SIZE, RSA_KEY_SIZES, type RsaKeySize } from '../pki/keys.js';
import type { InitAnswers } from './model.js';
import type { NodeAnswer } from './nodes.js';
import { emptyOr, type AnswerSource } from './questions.js';

export async function caAnswers(
  src: AnswerSource,
  cluster: string,
  nodes: NodeAnswer[],
): Promise<Pick<InitAnswers, 'ca' | 'leaf' | 'subject'>> {
  const commonName = await src.text({
    key: 'ca.commonName',
    message: 'CA common name (CN)',
    default: `${cluster} CA`,
    validate: (s) =>
      rules.commonName(s) ??
      (nodes.some((n) => n.name.toLowerCase() === s.toLowerCase())
        ? `equals a node's name; a certificate's CN must differ from its CA's`
        : undefined),
  });
  const subject: SubjectFields = {};
  const field = async (k: keyof SubjectFields, message: string, rule: rules.Rule<string>) => {
    const v = await src.text({ key: `subject.${k}`, message, default: '', optional: true, validate: emptyOr(rule) });
    // Country codes are upper case in certificates (ISO 3166), whatever was typed.
    if (v) subject[k] = k === 'C' ? v.toUpperCase() : v;
  };
  await field('O', 'Organisation (O) on every certificate (empty: none)', rules.subjectText(64));
  await field('OU', 'Organisational unit (OU) (empty: none)', rules.subjectText(64));
  await field('C', 'Country (C), two letters (empty: none)', rules.country);
  // State and city are rarely wanted: the answers file can give them, the terminal does not ask.
  for (const k of ['ST', 'L'] as const) {
    const v = src.given(`subject.${k}`);
    if (typeof v === 'string') subject[k] = v;
  }
  const caDays = await src.integer({
    key: 'ca.days',
    message: 'CA validity in days',
    default: DEFAULTS.ca.days,
    validate: rules.days,
  });
  const leafDays = await src.integer({
    key: 'leaf.days',
    message: 'Node and client certificate validity in days',
    default: DEFAULTS.leaf.days,
    validate: rules.days,
  });
  const sizes = RSA_KEY_SIZES.map((n) => ({ value: n as RsaKeySize, name: String(n) }));
  const caKey = await src.select<RsaKeySize>({
    key: 'ca.keySize',
    message: 'RSA key size',
    choices: sizes,
    default: DEFAULT_KEY_SIZE,
  });
  const leafKey = src.has('leaf.keySize')
    ? await src.select<RsaKeySize>({
        key: 'leaf.keySize',
        message: 'RSA key size of node and client keys',
        choices: sizes,
        default: caKey,
      })
    : caKey;
  // Key types, revocation and an intermediate: from an answers file (the terminal does not ask).
  const given = <T>(key: string, type: string): T | undefined => {
    const v = src.given(key);
    return typeof v === type ? (v as T) : undefined;
  };
  const caKeyType = given<string>('ca.keyType', 'string');
  const leafKeyType = given<string>('leaf.keyType', 'string');
  const crlDays = given<number>('ca.crlDays', 'number');
  const intermediate = given<boolean>('ca.intermediate', 'boolean');
  const token = given<{ module: string; token: string; label: string }>('ca.pkcs11', 'object');
  return {
    subject,
    ca: {
      commonName,
      days: caDays,
      keySize: caKey,
      ...(caKeyType ? { keyType: caKeyType } : {}),
      ...(crlDays !== undefined ? { crlDays } : {}),
      ...(intermediate ? { intermediate } : {}),
      ...(token ? { pkcs11: { module: token.module, token: token.token, label: token.label } } : {}),
    },
    leaf: { days: leafDays, keySize: leafKey, ...(leafKeyType ? { keyType: leafKeyType } : {}) },
  };
}
