// The wizard's connection test with its host-key questions: every ssh node is tested, each unknown
// host key is shown with its fingerprint and accepted or not (at the terminal, or by the answers
// file's acceptNewHostKeys), and nodes waiting on an accepted key are tested again.
import { DbtlsError } from '../errors.js';
import type { NodeSpec } from '../inventory/model.js';
import type { FlowContext } from './flow.js';
import { keyId, type ConnectionResult, type OfferedKey } from './host-keys.js';
import type { AnswerSource } from './questions.js';

const describeKey = (k: OfferedKey, node: string) =>
  `${k.bastion ? `bastion ${k.bastion} (for ${node})` : `${node} (${k.host}:${k.port})`} offers an unknown ${k.keyType} host key ${k.fingerprint}`;

/** Where an unattended run stops at an unknown key: only the answers file's acceptNewHostKeys accepts it. */
const notAccepted = (src: AnswerSource, k: OfferedKey, node: string) =>
  src.bad(
    'acceptNewHostKeys',
    `${describeKey(k, node)}; set acceptNewHostKeys: true to accept it, or add it to known_hosts; nothing was written`,
  );

/**
 * Tests every ssh node; each unknown host key is shown and accepted or not (once, however many nodes
 * share it); nodes waiting on an accepted key are tested again (a bastion's key first, then the
 * node's behind it). A changed or revoked key is never offered.
 */
export async function testAndAcceptKeys(
  ctx: Pick<FlowContext, 'src' | 'tester' | 'yes' | 'testConnections'>,
  nodes: NodeSpec[],
): Promise<ConnectionResult[]> {
  const { src, tester } = ctx;
  const final = new Map<string, ConnectionResult>();
  const declined = new Set<string>();
  let pending = nodes;
  // Each round accepts at least one new key or ends; a node has at most two (its bastion's and its own).
  for (let round = 0; pending.length && round < 4; round++) {
    const results = await ctx.testConnections(pending, (n) => tester.test(n));
    const retry: NodeSpec[] = [];
    for (const [i, r] of results.entries()) {
      final.set(r.node, r);
      if (r.status !== 'unknown-key') continue;
      const id = keyId(r.offered);
      if (declined.has(id)) continue;
      if (!tester.acceptedKeys.some((k) => keyId(k) === id)) {
        if (!src.interactive && !src.has('acceptNewHostKeys')) throw notAccepted(src, r.offered, r.node);
        const yes = await src.confirm({
          key: 'acceptNewHostKeys',
          message: `${describeKey(r.offered, r.node)}. Is that its fingerprint? Accept it (added to ${r.offered.file})?`,
          default: false,
          askWithoutDefault: true,
        });
        if (!yes) {
          declined.add(id);
          continue;
        }
        tester.accept(r.offered);
        if (!src.interactive) src.note(`accepted (acceptNewHostKeys): ${describeKey(r.offered, r.node)}`);
      }
      retry.push(pending[i]!);
    }
    pending = retry;
  }
  const out = nodes.map((n) => final.get(n.name)!);
  const failed = out.filter((r) => r.status !== 'ok');
  for (const r of failed)
    src.note(`${r.node}: ${r.status === 'unknown-key' ? `host key ${r.offered.fingerprint} not accepted` : r.message}`);
  // Unattended and about to push: a node that cannot be reached stops the run before anything is written.
  const pushing = src.given('push') === true || (src.given('push') === undefined && ctx.yes);
  if (!src.interactive && pushing && failed.length) {
    const first = failed[0]!;
    if (first.status === 'unknown-key') throw notAccepted(src, first.offered, first.node);
    throw new DbtlsError(
      'init-connection',
      `the connection test failed, so nothing was written: ${failed.map((r) => `${r.node}: ${r.status === 'unknown-key' ? 'host key not accepted' : r.message}`).join('; ')}`,
      {
        hint: 'fix SSH access (or answer push: false to write the inventory and certificates without pushing)',
      },
    );
  }
  return out;
}
