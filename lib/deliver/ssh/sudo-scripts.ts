// The shell scripts `become: sudo` runs as root on a node, one string each: the values always arrive
// as positional arguments (built by shellCommand() in sftp-transport.ts), never inside a script.
/**
 * The root script of `become: sudo`, for a node's whole set: values arrive as positional arguments
 * (keep, stamp, then src dst mode owner group per file), never inside the script.
 *
 * The destination folder may be writable by someone else (the owner: mysql). Nothing root does
 * there goes through a name that user can swap for a link:
 *  - each file is staged in its own private folder made by `mktemp -d` in the destination folder
 *    (root's, 0700: nobody else can add, swap or remove entries inside it); the script `cd -P`s into
 *    it and then checks that the folder it stands in (`pwd -P`, getcwd: the inode it holds, not a
 *    name) is that folder and root's 0700, so a swap before the `cd` is caught, and one after it does
 *    not matter; content, mode and owner are then set on names inside it (`set -C`: created, never
 *    opened through something already there; `chown -h`);
 *  - the backup is `ln -P` (a hard link to whatever entry is there, a link itself rather than its
 *    target), made without -f under a unique name: if it cannot be made, nothing is renamed;
 *  - `mv -fT` is rename(2): it replaces the directory entry, a link there is replaced rather than
 *    followed, and -T refuses to move into a folder someone put under the final name;
 *  - the sweep of leftovers uses find (never follows links) and rm (removes a link, not its target).
 * The renames of a node's files run back to back in this one shell, after every file is staged and
 * verified, and before any reload: the only window with a mixed set is this loop's few milliseconds.
 */
export const SUDO_INSTALL_SET = [
  'set -eC',
  'umask 077',
  'keep=$1 stamp=$2; shift 2',
  'n=0',
  'while [ $# -gt 0 ]; do',
  '  src=$1 dst=$2 mode=$3 owner=$4 group=$5; shift 5',
  '  n=$((n+1))',
  '  dir=$(dirname -- "$dst") base=$(basename -- "$dst")',
  '  (umask 022; mkdir -p -- "$dir")',
  '  dir=$(cd -P -- "$dir" && pwd -P)',
  // Staging folders an interrupted run left behind (older than a concurrent run could be).
  '  find "$dir" -maxdepth 1 -name ".*.dbtls-tmp" -user 0 -mmin +10 -exec rm -rf -- {} + 2>/dev/null || true',
  '  t=$(mktemp -d -- "$dir/.$base.XXXXXXXXXX.dbtls-tmp")',
  '  cd -P -- "$t"',
  '  [ "$(pwd -P)" = "$t" ] && [ "$(stat -c %u:%a .)" = 0:700 ] || { echo "$t was replaced while in use: refused" >&2; exit 5; }',
  '  cat -- "$src" > f',
  '  chmod -- "$mode" f',
  '  if [ -n "$owner" ]; then chown -h -- "$owner${group:+:$group}" f; elif [ -n "$group" ]; then chgrp -h -- "$group" f; fi',
  '  cmp -s -- "$src" f || { echo "$dst does not read back as written" >&2; exit 4; }',
  '  cd /',
  '  eval "t$n=\\$t d$n=\\$dst"',
  'done',
  // Backups first: one that cannot be made stops everything before the first rename.
  'i=0',
  'while [ $i -lt $n ]; do i=$((i+1)); eval "dst=\\$d$i"',
  '  if [ -e "$dst" ] || [ -L "$dst" ]; then ln -P -- "$dst" "$dst.dbtls-bak-$stamp"; echo "backup $i $dst.dbtls-bak-$stamp"; else echo "created $i"; fi',
  'done',
  // The renames, back to back.
  'i=0',
  'while [ $i -lt $n ]; do i=$((i+1)); eval "t=\\$t$i dst=\\$d$i"',
  '  cd -P -- "$t"',
  '  [ "$(pwd -P)" = "$t" ] && [ "$(stat -c %u:%a .)" = 0:700 ] || { echo "$t was replaced while in use: refused" >&2; exit 5; }',
  '  mv -fT -- f "$dst"',
  '  cd /',
  '  rmdir -- "$t" 2>/dev/null || true',
  'done',
].join('\n');

/** Puts back what a set replaced: args are dst backup pairs (backup empty: the file was new, remove it). */
export const SUDO_RESTORE = [
  'fail=0',
  'while [ $# -gt 0 ]; do dst=$1 bak=$2; shift 2',
  '  if [ -n "$bak" ]; then mv -fT -- "$bak" "$dst" || fail=1; else rm -f -- "$dst" || fail=1; fi',
  'done',
  'exit $fail',
].join('\n');

/** Drops backups beyond `keep` for each file named (rm removes a link, never its target). */
export const SUDO_PRUNE = [
  'keep=$1; shift',
  'for dst in "$@"; do',
  '  ls -1d -- "$dst".dbtls-bak-* 2>/dev/null | sort | head -n -"$keep" | while IFS= read -r old; do rm -f -- "$old"; done',
  'done',
].join('\n');

/** Reads a file as root; a link or anything but a regular file there is refused (exit 5), absent is exit 3. */
export const SUDO_READ =
  'if [ -L "$1" ]; then exit 5; elif [ ! -e "$1" ]; then exit 3; elif [ ! -f "$1" ]; then exit 6; else exec cat -- "$1"; fi';
