// REQUIRE SUBJECT / ISSUER with the characters that broke them (issue 12, finding 12), on a real
// MariaDB: the accounts created by the rendered users.sql log in with their certificates, a wrong
// certificate does not, and the server stores exactly what OpenSSL's X509_NAME_oneline() prints for
// the certificates (the string it compares). The server runs with NO_BACKSLASH_ESCAPES, so the file's
// own sql_mode statement is what keeps '\\' one backslash. Values no one form can carry are refused,
// located, with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findMariadb, startMariadb, type MariadbServer } from '../helpers/mariadb.js';
import { dbtls, run } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';

const scope = fileScope();
const SUBJECT = {
  C: 'DE',
  ST: 'Baden-W\u00fcrttemberg',
  L: 'back\\slash',
  O: `a "quoted"; s, t=u O'Neil`,
  OU: 'caf\u00e9 <ops> #1',
};
const CA_CN = `Test "CA"; back\\slash \u00e9`;

function inventoryDoc(
  pki: string,
  subject: object = SUBJECT,
  clients: object[] = [{ name: 'app' }, { name: 'other' }],
): string {
  return stringify({
    cluster: 'subj',
    pki,
    subject,
    ca: { commonName: CA_CN },
    nodes: [{ name: 'db1', host: '127.0.0.1', roles: ['mariadb'], transport: 'local' }],
    clients,
  });
}

/** X509_NAME_oneline() of a certificate's subject or issuer, printed by the real OpenSSL. */
async function oneline(cert: string, which: 'subject' | 'issuer'): Promise<string> {
  const r = await run('openssl', ['x509', '-in', cert, '-noout', `-${which}`, '-nameopt', 'compat']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.replace(/^(subject|issuer)=/, '').replace(/\n$/, '');
}

interface Fixture {
  dir: string;
  pki: string;
  db: MariadbServer;
}

const fixture = once(async (): Promise<Fixture> => {
  const dir = await tempDir(scope, 'dbtls-require-subject-');
  const inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, inventoryDoc('./pki'));
  const issued = await dbtls(['issue', '-i', inventory]);
  assert.equal(issued.code, 0, issued.stderr);
  const rendered = await dbtls(['render', '-i', inventory]);
  assert.equal(rendered.code, 0, rendered.stderr);
  // A second PKI from the same inventory: a CA with the same name but another key, and an "app"
  // certificate whose subject and issuer read exactly like the real one's.
  const impostor = join(dir, 'impostor');
  await mkdir(impostor);
  await writeFile(join(impostor, 'inventory.yml'), inventoryDoc('./pki'));
  const again = await dbtls(['issue', '-i', join(impostor, 'inventory.yml')]);
  assert.equal(again.code, 0, again.stderr);

  const pki = join(dir, 'pki');
  const node = (f: string) => join(pki, 'nodes/db1', f);
  const db = await startMariadb(scope, {
    ssl: { ca: join(pki, 'ca.pem'), cert: node('server-cert.pem'), key: node('server-key.pem') },
    serverArgs: ['--sql-mode=NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES'],
  });
  const bins = await findMariadb();
  assert.ok(bins);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MYSQL_') && !k.startsWith('MARIADB_')),
  );
  // `mariadb < users.sql`, as the file's header says to apply it; twice (it is idempotent).
  for (let i = 0; i < 2; i++) {
    const r = await run(bins.client, ['--no-defaults', `--socket=${db.socket}`, '-uroot'], {
      input: await readFile(join(pki, 'rendered/db1/users.sql'), 'utf8'),
      env,
    });
    assert.equal(r.code, 0, r.stderr);
  }
  return { dir, pki, db };
});

function login(fx: Fixture, user: string, certDir: string): ReturnType<MariadbServer['client']> {
  return fx.db.client([
    `--user=${user}`,
    `--ssl-ca=${join(fx.pki, 'ca.pem')}`,
    `--ssl-cert=${join(certDir, 'client-cert.pem')}`,
    `--ssl-key=${join(certDir, 'client-key.pem')}`,
    '--ssl-verify-server-cert',
    '-N',
    '-B',
    '-e',
    'SELECT CURRENT_USER()',
  ]);
}

test('users.sql stores exactly the one-line names the server compares, even under NO_BACKSLASH_ESCAPES', async () => {
  const fx = await fixture();
  assert.match((await fx.db.sql('SELECT @@GLOBAL.sql_mode')).trim(), /(^|,)NO_BACKSLASH_ESCAPES(,|$)/);
  const cert = join(fx.pki, 'clients/app/client-cert.pem');
  const stored = (
    await fx.db.sql(
      "SELECT HEX(JSON_VALUE(Priv, '$.x509_subject')), HEX(JSON_VALUE(Priv, '$.x509_issuer')) FROM mysql.global_priv WHERE User = 'app'",
    )
  )
    .trim()
    .split('\t');
  const [subject, issuer] = stored.map((h) => Buffer.from(h, 'hex').toString('latin1'));
  assert.equal(subject, await oneline(cert, 'subject'));
  assert.equal(issuer, await oneline(cert, 'issuer'));
  // The characters of the finding, as the server sees them: one backslash, the quotes and ";" bare, é as \xC3\xA9.
  assert.equal(
    issuer,
    `/C=DE/ST=Baden-W\\xC3\\xBCrttemberg/L=back\\slash/O=a "quoted"; s, t=u O'Neil/OU=caf\\xC3\\xA9 <ops> #1/CN=Test "CA"; back\\slash \\xC3\\xA9`,
  );
});

