// A cluster PKI from `dbtls issue` (node db1 on 127.0.0.1, client "app") with the client's key store
// and the CA's trust store written by dbtls's own JKS and PKCS#12 writers, in both types.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeInventory } from './inventory.js';
import { dbtls } from './run.js';
import { tempDir } from './tmp.js';
import type { Scope } from './scope.js';
import { writeJks } from '../../lib/keystore/jks.js';
import { writePkcs12 } from '../../lib/keystore/pkcs12.js';
import type { StoreInput } from '../../lib/keystore/types.js';

export type JavaType = 'JKS' | 'PKCS12';
export const JAVA_TYPES: JavaType[] = ['JKS', 'PKCS12'];

export interface JavaPki {
  /** The PKI directory. */
  dir: string;
  keystore: Record<JavaType, string>;
  truststore: Record<JavaType, string>;
  pem(rel: string): Promise<string>;
  /** The client's PKCS#12 pair as `dbtls issue` made it (`keystore: pkcs12`), and the kept store password. */
  issued: { keystore: string; truststore: string; storepass: string };
}

export interface JavaPkiOptions {
  caCommonName?: string;
  /** Add localhost to db1's SANs. */
  localhost?: boolean;
  storepass: string;
  trustpass: string;
  /** leaf.keyType and ca.keyType (default: RSA 2048). */
  leafKeyType?: string;
  caKeyType?: string;
}

export async function makeJavaPki(scope: Scope, opts: JavaPkiOptions): Promise<JavaPki> {
  const dir = await tempDir(scope, 'dbtls-java-pki-');
  const inv = await writeInventory(dir, {
    caCommonName: opts.caCommonName,
    nodes: [{ name: 'db1', host: '127.0.0.1', localhost: opts.localhost }],
    clients: [{ name: 'app', keystore: 'pkcs12' }],
    ...(opts.leafKeyType ? { leafKeyType: opts.leafKeyType } : {}),
    ...(opts.caKeyType ? { caKeyType: opts.caKeyType } : {}),
  });
  const r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 0, `dbtls issue failed:\n${r.stdout}\n${r.stderr}`);
  const pki = join(dir, 'pki');
  const pem = (rel: string) => readFile(join(pki, rel), 'utf8');
  const ca = new X509Certificate(await pem('ca.pem')).raw;
  const leaf = new X509Certificate(await pem('clients/app/client-cert.pem')).raw;
  const key = createPrivateKey(await pem('clients/app/client-key.pem'));
  const keyEntries: StoreInput[] = [{ kind: 'private-key', alias: 'app', key, chain: [leaf, ca] }];
  const trustEntries: StoreInput[] = [{ kind: 'trusted-cert', alias: 'cluster-ca', cert: ca }];
  const write = (type: JavaType, entries: StoreInput[], pass: string) =>
    type === 'JKS' ? writeJks(entries, pass) : writePkcs12(entries, pass);
  const ext: Record<JavaType, string> = { JKS: 'jks', PKCS12: 'p12' };
  const keystore = {} as Record<JavaType, string>;
  const truststore = {} as Record<JavaType, string>;
  for (const type of JAVA_TYPES) {
    keystore[type] = join(dir, `app-keystore.${ext[type]}`);
    truststore[type] = join(dir, `truststore.${ext[type]}`);
    await writeFile(keystore[type], write(type, keyEntries, opts.storepass));
    await writeFile(truststore[type], write(type, trustEntries, opts.trustpass));
  }
  const issued = {
    keystore: join(pki, 'clients/app/keystore.p12'),
    truststore: join(pki, 'clients/app/truststore.p12'),
    storepass: (await pem('storepass')).trim(),
  };
  return { dir: pki, keystore, truststore, pem, issued };
}
