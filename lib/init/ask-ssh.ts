// The wizard's SSH questions, asked once the nodes are known and only when one of them uses ssh: the
// cluster's user, port, key, known_hosts and bastion. Nodes imported from Ansible keep only the
// settings that differ from these.
import * as rules from '../inventory/rules.js';
import { DEFAULTS } from '../inventory/model.js';
import { expandHome } from '../inventory/build.js';
import { readable } from './file-checks.js';
import type { SshAnswers } from './model.js';
import type { NodeSsh } from './nodes.js';
import { absolutePath, emptyOr, type AnswerSource } from './questions.js';

/** FROM: the defaults an Ansible import gives (its `all` group's settings). */
export async function sshAnswers(src: AnswerSource, from: NodeSsh): Promise<SshAnswers> {
  const user = await src.text({
    key: 'ssh.user',
    message: 'SSH user',
    default: from.user ?? DEFAULTS.ssh.user,
    validate: rules.sshUser,
  });
  const port = await src.integer({
    key: 'ssh.port',
    message: 'SSH port',
    default: from.port ?? DEFAULTS.ssh.port,
    validate: rules.port,
  });
  const identityFile = await src.path({
    key: 'ssh.identityFile',
    message: 'SSH private key file (empty: ssh-agent, or ~/.ssh/id_ed25519, id_ecdsa, id_rsa)',
    default: from.identityFile ?? '',
    optional: true,
    validate: async (s) => {
      if (s === '') return undefined;
      const path = expandHome(absolutePath(s, src.baseFor('ssh.identityFile')));
      return (await readable(path)) ? undefined : `cannot read ${path}`;
    },
  });
  const knownHostsFile = await src.path({
    key: 'ssh.knownHostsFile',
    message: 'known_hosts file that host keys are checked against',
    default: from.knownHostsFile ?? '~/.ssh/known_hosts',
    validate: rules.filePath,
  });
  const proxyJump = await src.text({
    key: 'ssh.proxyJump',
    message: 'Bastion (ProxyJump) as [user@]host[:port] (empty: connect directly)',
    default: from.proxyJump ?? '',
    optional: true,
    validate: emptyOr(rules.proxyJump),
  });
  return {
    user,
    port,
    ...(identityFile ? { identityFile } : {}),
    ...(knownHostsFile ? { knownHostsFile } : {}),
    ...(proxyJump ? { proxyJump } : {}),
  };
}

/** An imported node's SSH settings, minus what the cluster's answers already say. */
export function sshOverrides(node: NodeSsh, cluster: SshAnswers): NodeSsh | undefined {
  const out: NodeSsh = {};
  for (const k of ['user', 'port', 'identityFile', 'knownHostsFile'] as const) {
    const v = node[k];
    if (v !== undefined && v !== cluster[k]) (out as Record<string, unknown>)[k] = v;
  }
  if ((node.proxyJump ?? 'none') !== (cluster.proxyJump ?? 'none')) out.proxyJump = node.proxyJump ?? 'none';
  return Object.keys(out).length ? out : undefined;
}
