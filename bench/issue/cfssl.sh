#!/bin/sh
# bench/issue/cfssl.sh DIR N [JOBS] - cfssl as a user's loop runs it: `cfssl gencert -initca` for the
# CA, then one `cfssl gencert … | cfssljson -bare …` pipeline per certificate (a server certificate
# with SANs name + address and a client certificate per node), RSA-2048 keys from the CSR JSON.
# JOBS absent or 1: one certificate after another (`for` loop). JOBS > 1: the same pipelines run
# through `xargs -P JOBS` (each certificate is an independent process; cfssl keeps no state).
# CA creation is included. Output: DIR/ca.pem, DIR/certs/<name>.pem and <name>-key.pem.
set -eu
dir=$1 n=$2 jobs=${3:-1}
# KEY_TYPE=p256 (bench/issue.mjs --key-type p256): ECDSA P-256 keys, cfssl's own default algorithm.
if [ "${KEY_TYPE:-rsa2048}" = p256 ]; then key='{"algo": "ecdsa", "size": 256}'; else key='{"algo": "rsa", "size": 2048}'; fi
export key
. "$(dirname "$0")/common.sh"
cd "$dir"
mkdir certs
printf '{"CN": "bench CA", "key": %s}\n' "$key" > ca-csr.json
cat > cfg.json <<'JSON'
{"signing": {"default": {"expiry": "19800h"}, "profiles": {
  "server": {"expiry": "19800h", "usages": ["signing", "key encipherment", "server auth"]},
  "client": {"expiry": "19800h", "usages": ["signing", "key encipherment", "client auth"]}}}}
JSON
cfssl gencert -initca ca-csr.json | cfssljson -bare ca

# one certificate: PROFILE NAME [HOSTS]
one() {
  printf '{"CN": "%s", "key": %s}\n' "$2" "$key" > "certs/$2-csr.json"
  cfssl gencert -ca ca.pem -ca-key ca-key.pem -config cfg.json -profile "$1" \
    ${3:+-hostname "$3"} "certs/$2-csr.json" < /dev/null | cfssljson -bare "certs/$2"
}

list() {
  i=1
  while [ "$i" -le "$n" ]; do
    name=$(node_name "$i")
    echo "server $name $name,$(node_ip "$i")"
    echo "client $name-client"
    i=$((i + 1))
  done
}

if [ "$jobs" -le 1 ]; then
  list | while read -r profile name hosts; do one "$profile" "$name" "$hosts"; done
else
  list | xargs -P "$jobs" -L 1 sh -c '
    set -e
    printf "{\"CN\": \"%s\", \"key\": %s}\n" "$2" "$key" > "certs/$2-csr.json"
    cfssl gencert -ca ca.pem -ca-key ca-key.pem -config cfg.json -profile "$1" \
      ${3:+-hostname "$3"} "certs/$2-csr.json" | cfssljson -bare "certs/$2"' sh
fi
