#!/bin/sh
# bench/issue/mkcert.sh DIR N [JOBS] - mkcert as a user's loop runs it, with CAROOT=DIR/ca: the first
# call creates the CA (mkcert's CA is RSA-3072, not configurable), then per node
# `mkcert -cert-file … -key-file … NAME ADDRESS` and `mkcert -client … NAME-client` (RSA-2048 leaves,
# mkcert's default without -ecdsa). Never `-install`: nothing touches a trust store
# (TRUST_STORES=none too, which disables every store even if -install were given).
# JOBS absent or 1: one after another. JOBS > 1: the first certificate alone (it creates the CA),
# then the rest through `xargs -P JOBS`. CA creation is included.
# Output: DIR/ca/rootCA.pem, DIR/certs/<name>.pem and <name>-key.pem.
set -eu
dir=$1 n=$2 jobs=${3:-1}
# KEY_TYPE=p256 (bench/issue.mjs --key-type p256): `mkcert -ecdsa`, P-256 leaves (its CA stays RSA-3072).
if [ "${KEY_TYPE:-rsa2048}" = p256 ]; then ecdsa=-ecdsa; else ecdsa=; fi
export ecdsa
. "$(dirname "$0")/common.sh"
export CAROOT="$dir/ca" TRUST_STORES=none
cd "$dir"
mkdir certs

list() {
  i=1
  while [ "$i" -le "$n" ]; do
    name=$(node_name "$i")
    echo "server $name $name $(node_ip "$i")"
    echo "client $name-client $name-client"
    i=$((i + 1))
  done
}

# one certificate: KIND NAME SAN...
one() {
  kind=$1 name=$2; shift 2
  if [ "$kind" = client ]; then set -- -client "$@"; fi
  mkcert $ecdsa -cert-file "certs/$name.pem" -key-file "certs/$name-key.pem" "$@" < /dev/null
}

if [ "$jobs" -le 1 ]; then
  list | while read -r kind name sans; do one "$kind" "$name" $sans; done
else
  list | head -n 1 | while read -r kind name sans; do one "$kind" "$name" $sans; done
  list | tail -n +2 | xargs -P "$jobs" -L 1 sh -c '
    kind=$1 name=$2; shift 2
    if [ "$kind" = client ]; then set -- -client "$@"; fi
    exec mkcert $ecdsa -cert-file "certs/$name.pem" -key-file "certs/$name-key.pem" "$@"' sh
fi
