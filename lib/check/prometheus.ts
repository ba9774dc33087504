// `dbtls check --prometheus FILE`: what check found, as node_exporter textfile metrics (the text
// exposition format), written atomically (a temporary beside FILE, renamed over it) so the textfile
// collector never reads half a file. Names follow Prometheus conventions: base units (`_seconds`),
// an `_info` metric whose labels carry serial and fingerprint, one gauge per question. Labels hold
// names, serials and fingerprints, never a secret.
import { writeFileAtomic } from '../store/atomic-write.js';
import { Exposition } from '../text/exposition.js';
import type { CheckItem, CheckReport } from './check.js';
import type { LiveResult } from './live.js';

export { labelValue } from '../text/exposition.js';

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function prometheusText(report: CheckReport, live: LiveResult[] | undefined, ok: boolean, now: Date): string {
  const out = new Exposition();
  const family = (name: string, help: string) => out.family(name, help);
  const cluster = report.cluster;
  const of = (i: CheckItem) => ({ cluster, id: i.id, owner_kind: i.owner.kind, owner: i.owner.name });
  const certs = report.items.filter((i) => i.notAfter !== undefined && i.id !== 'crl');
  const notAfter = family('dbtls_certificate_not_after_seconds', 'When the certificate expires (Unix time).');
  const left = family(
    'dbtls_certificate_expires_in_seconds',
    'Seconds until the certificate expires (negative: expired).',
  );
  const info = family(
    'dbtls_certificate_info',
    'A certificate of the PKI directory; its serial and SHA-256 fingerprint as labels.',
  );
  for (const i of certs) {
    notAfter(of(i), seconds(i.notAfter!));
    left(of(i), seconds(i.notAfter!) - Math.floor(now.getTime() / 1000));
    info({ ...of(i), serial: i.serial, fingerprint_sha256: i.fingerprint256, subject: i.subject }, 1);
  }
  const good = family(
    'dbtls_check_item_ok',
    'Whether check found this item as it should be: present, valid, matching, as the inventory says, not expiring within the window.',
  );
  for (const i of report.items) good({ ...of(i), status: i.status }, i.status === 'ok' ? 1 : 0);
  const crl = report.items.find((i) => i.id === 'crl');
  if (crl?.notAfter)
    family('dbtls_crl_next_update_seconds', "The earliest nextUpdate of crl.pem's CRLs (Unix time).")(
      { cluster },
      seconds(crl.notAfter),
    );
  if (live) {
    const serves = family(
      'dbtls_live_serves_manifest',
      "Whether the node's port serves the certificate the manifest says.",
    );
    const liveNotAfter = family(
      'dbtls_live_not_after_seconds',
      'When the certificate the port serves expires (Unix time).',
    );
    const tls = family('dbtls_live_tls_info', 'The TLS version and cipher the probe negotiated.');
    const enforced = family('dbtls_live_revocation_enforced', 'Whether the server refused the revocation canary.');
    for (const l of live) {
      if (l.status === 'not-probed') continue;
      const where = { cluster, node: l.node, port: String(l.port), channel: l.channel ?? 'sql' };
      serves({ ...where, status: l.status }, l.status === 'ok' ? 1 : 0);
      if (l.served) liveNotAfter({ ...where, serial: l.served.serialHex }, seconds(l.served.notAfter));
      if (l.tls) tls({ ...where, version: l.tls.protocol, cipher: l.tls.cipher }, 1);
      if (l.revocation) enforced(where, l.revocation.enforced ? 1 : 0);
    }
  }
  family('dbtls_check_success', 'Whether the whole check passed (what its exit status says).')({ cluster }, ok ? 1 : 0);
  family('dbtls_check_timestamp_seconds', 'When this check ran (Unix time).')(
    { cluster },
    Math.floor(now.getTime() / 1000),
  );
  return out.text();
}

/** Writes the metrics to FILE atomically, readable by the collector (0644). */
export async function writePrometheusFile(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text, { mode: 0o644 });
}
