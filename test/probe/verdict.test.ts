// The reasons a verdict gives: the name check in the terms Node judged by (IP SANs, DNS SANs, the
// CN of a certificate without SANs), and OpenSSL's chain codes turned into what they mean here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { chainReason, nameMismatch } from '../../lib/probe/verdict.js';
import type { ServedCert } from '../../lib/probe/served-cert.js';

const peer = (subjectaltname: string | undefined, CN = 'db1') =>
  ({ subject: { CN }, subjectaltname }) as unknown as PeerCertificate;
const withSans = peer('DNS:db1, DNS:*.db.example.com, IP Address:10.0.0.11, IP Address:0:0:0:0:0:0:0:1');

test('names and addresses in the certificate pass, wildcards included; brackets around IPv6 are dropped', () => {
  for (const name of ['db1', 'x.db.example.com', '10.0.0.11', '::1', '[::1]'])
    assert.equal(nameMismatch(name, withSans), undefined, name);
});

test('a mismatch says which list was checked and what it holds', () => {
  assert.equal(
    nameMismatch('10.0.0.12', withSans),
    "IP address 10.0.0.12 is not among the certificate's IP SANs (IP:10.0.0.11, IP:0:0:0:0:0:0:0:1)",
  );
  assert.equal(
    nameMismatch('db2', withSans),
    "name db2 is not among the certificate's DNS SANs (DNS:db1, DNS:*.db.example.com)",
  );
  // A wildcard covers one label only.
  assert.match(nameMismatch('a.b.db.example.com', withSans) ?? '', /not among the certificate's DNS SANs/);
  // mysql_ssl_rsa_setup-style certificates: no SANs, a fixed CN; an address never matches a CN.
  const noSans = peer(undefined, 'MySQL_Server_8.0.36_Auto_Generated_Server_Certificate');
  assert.equal(
    nameMismatch('db1', noSans),
    "name db1 is not the certificate's CN (MySQL_Server_8.0.36_Auto_Generated_Server_Certificate), and it has no DNS SANs",
  );
  assert.equal(nameMismatch('127.0.0.1', noSans), "IP address 127.0.0.1 is not among the certificate's IP SANs (none)");
});

const served = (subject: string, issuer: string, extra: Partial<ServedCert> = {}): ServedCert => ({
  subject,
  issuer,
  sans: [],
  serialHex: '01',
  notBefore: '2020-01-01T00:00:00.000Z',
  notAfter: '2030-01-01T00:00:00.000Z',
  fingerprint256: 'AA',
  isCA: false,
  selfSigned: subject === issuer,
  keyType: 'rsa',
  ...extra,
});

test('chain reasons: OpenSSL words and code, then who is not trusted or which certificate is out of date', () => {
  const leafOnly = [served('CN=db1', 'CN=Old CA')];
  assert.equal(
    chainReason('UNABLE_TO_VERIFY_LEAF_SIGNATURE', leafOnly),
    'unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE): CN=db1 was issued by CN=Old CA, which is not a trusted CA',
  );
  const withRoot = [...leafOnly, served('CN=Old CA', 'CN=Old CA', { isCA: true })];
  assert.match(
    chainReason('SELF_SIGNED_CERT_IN_CHAIN', withRoot),
    /^self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\): the chain ends at the self-signed CN=Old CA, which is not a trusted CA$/,
  );
  const expired = [served('CN=db1', 'CN=CA', { notAfter: '2021-06-01T00:00:00.000Z' })];
  assert.equal(
    chainReason('CERT_HAS_EXPIRED', expired, new Date('2022-01-01')),
    'certificate has expired (CERT_HAS_EXPIRED): CN=db1 expired on 2021-06-01T00:00:00.000Z',
  );
  const early = [served('CN=db1', 'CN=CA', { notBefore: '2029-01-01T00:00:00.000Z' })];
  assert.match(chainReason('CERT_NOT_YET_VALID', early, new Date('2022-01-01')), /CN=db1 is not valid before 2029/);
  assert.equal(chainReason('SOME_NEW_CODE', leafOnly), 'SOME_NEW_CODE');
});
