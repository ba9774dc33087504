#!/usr/bin/env bash
# Lists the compiled unit test files (dist/test/**/X.test.js), one a line: every test file whose
# source (test/**/X.test.ts) names no server or apt-installed tool. A file that mixes unit and
# server tests is left out (make test still runs it). The markers, by what they need:
#   sshd, Unix test users, sudo    helpers/sshd, helpers/unix-users, helpers/sudoers, startSshd, createTestUser
#   mariadbd / MySQL clusters      helpers/mariadb, helpers/galera, helpers/tls-cluster, helpers/load-loop, mariadbd
#   a JDK (java, keytool)          helpers/java, helpers/java-pki, keytool, 'java'
#   ansible, tmux, netns, apt      ansible, tmux, netns (helpers/netns too), apt-get
#   a C toolchain, libconfig, sqlite3, php (installed by scripts/install-system-deps.sh)  which('cc'), sqlite3, 'php'
#   SoftHSM2 and the pkcs11js addon (built for one Node only)   softhsm
#   promtool (Debian prometheus, check --prometheus)            promtool
# Only openssl and the npm packages are assumed (every Debian has openssl).
set -euo pipefail
cd "$(dirname "$0")/.."
markers="helpers/(sshd|unix-users|sudoers|netns|mariadb|galera|java|java-pki|tls-cluster|load-loop)['.]|startSshd|createTestUser|mariadbd|keytool|['\"]java['\"]|ansible|tmux|netns|apt-get|which\\(['\"]cc['\"]|sqlite3|['\"]php['\"]|softhsm|promtool"
find test -name '*.test.ts' | sort | while IFS= read -r src; do
  if ! grep -qE "$markers" "$src"; then
    js="dist/${src%.ts}.js"
    [[ -f $js ]] || { echo "unit-tests: $js is missing (run make build)" >&2; exit 1; }
    echo "$js"
  fi
done
