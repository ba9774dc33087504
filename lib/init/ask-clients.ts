// The wizard's question about client identities (applications, users): their names, and for each one
// typed at the terminal whether it also gets a Java keystore. The answers file lists them with their
// own commonName and keystore.
import * as rules from '../inventory/rules.js';
import type { StoreType } from '../keystore/types.js';
import type { ClientAnswer } from './model.js';
import type { AnswerSource } from './questions.js';

export async function clientAnswers(src: AnswerSource, caCn: string): Promise<ClientAnswer[]> {
  const clash = (cn: string) => cn.toLowerCase() === caCn.toLowerCase();
  const given = src.given('clients') as Array<{ name: string; commonName?: string; keystore?: StoreType }> | undefined;
  if (given) {
    const seen = new Set<string>();
    return given.map((c, i) => {
      if (seen.has(c.name.toLowerCase())) throw src.bad(`clients[${i}].name`, `duplicate client name "${c.name}"`);
      seen.add(c.name.toLowerCase());
      const cn = c.commonName ?? c.name;
      if (clash(cn))
        throw src.bad(
          `clients[${i}].${c.commonName ? 'commonName' : 'name'}`,
          `equals the CA's commonName "${caCn}"; a certificate's CN must differ from its CA's`,
        );
      return {
        name: c.name,
        ...(c.commonName ? { commonName: c.commonName } : {}),
        ...(c.keystore ? { keystore: c.keystore } : {}),
      };
    });
  }
  const names = (s: string) => s.split(/[\s,]+/).filter(Boolean);
  const text = await src.text({
    key: 'clients',
    message: 'Client identities: application or user names, comma-separated (empty: none)',
    default: '',
    optional: true,
    validate: (s) => {
      const list = names(s);
      for (const n of list) {
        const bad = rules.safeName(n) ?? (clash(n) ? `"${n}" equals the CA's CN` : undefined);
        if (bad) return bad;
      }
      const dup = list.find((n, i) => list.findIndex((m) => m.toLowerCase() === n.toLowerCase()) !== i);
      return dup ? `"${dup}" is listed twice` : undefined;
    },
  });
  const out: ClientAnswer[] = [];
  for (const [i, name] of names(text).entries()) {
    const keystore = await src.select<'' | StoreType>({
      key: `clients[${i}].keystore`,
      message: `${name}: also a Java keystore and truststore?`,
      choices: [
        { value: '', name: 'no', description: 'PEM files only' },
        { value: 'pkcs12', name: 'PKCS#12', description: 'keystore.p12 + truststore.p12' },
        { value: 'jks', name: 'JKS', description: 'keystore.jks + truststore.jks' },
      ],
      default: '',
    });
    out.push({ name, ...(keystore ? { keystore } : {}) });
  }
  return out;
}
