#!/usr/bin/env bash
# Installs the baseline tools the benchmarks compare dbtls against (Debian packages), only those
# missing: for bench/issue.mjs easy-rsa 3.1 (/usr/share/easy-rsa/easyrsa), cfssl + cfssljson,
# mkcert; for bench/push.mjs Ansible (Debian's ansible-core: /usr/bin/ansible and the builtin copy
# module; the "ansible" package only adds ~250 MB of collections on top) and scp (openssh-client;
# sshd itself comes with scripts/install-system-deps.sh); hyperfine (optional: not used by the
# benchmarks, handy for ad-hoc timing) and GNU time (optional: bench/issue.mjs and bench/push.mjs
# report CPU seconds with it).
# Safe to run again. Needs root (or passwordless sudo) when something is missing.
# Nothing is started and no CA is installed into any trust store.
set -euo pipefail

# command-or-path-to-check:debian-package
wanted=(
  "/usr/share/easy-rsa/easyrsa:easy-rsa"
  "cfssl:golang-cfssl"
  "cfssljson:golang-cfssl"
  "mkcert:mkcert"
  "openssl:openssl"
  "ansible:ansible-core"
  "scp:openssh-client"
)
optional=(
  "hyperfine:hyperfine"
  "/usr/bin/time:time"
)

have() {
  case "$1" in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ] || [ -x "/usr/sbin/$1" ] ;;
  esac
}

missing=()
add() { case " ${missing[*]-} " in *" $1 "*) ;; *) missing+=("$1") ;; esac; }
for pair in "${wanted[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  have "$cmd" || add "$pkg"
done
missing_optional=()
for pair in "${optional[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  have "$cmd" || missing_optional+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
  elif [ ${#missing[@]} -eq 0 ]; then
    echo "install-bench-deps: optional ${missing_optional[*]} not installed (needs root)" >&2; exit 0
  else echo "install-bench-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-bench-deps: installing ${missing[*]}" >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#missing_optional[@]} -gt 0 ]; then
  echo "install-bench-deps: installing optional ${missing_optional[*]}" >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing_optional[@]}" >/dev/null \
    || echo "install-bench-deps: optional ${missing_optional[*]} could not be installed; continuing" >&2
fi
