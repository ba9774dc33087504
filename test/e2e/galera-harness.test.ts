// The Galera harness (test/helpers/galera.ts) against Debian's galera-4, with certificates from
// dbtls's own PKI code: three MariaDB nodes on 127.0.0.1–3 form a cluster over TLS with per-node
// certificates of the peer profile (serverAuth + clientAuth, which Galera demands), each gcomm port
// serves its own node's certificate, a restarted node catches up by IST, FLUSH SSL reloads the
// provider's certificate live, and a node whose certificate comes from another CA is not admitted.
// These are the facts the galera role is built on (REFERENCE-2 §1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { chown, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { privateKeyToPem } from '../../lib/pki/keys.js';
import { galeraMissing, startGalera, type GaleraTls } from '../helpers/galera.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

const rsa = () =>
  new Promise<KeyObject>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (e, _pub, key) => (e ? reject(e) : resolve(key))),
  );

interface Pki {
  dir: string;
  caPem: string;
  caKey: KeyObject;
}

async function makeCa(dir: string, name: string): Promise<Pki> {
  const caKey = await rsa();
  const ca = issueCertificate({ profile: 'ca', subject: { CN: name }, days: 2, subjectKey: caKey });
  await writeFile(join(dir, `${name}.pem`), ca.pem, { mode: 0o644 });
  return { dir, caPem: ca.pem, caKey };
}

/** A peer-profile leaf for 127.0.0.N, written where the mysql user can read it (key 0600, owned by mysql). */
async function leaf(
  pki: Pki,
  caFile: string,
  n: number,
  tag: string,
  mysql: { uid: number; gid: number },
): Promise<GaleraTls & { serial: string }> {
  const key = await rsa();
  const cert = issueCertificate({
    profile: 'peer',
    subject: { CN: `node${n}-${tag}` },
    sans: [{ type: 'ip', value: `127.0.0.${n}` }],
    days: 1,
    subjectKey: key,
    issuer: loadIssuer(pki.caPem, pki.caKey),
  });
  const certFile = join(pki.dir, `node${n}-${tag}-cert.pem`);
  const keyFile = join(pki.dir, `node${n}-${tag}-key.pem`);
  await writeFile(certFile, cert.pem, { mode: 0o644 });
  await writeFile(keyFile, privateKeyToPem(key), { mode: 0o600 });
  await chown(keyFile, mysql.uid, mysql.gid);
  return { cert: certFile, key: keyFile, ca: caFile, serial: cert.serialHex.toUpperCase() };
}

/** The certificate a gcomm port serves to a client presenting CLIENT (the group channel demands one). */
async function servedSerial(host: string, port: number, client: GaleraTls): Promise<string> {
  const r = await run(
    'openssl',
    [
      's_client',
      '-connect',
      `${host}:${port}`,
      '-cert',
      client.cert,
      '-key',
      client.key,
      '-CAfile',
      client.ca,
      '-showcerts',
    ],
    {
      input: '',
      timeoutMs: 15_000,
    },
  );
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(r.stdout)?.[0];
  assert.ok(pem, `${host}:${port} served no certificate: ${r.stderr}`);
  return new X509Certificate(pem).serialNumber.toUpperCase();
}

const missing = await galeraMissing();

test(
  'galera harness: three nodes over TLS with per-node peer certificates; own certificate on each gcomm port; IST; FLUSH SSL reloads; a foreign CA is refused',
  { skip: missing ?? false, timeout: 300_000 },
  async (t) => {
    const dir = await tempDir(t, 'dbtls-galera-pki-');
    const ids = {
      uid: Number((await run('id', ['-u', 'mysql'])).stdout.trim()),
      gid: Number((await run('id', ['-g', 'mysql'])).stdout.trim()),
    };
    await chown(dir, ids.uid, ids.gid);
    const pki = await makeCa(dir, 'cluster-ca');
    const caFile = join(dir, 'cluster-ca.pem');
    const leaves = await Promise.all([1, 2, 3].map((n) => leaf(pki, caFile, n, 'a', ids)));

    const cluster = await startGalera(t, leaves);
    for (const node of cluster.nodes)
      assert.equal(await node.status('wsrep_cluster_size'), '3', `node ${node.index} sees 3 members`);
    const [n1, n2, n3] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];

    // Each group port serves its own node's certificate, over TLS.
    for (const [i, node] of cluster.nodes.entries()) {
      assert.equal(
        await servedSerial(node.host, node.gcommPort, leaves[0]!),
        leaves[i]!.serial,
        `node ${node.index} serves its own certificate`,
      );
    }

    // Replication, and a restarted node catching up by IST.
    await n1.sql(
      'CREATE DATABASE t; CREATE TABLE t.x (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(20)) ENGINE=InnoDB',
    );
    await n1.sql("INSERT INTO t.x (v) VALUES ('before')");
    await n3.stop();
    await n2.sql("INSERT INTO t.x (v) VALUES ('while-down')");
    await n3.start();
    assert.equal((await n3.sql('SELECT v FROM t.x ORDER BY id')).trim().split('\n').join(','), 'before,while-down');
    assert.match(
      await readFile(n3.errorLog, 'utf8'),
      /IST received/,
      'the restarted node caught up by IST, not a full SST',
    );

    // Live reload: new files moved over the configured paths, then FLUSH SSL; the cluster stays whole.
    const renewed = await leaf(pki, caFile, 2, 'b', ids);
    await rename(renewed.cert, leaves[1]!.cert);
    await rename(renewed.key, leaves[1]!.key);
    await n2.sql('FLUSH SSL');
    assert.equal(
      await servedSerial(n2.host, n2.gcommPort, leaves[0]!),
      renewed.serial,
      'FLUSH SSL reloaded the provider certificate',
    );
    assert.equal(await n1.status('wsrep_cluster_size'), '3');

    // A node whose certificate (and trust) come from another CA is not admitted.
    const foreign = await makeCa(dir, 'other-ca');
    const stranger = await leaf(foreign, join(dir, 'other-ca.pem'), 4, 'x', ids);
    const n4 = await cluster.addNode(stranger);
    await n4.start({ waitSynced: false });
    let log = '';
    for (let i = 0; i < 60 && !/unknown ca|certificate verify failed|unable to get local issuer/i.test(log); i++) {
      await sleep(500);
      log = await readFile(n4.errorLog, 'utf8').catch(() => '');
    }
    assert.match(
      log,
      /unknown ca|certificate verify failed|unable to get local issuer/i,
      'the TLS handshake with the group failed',
    );
    assert.equal(await n1.status('wsrep_cluster_size'), '3', 'the stranger did not join');
    await n4.stop();
  },
);
