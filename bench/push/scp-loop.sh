#!/bin/sh
# The seed's loop, literally: one scp after another, node by node, the shell's [jpt]* glob, with
# host keys checked against one known_hosts file (the seed had no host-key discipline; this is the
# fair version of it). Used by bench/push.mjs:
#
#   sh bench/push/scp-loop.sh SRC DEST KEY KNOWN_HOSTS PORT...
#
# Every node is 127.0.0.1 on its own port. Exit 1 when any scp failed (the loop still goes on, as
# the seed's does).
set -u
src=$1 dest=$2 key=$3 known=$4
shift 4
rc=0
for port in "$@"; do
  scp -P "$port" -i "$key" -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    "$src"/[jpt]* root@127.0.0.1:"$dest"/ || rc=1
done
exit $rc
