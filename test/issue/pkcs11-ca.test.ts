// The CA key in a PKCS#11 token (`ca.pkcs11`), against a real SoftHSM2 token through the real CLI:
// `issue` generates the key on the token and signs the CA and every leaf there, `revoke` signs the
// CRL there, `rotate leaf` re-issues with it; OpenSSL verifies all of it. The key is never on disk:
// no ca-key.pem, no file of the PKI directory holds a private key of the CA's public key, and the
// token reports it sensitive and never extractable. The PIN comes as the CA passphrase does and
// appears in no output; without it, or with a wrong one, nothing is written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { cliPath } from '../helpers/paths.js';
import { join } from 'node:path';
import { dbtls, run, type RunOptions } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';
import { createSoftHsmToken, type SoftHsmToken } from '../helpers/softhsm.js';
import { fileScope } from '../helpers/scope.js';

const PIN = 'pin-7cf3e19a';
const scope = fileScope();
let token: SoftHsmToken;
before(async () => {
  token = await createSoftHsmToken({ label: 'dbtls-test', soPin: 'so-4412', pin: PIN });
});
after(() => token?.cleanup());

const withPin = (pin = PIN) => ({ env: { ...process.env, DBTLS_CA_PASSPHRASE: pin }, timeoutMs: 60_000 });

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  return out;
}

