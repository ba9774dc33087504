// Without --datadir, mysql_ssl_rsa_setup reads `datadir` from the option files' [mysql_ssl_rsa_setup]
// and [mysqld] groups. MariaDB keeps server options in [server], [mariadb] and [mariadbd] as well,
// so those count too; the last value read wins, as in the servers themselves. When no option file
// names one, the local server's compiled-in default (`mysqld --verbose --help`) is used.
import { resolve } from 'node:path';
import { readOptionGroups } from './option-files.js';
import { inputError } from '../errors.js';
import { localServerDatadir } from './local-server.js';

export const DATADIR_GROUPS = ['mysqld', 'server', 'mariadb', 'mariadbd', 'mysql_ssl_rsa_setup'];

export interface OptionFileChoice {
  defaultsFile?: string;
  extraFile?: string;
  noDefaults?: boolean;
}

export interface FoundDatadir {
  datadir: string;
  /** file:line the value came from. */
  source: string;
}

export async function datadirFromOptionFiles(choice: OptionFileChoice): Promise<FoundDatadir> {
  const { values, filesRead } = await readOptionGroups({ groups: DATADIR_GROUPS, ...choice });
  const found = values.get('datadir');
  if (!found || !found.value) {
    const fromServer = await localServerDatadir(choice);
    if (fromServer) return { datadir: fromServer, source: "the local server's default (--verbose --help)" };
    const read = filesRead.length ? `read ${filesRead.join(', ')}` : 'no option file was found';
    throw inputError(
      'no-datadir',
      `no --datadir given, no datadir in the option files (${read}) and no local server to ask`,
      { field: '--datadir' },
      'pass --datadir DIR',
    );
  }
  // A relative datadir is taken from the working directory, like every other path dbtls is given.
  const datadir = resolve(found.value);
  return { datadir, source: `${found.file}:${found.line}` };
}
