#!/bin/sh
# bench/openssl-setup.sh DIR [SUFFIX] — the baseline for bench/setup.mjs: the exact openssl command
# sequence that MySQL's mysql_ssl_rsa_setup ran, so `dbtls setup` can be timed against it.
#
# Mirrors client/mysql_ssl_rsa_setup.cc of mysql/mysql-server, 8.0 branch (copyright "2015, 2022",
# the form it kept until the tool was deprecated in 8.0.34 and removed in 8.4.0; stored copy at
# commit e9a11a9c6f8d955bf52b0b0b4dd7a5fe7fec3435). Its classes build these command strings:
#
#   X509_key:  "openssl req -newkey rsa:2048 -days " << m_validity << " -nodes -keyout " << key_file
#              << " " << "-subj /CN=MySQL_Server_" << version << suffix << " -out " << req_file
#              << " && openssl rsa -in " << key_file << " -out " << key_file;
#   X509_cert: "openssl x509 -sha256 -days " << m_validity << " -extfile " << ext_file
#              << " -set_serial " << serial << " -req -in " << req_file
#              << (self_signed ? " -signkey " << sign_key_file
#                              : " -CA " << sign_cert_file << " -CAkey " << sign_key_file)
#              << " -out " << cert_file;
#   X509v3_ext_writer: cav3.ext = "basicConstraints=CA:TRUE", certv3.ext = "basicConstraints=CA:FALSE"
#   RSA_priv:  "openssl genrsa " << " -out " << key_file << " " << m_key_size;      (2048)
#   RSA_pub:   "openssl rsa -in " << priv_key_file << " -pubout -out " << pub_key_file;
#   m_validity = 10*365L (3650 days); serials 1 (CA, self-signed), 2 (server), 3 (client).
#
# main() runs, in order: "openssl version"; (writes the two .ext files); CA key+req, CA cert;
# server key+req, server cert; client key+req, client cert; "openssl verify -CAfile ca.pem
# server-cert.pem client-cert.pem"; chmod 0600 keys / 0644 certs; deletes the three *-req.pem,
# .rnd and the two .ext files; then genrsa private_key.pem, rsa -pubout public_key.pem, chmod.
# It does this in the datadir (my_setwd) under umask ~0600, and each step is one system() call,
# i.e. `/bin/sh -c "<command> > /dev/null 2>&1"` (the redirect is added unless --verbose).
# We do the same: one `sh -c` per step, so every openssl call is its own process, as there.
#
# Note: the original does NOT use `genrsa` + `req -new -x509` for the CA; it makes the CA exactly
# like the leaves (req -newkey + rsa rewrite) and self-signs with `x509 -req -signkey`.
# The `-days` on `req` without `-x509` is ignored by OpenSSL (it was in the original too).
#
# Suffix: the original defaults to the server version (e.g. 8.0.36); pass the same SUFFIX as the
# dbtls run so the CNs have the same length. Only the SSL/RSA work is timed: the skip checks of
# the original are irrelevant here because DIR is always fresh.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DIR [SUFFIX]" >&2
  exit 2
fi
DIR=$1
SUFFIX=${2:-8.0.36}
[ -d "$DIR" ] || { echo "$0: $DIR is not a directory" >&2; exit 1; }
cd "$DIR"
umask 077   # the original: umask(~(USER_READ | USER_WRITE))

# execute_command(): system(command + " > /dev/null 2>&1"); a non-zero status is fatal.
step() {
  sh -c "$1 > /dev/null 2>&1" || { echo "$0: failed: $1" >&2; exit 1; }
}

SUBJ="-subj /CN=MySQL_Server_${SUFFIX}"

step "openssl version"

# X509v3_ext_writer
rm -f ca-req.pem server-req.pem client-req.pem client-cert.pem client-key.pem .rnd cav3.ext certv3.ext
echo "basicConstraints=CA:TRUE" > cav3.ext
echo "basicConstraints=CA:FALSE" > certv3.ext

# CA key and certificate
step "openssl req -newkey rsa:2048 -days 3650 -nodes -keyout ca-key.pem ${SUBJ}_Auto_Generated_CA_Certificate -out ca-req.pem && openssl rsa -in ca-key.pem -out ca-key.pem"
step "openssl x509 -sha256 -days 3650 -extfile cav3.ext -set_serial 1 -req -in ca-req.pem -signkey ca-key.pem -out ca.pem"

# Server key and certificate
step "openssl req -newkey rsa:2048 -days 3650 -nodes -keyout server-key.pem ${SUBJ}_Auto_Generated_Server_Certificate -out server-req.pem && openssl rsa -in server-key.pem -out server-key.pem"
step "openssl x509 -sha256 -days 3650 -extfile certv3.ext -set_serial 2 -req -in server-req.pem -CA ca.pem -CAkey ca-key.pem -out server-cert.pem"

# Client key and certificate
step "openssl req -newkey rsa:2048 -days 3650 -nodes -keyout client-key.pem ${SUBJ}_Auto_Generated_Client_Certificate -out client-req.pem && openssl rsa -in client-key.pem -out client-key.pem"
step "openssl x509 -sha256 -days 3650 -extfile certv3.ext -set_serial 3 -req -in client-req.pem -CA ca.pem -CAkey ca-key.pem -out client-cert.pem"

step "openssl verify -CAfile ca.pem server-cert.pem client-cert.pem"

# set_file_pair_permission(): keys 0600, certificates 0644
chmod 600 ca-key.pem server-key.pem client-key.pem
chmod 644 ca.pem server-cert.pem client-cert.pem

# Remove request files (an error if they cannot be deleted), then .rnd and the ext files
rm ca-req.pem server-req.pem client-req.pem
rm -f .rnd cav3.ext certv3.ext

# RSA key pair for sha256_password / caching_sha2_password
rm -f .rnd
step "openssl genrsa  -out private_key.pem 2048"
step "openssl rsa -in private_key.pem -pubout -out public_key.pem"
chmod 600 private_key.pem
chmod 644 public_key.pem
rm -f .rnd
