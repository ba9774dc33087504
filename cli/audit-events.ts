// The commands' progress events (the ones the terminal UI shows), as audit records: each action is
// recorded when it is done and durable. An issue's certificates are written as one journaled batch,
// so they are recorded once it is committed (a run killed before that issued nothing); a node is
// recorded as pushed once its files are installed, reloaded as each reload returns.
import type { IssueEvent } from '../lib/issue/issue.js';
import type { Owner } from '../lib/store/manifest.js';
import type { PushEvent } from '../lib/deliver/push.js';
import type { SentCertificate } from '../lib/deliver/file-facts.js';
import type { RolloutEvent } from '../lib/rotate/rollout.js';
import type { RotateCaEvent } from '../lib/rotate/ca.js';
import type { AuditEvent } from '../lib/audit/audit-log.js';
import type { AuditFields, AuditSink } from './audit.js';

/** node: db1 or client: app, flat, so a SIEM can filter on them. */
export const ownerFields = (o: Owner): AuditFields => ({ [o.kind]: o.name });

/** An issue's events: what it made, recorded once its batch is committed. */
export function issueAudit(audit: AuditSink): (e: IssueEvent) => void {
  const pending: Array<[AuditEvent, AuditFields]> = [];
  return (e) => {
    switch (e.type) {
      case 'ca':
        if (e.action !== 'loaded')
          pending.push(['ca-created', { action: e.action, subject: e.subject, fingerprint256: e.fingerprint256 }]);
        break;
      case 'issued': {
        const { item } = e;
        pending.push([
          'issued',
          {
            id: item.id,
            ...ownerFields(item.owner),
            kind: item.kind,
            reason: item.reason,
            ...(e.serial ? { serial: e.serial, fingerprint256: e.fingerprint256 } : {}),
            ...(item.subject ? { subject: item.subject } : {}),
            ...(item.notAfter ? { notAfter: item.notAfter } : {}),
            files: item.files,
          },
        ]);
        break;
      }
      case 'store':
        pending.push([
          'store-built',
          {
            id: e.store.id,
            ...ownerFields(e.store.owner),
            type: e.store.type,
            path: e.store.path,
            reason: e.store.reason,
          },
        ]);
        break;
      case 'committed':
        for (const [event, fields] of pending.splice(0)) audit.record(event, fields);
        break;
      case 'plan':
        break;
    }
  };
}

/** A push's events: each node's installed files (with their SHA-256) and certificates, its reloads. */
export function pushAudit(audit: AuditSink): (e: PushEvent) => void {
  const files = new Map<string, Array<{ remote: string; sha256: string }>>();
  const certs = new Map<string, Array<SentCertificate & { remote: string }>>();
  const flush = (node: string) => {
    const sent = files.get(node);
    if (sent?.length) audit.record('pushed', { node, files: sent, certificates: certs.get(node) ?? [] });
    files.delete(node);
    certs.delete(node);
  };
  return (e) => {
    switch (e.type) {
      case 'node-start':
        files.set(e.node, []);
        certs.set(e.node, []);
        break;
      case 'file':
        if (e.action === 'would-upload') break;
        if (e.action === 'uploaded' && e.sha256) files.get(e.node)?.push({ remote: e.remote, sha256: e.sha256 });
        // The node's certificates as it has them now, sent or already there.
        if (e.certificate) certs.get(e.node)?.push({ ...e.certificate, remote: e.remote });
        break;
      case 'reload':
        flush(e.node);
        // The status only: a reload command is the inventory's own shell line, which may hold a password.
        audit.record('reloaded', { node: e.node, ok: e.result.status === 'done', status: e.result.status });
        break;
      case 'rollback':
        flush(e.node);
        audit.record('rolled-back', { node: e.node, ok: e.ok, files: e.files });
        break;
      case 'node-done':
        flush(e.result.node);
        if (!e.result.ok)
          audit.record('push-failed', { node: e.result.node, error: e.result.error?.code ?? 'failure' });
        break;
    }
  };
}

/** A roll-out's events (rotate leaf, ca, intermediate): its issue's and its push's. */
export function rolloutAudit(
  audit: AuditSink,
): (e: RolloutEvent | RotateCaEvent | { type: 'pki'; message: string }) => void {
  const issue = issueAudit(audit);
  const push = pushAudit(audit);
  return (e) => {
    switch (e.type) {
      case 'issue':
        issue(e.event);
        break;
      case 'push':
        push(e.event);
        break;
      case 'phase-done':
      case 'phase-failed':
        audit.record('rotated', {
          kind: 'ca',
          phase: e.phase,
          ok: e.type === 'phase-done',
          ...(e.report.failed.length ? { failed: e.report.failed } : {}),
        });
        break;
      case 'pki':
        // A step on the PKI folder done (a new intermediate in place, the CRLs signed), in dbtls's words.
        audit.record('rotated', {
          kind: 'phase' in e ? 'ca' : 'intermediate',
          ...('phase' in e ? { phase: e.phase } : {}),
          step: e.message,
        });
        break;
      case 'complete':
        audit.record('rotated', { kind: 'ca', phase: 'complete', ok: true, archived: e.archived });
        break;
      default:
        break;
    }
  };
}
