// Preload for bench/push.mjs --count-sftp: `node --import bench/push/count-sftp.mjs dist/cli/main.js push …`
// counts the SFTP requests ssh2 sends (one per round trip: open, read, fstat, stat, …) and the remote
// commands it runs, and prints them on stderr at exit as one line:
//   dbtls-sftp-requests {"total":…,"open":…,…}
// Only the primitive requests are counted (readFile = open + fstat + read + close; fchmod = fsetstat).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../package.json', import.meta.url));
const { SFTP } = require('ssh2/lib/protocol/SFTP.js');
const Client = require('ssh2/lib/client.js');

const counts = {};
const bump = (k) => { counts[k] = (counts[k] ?? 0) + 1; };
const PRIMITIVES = [
  'open', 'close', 'read', 'write', 'fstat', 'stat', 'lstat', 'opendir', 'fsetstat', 'setstat', 'mkdir', 'rmdir',
  'rename', 'unlink', 'realpath', 'readlink', 'symlink', 'ext_openssh_rename', 'ext_openssh_hardlink',
  'ext_openssh_fsync', 'ext_openssh_statvfs', 'ext_openssh_fstatvfs', 'ext_openssh_lsetstat', 'ext_openssh_expandPath', 'ext_copy_data',
];
for (const name of PRIMITIVES) {
  const orig = SFTP.prototype[name];
  if (typeof orig !== 'function') continue;
  SFTP.prototype[name] = function counted(...args) { bump(name); return orig.apply(this, args); };
}
// readdir(path) is opendir + readdir(handle)… + close: count the handle reads only.
const readdir = SFTP.prototype.readdir;
SFTP.prototype.readdir = function counted(where, ...args) { if (typeof where !== 'string') bump('readdir'); return readdir.call(this, where, ...args); };
const exec = Client.prototype.exec;
Client.prototype.exec = function counted(...args) { bump('exec'); return exec.apply(this, args); };

process.on('exit', () => {
  const total = Object.entries(counts).filter(([k]) => k !== 'exec').reduce((n, [, v]) => n + v, 0);
  process.stderr.write(`dbtls-sftp-requests ${JSON.stringify({ total, ...counts })}\n`);
});