test('issue, revoke and rotate leaf sign in the token; OpenSSL verifies; the CA key is on no disk; the PIN is in no output', async () => {
  const dir = await tempDir(scope);
  const reloads = join(dir, 'reloads.log');
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: '10.9.0.1', roles: ['mariadb'], dest: '/etc/mysql/ssl', reload: `echo db1 >> ${reloads}` },
    ],
    clients: ['app'],
    caKeyType: 'p256',
    crlDays: 7,
    pkcs11: { module: token.module, token: 'dbtls-test', label: 'cluster-ca' },
  });
  const pki = join(dir, 'pki');
  const outputs: string[] = [];
  const cli = async (args: string[], opts: RunOptions = withPin()) => {
    const r = await dbtls(args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  // No PIN: refused before anything is made, on disk or on the token.
  const noPin = await cli(['issue', '-i', inv], { env: process.env, timeoutMs: 60_000 });
  assert.equal(noPin.code, 2, noPin.stderr);
  assert.match(noPin.stderr, /the CA key is in the PKCS#11 token "dbtls-test" .* and no PIN was given/);
  await assert.rejects(stat(join(pki, 'ca.pem')));

  const issued = await cli(['issue', '-i', inv, '--json']);
  assert.equal(issued.code, 0, issued.stdout + issued.stderr);
  await assert.rejects(stat(join(pki, 'ca-key.pem')), 'no CA key file');
  const manifest = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8'));
  assert.equal(manifest.ca.key, 'pkcs11:token=dbtls-test;object=cluster-ca');
  const ca = new X509Certificate(await readFile(join(pki, 'ca.pem')));
  assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'generated on the token as ca.keyType');
  const verify = (cert: string, ...extra: string[]) =>
    run('openssl', ['verify', ...extra, '-CAfile', join(pki, 'ca.pem'), join(pki, cert)]);
  for (const cert of ['nodes/db1/server-cert.pem', 'nodes/db1/client-cert.pem', 'clients/app/client-cert.pem'])
    assert.equal((await verify(cert)).code, 0, cert);
  const crl = await run('openssl', ['crl', '-in', join(pki, 'crl.pem'), '-CAfile', join(pki, 'ca.pem'), '-noout']);
  assert.match(crl.stderr + crl.stdout, /verify OK/);

  // The key stays in the token: the token says so, and no private key on disk is the CA's.
  const objects = await run(
    'pkcs11-tool',
    ['--module', token.module, '--token-label', 'dbtls-test', '--login', '--pin', PIN, '--list-objects'],
    { env: token.env },
  );
  assert.match(objects.stdout, /Private Key Object; EC[^]*label:\s+cluster-ca[^]*never extractable/);
  const caSpki = ca.publicKey.export({ type: 'spki', format: 'der' });
  for (const file of await files(pki)) {
    const text = await readFile(file, 'latin1');
    for (const pem of text.match(
      /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[^-]+-----END (?:EC |RSA )?PRIVATE KEY-----/g,
    ) ?? []) {
      const spki = createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
      assert.ok(!spki.equals(caSpki), `${file} holds the CA's private key`);
    }
  }

  // check needs no PIN (it opens no token).
  const check = await cli(['check', '-i', inv], { env: process.env, timeoutMs: 60_000 });
  assert.equal(check.code, 0, check.stdout + check.stderr);

  // revoke signs the CRL in the token; OpenSSL then refuses the certificate.
  const revoked = await cli(['revoke', '-i', inv, '--client', 'app', '--reason', 'keyCompromise']);
  assert.equal(revoked.code, 0, revoked.stderr);
  const refused = await verify('clients/app/client-cert.pem', '-crl_check', '-CRLfile', join(pki, 'crl.pem'));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /certificate revoked/);

  // rotate leaf re-issues in the token, pushes and reloads.
  const root = join(dir, 'nodes');
  assert.equal((await cli(['apply', '-i', inv, '--local-root', root])).code, 0);
  const before = new X509Certificate(await readFile(join(pki, 'nodes/db1/server-cert.pem'))).serialNumber;
  const rotated = await cli(['rotate', 'leaf', '-i', inv, '--local-root', root, '--all', '--yes']);
  assert.equal(rotated.code, 0, rotated.stdout + rotated.stderr);
  const after = new X509Certificate(await readFile(join(root, 'db1/etc/mysql/ssl/server-cert.pem')));
  assert.notEqual(after.serialNumber, before);
  assert.ok(after.verify(ca.publicKey), 'the new leaf is signed by the token key');

  // A wrong PIN: refused, nothing written, and neither PIN shown.
  const manifestBefore = await readFile(join(pki, 'manifest.json'), 'utf8');
  const wrong = await cli(['issue', '-i', inv, '--force', '--json'], withPin('wrong-pin-0000'));
  assert.equal(wrong.code, 2, wrong.stdout + wrong.stderr);
  assert.equal(JSON.parse(wrong.stdout).error.code, 'pkcs11-pin');
  assert.ok(!(wrong.stdout + wrong.stderr).includes('wrong-pin-0000'));
  assert.equal(await readFile(join(pki, 'manifest.json'), 'utf8'), manifestBefore);

  // While it signs, the process's open files (sampled from /proc): none holds the CA's private key.
  // Forty more clients (same PKI), so the run lasts long enough to be watched at work.
  const big = await writeInventory(
    dir,
    {
      nodes: [
        { name: 'db1', host: '10.9.0.1', roles: ['mariadb'], dest: '/etc/mysql/ssl', reload: `echo db1 >> ${reloads}` },
      ],
      clients: ['app', ...Array.from({ length: 40 }, (_, i) => `bulk${i}`)],
      caKeyType: 'p256',
      crlDays: 7,
      pkcs11: { module: token.module, token: 'dbtls-test', label: 'cluster-ca' },
    },
    'big.yml',
  );
  const child = spawn(process.execPath, [cliPath, 'issue', '-i', big], {
    env: { ...process.env, DBTLS_CA_PASSPHRASE: PIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.resume();
  child.stderr.resume();
  const seen = new Set<string>();
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let running = true;
  void exited.then(() => (running = false));
  const deadline = Date.now() + 60_000;
  while (running && Date.now() < deadline) {
    for (const fd of await readdir(`/proc/${child.pid}/fd`).catch(() => [] as string[]))
      seen.add(await readlink(`/proc/${child.pid}/fd/${fd}`).catch(() => ''));
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(await exited, 0);
  const opened = [...seen].filter((p) => p.startsWith('/'));
  // The sampling saw the run at work: the leaf keys' temporaries it wrote.
  assert.ok(
    opened.some((p) => p.startsWith(pki) && /\.pem\.[0-9a-f]+\.dbtls-tmp$/.test(p)),
    `no key being written was seen open: ${opened.join(', ')}`,
  );
  for (const path of opened) {
    const text = await readFile(path, 'latin1').catch(() => '');
    for (const pem of text.match(
      /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[^-]+-----END (?:EC |RSA )?PRIVATE KEY-----/g,
    ) ?? []) {
      const spki = createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
      assert.ok(!spki.equals(caSpki), `${path}, open in the process, holds the CA's private key`);
    }
  }

  // rotate ca would write a new CA key file: refused, naming why.
  const rotateCa = await cli(['rotate', 'ca', '-i', inv, '--yes', '--local-root', root]);
  assert.equal(rotateCa.code, 2);
  assert.match(rotateCa.stderr, /keeps the CA key in a PKCS#11 token \(ca\.pkcs11\): not supported yet/);

  // A key file beside the token's: the key would be in two places. Refused by issue, flagged by check.
  await writeFile(join(pki, 'ca-key.pem'), 'planted\n', { mode: 0o600 });
  const planted = await cli(['issue', '-i', inv, '--force']);
  assert.equal(planted.code, 2);
  assert.match(planted.stderr, /ca-key\.pem exists, but .* puts the CA key in the PKCS#11 token "dbtls-test"/);
  const flagged = await cli(['check', '-i', inv, '--json'], { env: process.env, timeoutMs: 60_000 });
  assert.equal(flagged.code, 1);
  assert.match(JSON.stringify(JSON.parse(flagged.stdout).items[0].problems), /ca-key\.pem exists, but the inventory/);

  for (const o of outputs) assert.ok(!o.includes(PIN), 'the PIN appears in an output');
});