test('the account logs in with its certificate; another subject of the same CA, and the same names from another CA, do not', async () => {
  const fx = await fixture();
  const app = await login(fx, 'app', join(fx.pki, 'clients/app'));
  assert.equal(
    app.code,
    0,
    `app was locked out: ${app.stderr}\n${(await readFile(fx.db.errorLog, 'utf8'))
      .split('\n')
      .filter((l) => /X509/.test(l))
      .join('\n')}`,
  );
  assert.equal(app.stdout.trim(), 'app@%');
  assert.doesNotMatch(
    await readFile(fx.db.errorLog, 'utf8'),
    /X509 (issuer|subject) mismatch: should be '[^']*' but is '[^']*CN=app'/,
  );

  const other = await login(fx, 'app', join(fx.pki, 'clients/other'));
  assert.notEqual(other.code, 0, "other's certificate logged in as app");
  assert.match(other.stderr, /Access denied/);
  assert.match(await readFile(fx.db.errorLog, 'utf8'), /X509 subject mismatch/);

  // Same subject and issuer strings, another CA key: the server's chain check refuses it before any comparison.
  const impostor = await login(fx, 'app', join(fx.dir, 'impostor/pki/clients/app'));
  assert.notEqual(impostor.code, 0, 'a certificate of another CA with the same name logged in');
  assert.equal(
    await oneline(join(fx.dir, 'impostor/pki/clients/app/client-cert.pem'), 'issuer'),
    await oneline(join(fx.pki, 'clients/app/client-cert.pem'), 'issuer'),
  );

  // The other client's own account works too (every account of the file, not just one).
  const own = await login(fx, 'other', join(fx.pki, 'clients/other'));
  assert.equal(own.code, 0, own.stderr);
});

test('values no one-line form carries ("/", "+", "\\x") are refused at validation with file:line:column and field, exit 2', async (t) => {
  const dir = await tempDir(t);
  const inventory = join(dir, 'inventory.yml');
  await writeFile(
    inventory,
    inventoryDoc('./pki', { O: 'a/b', OU: 'x+y' }, [{ name: 'app', commonName: 'back\\xslash' }]),
  );
  for (const verb of ['issue', 'render']) {
    const r = await dbtls([verb, '-i', inventory]);
    assert.equal(r.code, 2, `${verb}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /inventory\.yml:\d+:\d+: subject\.O: must not contain "\/"/, verb);
    assert.match(r.stderr, /inventory\.yml:\d+:\d+: subject\.OU: must not contain "\+"/, verb);
    assert.match(
      r.stderr,
      /inventory\.yml:\d+:\d+: clients\[0\]\.commonName: must not contain a backslash followed by "x"/,
      verb,
    );
  }
  // The line is the value's own line.
  const lines = (await readFile(inventory, 'utf8')).split('\n');
  const r = await dbtls(['issue', '-i', inventory]);
  const line = Number(/inventory\.yml:(\d+):\d+: subject\.O:/.exec(r.stderr)?.[1]);
  assert.match(lines[line - 1] ?? '', /O: a\/b/);
});

test('a brought CA whose name holds "/" is refused by render, naming the certificate and the attribute, and nothing is written', async (t) => {
  const dir = await tempDir(t);
  const mk = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(dir, 'corp-key.pem'),
    '-out',
    join(dir, 'corp.pem'),
    '-days',
    '3650',
    '-subj',
    '/O=Corp\\/Ops/CN=Corp CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  assert.equal(mk.code, 0, mk.stderr);
  const inventory = join(dir, 'inventory.yml');
  await writeFile(inventory, inventoryDoc('./pki', { O: 'Example' }, [{ name: 'app' }]));
  const issued = await dbtls([
    'issue',
    '-i',
    inventory,
    '--ca-cert',
    join(dir, 'corp.pem'),
    '--ca-key',
    join(dir, 'corp-key.pem'),
  ]);
  assert.equal(issued.code, 0, issued.stderr);
  const r = await dbtls(['render', '-i', inventory]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /subject\.O: the subject O of \S*pki\/ca\.pem cannot be written for REQUIRE SUBJECT: "\/" in a value/,
  );
  assert.match(r.stderr, /hint: /);
  await assert.rejects(readFile(join(dir, 'pki/rendered/db1/users.sql')), { code: 'ENOENT' });
});
