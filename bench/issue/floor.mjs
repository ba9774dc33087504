#!/usr/bin/env node
// bench/issue/floor.mjs DIR COUNT - the floor for `dbtls issue`: generates COUNT RSA-2048 key pairs
// with async crypto.generateKeyPair, all started at once (so libuv's thread pool keeps every core
// busy), and writes each private key as PKCS#8 PEM to DIR/key-NNNN.pem. No certificates: this is
// the cost no issuer can avoid. Only Node built-ins; started as a whole process like the others.
import { generateKeyPair, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const [dir, countArg, keyType = 'rsa2048'] = process.argv.slice(2);
const count = Number(countArg);
if (!dir || !Number.isInteger(count) || count < 1) {
  console.error('usage: node bench/issue/floor.mjs DIR COUNT');
  process.exit(2);
}
const gen = promisify(generateKeyPair);
const encoding = {
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
};
// P-256 keys cost little next to the signatures a certificate needs: for that row the floor also makes
// COUNT-1 native ECDSA signatures (one per certificate; the CA's key signs them all).
const params =
  keyType === 'p256'
    ? ['ec', { namedCurve: 'prime256v1', ...encoding }]
    : ['rsa', { modulusLength: 2048, publicExponent: 0x10001, ...encoding }];
await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    const { privateKey } = await gen(...params);
    if (keyType === 'p256' && i > 0) sign('sha256', Buffer.alloc(600, i), privateKey);
    await writeFile(join(dir, `key-${String(i).padStart(4, '0')}.pem`), privateKey, { mode: 0o600 });
  }),
);
