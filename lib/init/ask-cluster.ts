// The wizard's first questions, about the cluster as a whole: its name, the products it runs and how
// its nodes are reached by default.
import { basename } from 'node:path';
import * as rules from '../inventory/rules.js';
import type { Role, Transport } from '../inventory/model.js';
import { clusterNameFromFile } from '../inventory/ansible.js';
import type { AnswerSource, Choice } from './questions.js';

export const ROLE_CHOICES: Choice<Role>[] = [
  { value: 'mysql', name: 'MySQL' },
  { value: 'mariadb', name: 'MariaDB' },
  { value: 'percona', name: 'Percona Server' },
  { value: 'galera', name: 'Galera cluster node (with MariaDB, or MySQL-wsrep)' },
  { value: 'pxc', name: 'Percona XtraDB Cluster node (with Percona Server)' },
  { value: 'tidb', name: 'TiDB (the SQL layer)' },
  { value: 'pd', name: 'TiDB PD (placement driver)' },
  { value: 'tikv', name: 'TiKV (TiDB storage)' },
  { value: 'tiflash', name: 'TiFlash (TiDB columnar storage)' },
  { value: 'ticdc', name: 'TiCDC (TiDB change data capture)' },
  { value: 'tiproxy', name: 'TiProxy (TiDB SQL proxy)' },
  { value: 'proxysql', name: 'ProxySQL' },
  { value: 'maxscale', name: 'MariaDB MaxScale' },
  { value: 'mysqlrouter', name: 'MySQL Router' },
  { value: 'tungsten', name: 'Tungsten Clustering' },
];

export function clusterAnswer(src: AnswerSource): Promise<string> {
  return src.text({
    key: 'cluster',
    message: 'Cluster name (a-z, 0-9 and "-"; it names the CA and the PKI folder)',
    default: clusterNameFromFile(basename(src.cwd) + '.x'),
    askWithoutDefault: true,
    validate: rules.clusterName,
  });
}

/** KNOWN: the roles of nodes the answers file already gives; they are the default (else MySQL, asked). */
export function rolesAnswer(src: AnswerSource, known: Role[]): Promise<Role[]> {
  return src.multi<Role>({
    key: 'roles',
    message: 'Which products run in the cluster? (space selects, enter confirms)',
    choices: ROLE_CHOICES,
    ...(known.length ? { default: known } : { default: ['mysql'] as Role[], askWithoutDefault: true }),
    validate: (v) => (v.length === 0 ? 'choose at least one' : v.map((r) => rules.role(r)).find(Boolean)),
  });
}

export function transportAnswer(src: AnswerSource): Promise<Transport> {
  return src.select<Transport>({
    key: 'transport',
    message: 'How are the nodes reached?',
    choices: [
      { value: 'ssh', name: 'ssh', description: 'over SSH (sftp), host keys checked against known_hosts' },
      {
        value: 'local',
        name: 'local',
        description: 'files written on this machine, under --local-root/<node>/ (a try-out)',
      },
    ],
    default: 'ssh',
  });
}
