#!/bin/sh
# bench/issue/easyrsa.sh DIR N - easy-rsa 3.1 as a user's loop runs it: init-pki, build-ca, then for
# every node build-server-full (SANs: name + address) and build-client-full, one after another.
# RSA-2048 everywhere (easy-rsa's default key size, given explicitly). CA creation is included.
# There is no parallel variant: easy-rsa keeps index.txt/serial in the PKI and its signing step
# is not safe to run concurrently.
# Output: DIR/pki/ca.crt, DIR/pki/issued/*.crt, DIR/pki/private/*.key.
set -eu
dir=$1 n=$2
. "$(dirname "$0")/common.sh"
EASYRSA=${EASYRSA:-/usr/share/easy-rsa/easyrsa}
export EASYRSA_BATCH=1 EASYRSA_PKI="$dir/pki" EASYRSA_KEY_SIZE=2048
cd "$dir"
"$EASYRSA" init-pki
"$EASYRSA" --req-cn="bench CA" build-ca nopass
i=1
while [ "$i" -le "$n" ]; do
  name=$(node_name "$i")
  "$EASYRSA" --subject-alt-name="DNS:$name,IP:$(node_ip "$i")" build-server-full "$name" nopass
  "$EASYRSA" build-client-full "$name-client" nopass
  i=$((i + 1))
done
