#!/usr/bin/env bash
# Installs the real tools the tests run against (Debian packages), only those missing.
# Called by `make test`; safe to run again. Needs root (or passwordless sudo) when something is missing.
set -euo pipefail

# command-to-check:debian-package (an absolute path is checked as a file instead of a command)
wanted=(
  "openssl:openssl"
  "mariadbd:mariadb-server"
  "mariadb:mariadb-client"
  "my_print_defaults:mariadb-client"
  "mariadb-install-db:mariadb-server"
  # Galera clusters (test/helpers/galera.ts): the wsrep provider and rsync for SST (both also pulled in by mariadb-server).
  "/usr/lib/galera/libgalera_smm.so:galera-4"
  "rsync:rsync"
  # rsync SST over TLS (the rendered [sst] ssl-mode) tunnels through stunnel.
  "stunnel4:stunnel4"
  # Java keystore tests: keytool, and javac to compile the small clients in test/java.
  "java:openjdk-17-jdk-headless"
  "keytool:openjdk-17-jdk-headless"
  "javac:openjdk-17-jdk-headless"
  # MariaDB Connector/J 2.7 (test/e2e/connector-j.test.ts).
  "/usr/share/java/mariadb-java-client.jar:libmariadb-java"
  # proxysql.cnf is read back by libconfig itself (test/c/libconfig-dump.c, compiled by the test).
  "/usr/include/libconfig.h:libconfig-dev"
  # ProxySQL admin SQL runs on SQLite: test/render/proxysql.test.ts replays it.
  "sqlite3:sqlite3"
  "cc:gcc"
  # gcc only recommends the C library headers, and recommends are not installed below.
  "/usr/include/stdio.h:libc6-dev"
  # Delivery over SSH (test/helpers/sshd.ts): throwaway sshd servers on 127.0.0.1, the real OpenSSH
  # client to compare with, test accounts, and a real sudo for `become`.
  "sshd:openssh-server"
  "ssh-keygen:openssh-client"
  "ssh:openssh-client"
  "sudo:sudo"
  "visudo:sudo"
  "useradd:passwd"
  # ProxyJump tests (test/deliver/proxy-jump.test.ts): a network namespace and a veth pair.
  "ip:iproute2"
  # dbtls schedule: the systemd units are checked by systemd-analyze verify; the cron line by flock.
  "systemd-analyze:systemd"
  "flock:util-linux"
  # Ansible workflows (test/export, test/examples/ansible.test.ts): the example playbooks and `dbtls export ansible` run for real.
  "ansible-playbook:ansible-core"
  # dbtls init is driven through a real pseudo-terminal (test/init/tmux.ts).
  "tmux:tmux"
  # The rendered client settings, each run by the library it is for (test/e2e/client-libs.test.ts):
  # PHP mysqli and PDO, Python PyMySQL and mysqlclient (Debian's /usr/bin/python3), Perl DBD::MariaDB,
  # Ruby mysql2, and the Go driver (built offline from Debian's source package, GOPATH=/usr/share/gocode).
  "php:php-cli"
  "/etc/php/8.2/mods-available/mysqli.ini:php-mysql"
  "/etc/php/8.2/mods-available/pdo_mysql.ini:php-mysql"
  "/usr/lib/python3/dist-packages/pymysql/__init__.py:python3-pymysql"
  "/usr/lib/python3/dist-packages/MySQLdb/__init__.py:python3-mysqldb"
  "/usr/lib/x86_64-linux-gnu/perl5/5.36/DBD/MariaDB.pm:libdbd-mariadb-perl"
  "/usr/lib/ruby/vendor_ruby/mysql2.rb:ruby-mysql2"
  # check --prometheus and dbtls exporter: promtool lints every exposition and tests the alert rules;
  # a real prometheus scrapes the exporter and node_exporter's textfile collector (test/exporter).
  "promtool:prometheus"
  "prometheus-node-exporter:prometheus-node-exporter"
  "go:golang-go"
  "/usr/share/gocode/src/github.com/go-sql-driver/mysql/driver.go:golang-github-go-sql-driver-mysql-dev"
  # A CA key in a PKCS#11 token (test/pki/pkcs11.test.ts): SoftHSM2's tool and module, and OpenSC's
  # pkcs11-tool to look into a token by hand.
  "softhsm2-util:softhsm2"
  "/usr/lib/softhsm/libsofthsm2.so:softhsm2"
  "pkcs11-tool:opensc"
)

missing=()
for pair in "${wanted[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if [[ $cmd == /* ]]; then
    [ -e "$cmd" ] && continue
  elif command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ]; then
    continue
  fi
  case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
  else echo "install-system-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
fi
echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Package scripts must not start services on the test machine.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
