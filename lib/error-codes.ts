// Every error code dbtls reports, in one place: what `--json` consumers (the Ansible examples) match
// on, so a code is a contract. DbtlsError, usageError and inputError take an ErrorCode, so a code that
// is not here does not compile; docs/errors.md is generated from this list (scripts/error-codes-doc.mjs)
// and test/errors/catalogue.test.ts keeps the three in step (no code missing, none dead, kinds true).
//
// kind says how the code is raised, and so its exit status: usage and input exit 2, failure exits 1.
// A code raised as more than one kind lists each (the summary says when).
import type { ErrorKind } from './errors.js';
import { PKI_ERROR_CODES } from './error-codes-pki.js';

export interface ErrorCodeInfo {
  readonly kind: ErrorKind | readonly ErrorKind[];
  /** One line: what went wrong, for the person reading docs/errors.md. */
  readonly summary: string;
}

export const ERROR_CODES = {
  // The command line: options and arguments (cli/).
  'bad-option': {
    kind: 'usage',
    summary: 'an option value commander refused while parsing (not a number, not one of the choices)',
  },
  'bad-usage': {
    kind: 'usage',
    summary:
      'the command line itself is wrong: an unknown command or option, a missing argument or option value, too many arguments, conflicting options',
  },
  'input-file': {
    kind: 'usage',
    summary:
      'a file given to an option (--inventory, --cert, --ca-passphrase-file…) is missing, unreadable or not a regular file',
  },
  'passphrase-file': {
    kind: 'usage',
    summary: 'the file given for a passphrase (--ca-passphrase-file, --ssh-passphrase-file) is empty',
  },
  'pki-not-a-folder': {
    kind: 'input',
    summary: "the inventory's pki: path is not a folder, cannot exist (a part of it is a file) or cannot be read",
  },
  exists: { kind: 'input', summary: 'the output file of `keystore` exists and --force was not given' },
  unreadable: { kind: 'input', summary: 'a file the user named cannot be read' },
  'byo-ca': { kind: 'usage', summary: '--ca-cert and --ca-key were not given together' },
  'bad-reload': { kind: 'usage', summary: '--reload is not changed, always or never' },
  'files-dest': { kind: 'usage', summary: '--files was given without --dest, or --dest without --files' },
  'bad-dest': { kind: 'usage', summary: '--dest is not a usable remote folder' },
  'files-none': { kind: 'usage', summary: 'a --files pattern matches no file' },
  'files-pattern': { kind: 'input', summary: 'a --files pattern has a wildcard before its last part' },

  // Anything else: a bug, or a system error that has no code of its own (Node's code, like EACCES, is given instead when there is one).
  failure: { kind: 'failure', summary: 'an unexpected error; the message says what happened' },

  // Inventories (lib/inventory).
  'bad-inventory': {
    kind: 'input',
    summary: 'the inventory has problems; each is listed with its file:line:column and field',
  },
  'inventory-unreadable': {
    kind: 'input',
    summary: 'the inventory cannot be read: no such file, a folder, or not a regular file',
  },
  'inventory-too-large': { kind: 'input', summary: 'the inventory is larger than dbtls reads (16 MiB)' },
  'bad-cluster': {
    kind: 'usage',
    summary: '--cluster (the cluster name of an Ansible inventory) is not a valid cluster name',
  },
  'bad-role-map': {
    kind: 'usage',
    summary: '--role-map is not group=role[,role…], or names a group or role that is not there',
  },

  // init: the wizard, answers files and Ansible imports (lib/init).
  'init-no-terminal': { kind: 'usage', summary: '`dbtls init` without --answers needs a terminal on stdin and stdout' },
  'answers-file-unreadable': {
    kind: 'input',
    summary: 'the answers file cannot be read: no such file, a folder, or not a regular file',
  },
  'answers-file-too-large': { kind: 'input', summary: 'the answers file is larger than dbtls reads (16 MiB)' },
  'ansible-inventory-unreadable': {
    kind: 'input',
    summary: 'the Ansible inventory to import cannot be read: no such file, a folder, or not a regular file',
  },
  'ansible-inventory-too-large': {
    kind: 'input',
    summary: 'the Ansible inventory to import is larger than dbtls reads (16 MiB)',
  },
  'not-ansible': { kind: 'input', summary: 'the file to import is a dbtls inventory, not an Ansible one' },
  'bad-answers': {
    kind: 'input',
    summary: 'the answers file has problems (each listed), or its answers do not make a valid inventory',
  },
  'bad-answer': { kind: 'usage', summary: 'an answer given to a question is not valid for it' },
  'missing-answer': {
    kind: 'usage',
    summary: 'a question has no answer in the answers file and there is no terminal to ask on',
  },
  'bad-default': { kind: 'usage', summary: "a question's default is not valid here; the answers file must give it" },
  'init-connection': { kind: 'failure', summary: 'the connection test to the nodes failed, so nothing was written' },

  // Files dbtls reads and writes in the PKI folder, and its lock (lib/store).
  'symlink-refused': { kind: 'input', summary: 'a file dbtls trusts is a symbolic link, which it does not follow' },
  'not-a-file': { kind: 'input', summary: 'a file dbtls reads is not a regular file' },
  'file-too-large': { kind: 'input', summary: 'a file is larger than dbtls reads' },
  'untrusted-dir': {
    kind: 'input',
    summary:
      'a folder dbtls would trust could be replaced by another user (group- or world-writable, or owned by another user)',
  },
  'symlinked-dir': {
    kind: 'input',
    summary: 'a folder in the PKI folder is a symbolic link, which dbtls does not write through',
  },
  'not-a-directory': { kind: 'input', summary: 'a path in the PKI folder should be a folder but is something else' },
  'bad-journal': {
    kind: 'input',
    summary: "the PKI folder's journal of an interrupted write is not one dbtls can apply",
  },
  interrupted: {
    kind: 'input',
    summary: 'an interrupted dbtls run left the PKI folder between two states (`dbtls issue` finishes it)',
  },
  'pki-interrupted': {
    kind: 'input',
    summary: 'push refuses a PKI folder with an interrupted write (`dbtls issue` finishes it)',
  },
  'lock-refused': { kind: 'input', summary: "the PKI folder's lock file is a symbolic link or not a dbtls lock" },
  locked: { kind: 'failure', summary: 'another dbtls run holds the PKI folder' },
  'lock-takeover-left': {
    kind: 'failure',
    summary: 'a dbtls run killed while taking over a stale lock left its guard file behind',
  },
  'bad-manifest': {
    kind: 'input',
    summary: "the PKI folder's manifest is not valid JSON or not a manifest this dbtls reads",
  },
  'wrong-cluster': { kind: 'input', summary: 'the PKI folder belongs to another cluster' },

  // Certificates, keys, the CA, issuing, revocation and PKCS#11 tokens: lib/error-codes-pki.ts.
  ...PKI_ERROR_CODES,

  // Keystores: JKS, JCEKS, PKCS#12 and their passwords (lib/keystore).
  'storepass-file': { kind: 'usage', summary: '--storepass-file cannot be read' },
  'storepass-chars': { kind: 'usage', summary: 'the store password is not printable ASCII without spaces' },
  'storepass-short': { kind: 'usage', summary: 'the store password is shorter than keytool accepts' },
  'storepass-needed': { kind: 'input', summary: 'a PKCS#12 store cannot be read without its password' },
  'keystore-password': {
    kind: 'input',
    summary: 'the store password is wrong, or the store was tampered with (its integrity check fails)',
  },
  'not-a-store': { kind: 'input', summary: 'the file is not a JKS, JCEKS or PKCS#12 store' },
  truncated: { kind: 'input', summary: 'a keystore is truncated' },
  'duplicate-alias': { kind: 'input', summary: 'an alias appears twice in one keystore' },
  'no-chain': { kind: 'input', summary: 'a key entry has no certificate' },
  'java-string': { kind: 'input', summary: 'a string (an alias?) is longer than a Java keystore holds' },
  'not-jks': { kind: 'input', summary: 'the file is not a JKS keystore' },
  'bad-jks': { kind: 'input', summary: 'a JKS key entry is malformed' },
  'jks-version': { kind: 'input', summary: 'the JKS version is not one dbtls reads' },
  'jks-entry': { kind: 'input', summary: 'a JKS entry has an unknown type' },
  'jks-cert-type': { kind: 'input', summary: 'a JKS certificate is not X.509' },
  'jks-key-algorithm': {
    kind: 'input',
    summary: "a JKS key entry is protected with another algorithm than Sun's KeyProtector",
  },
  'jks-key-password': { kind: 'input', summary: 'the key password does not decrypt a JKS key entry' },
  'not-jceks': { kind: 'input', summary: 'the file is not a JCEKS keystore (or is a JKS one)' },
  'jceks-version': { kind: 'input', summary: 'the JCEKS version is not one dbtls reads' },
  'jceks-entry': { kind: 'input', summary: 'a JCEKS entry is malformed' },
  'jceks-cert-type': { kind: 'input', summary: 'a JCEKS certificate is not X.509' },
  'jceks-trailing': { kind: 'input', summary: 'a JCEKS keystore has bytes after its last entry' },
  'jceks-serialization': {
    kind: 'input',
    summary: 'a sealed JCEKS secret key is not a Java serialization dbtls reads',
  },
  'jceks-key-algorithm': {
    kind: 'input',
    summary: 'a JCEKS secret key is sealed with an algorithm dbtls does not read',
  },
  'jceks-key-password': { kind: 'input', summary: 'the key password does not decrypt a JCEKS entry' },
  'jceks-password-ascii': {
    kind: 'input',
    summary: "a JCEKS key password is not printable ASCII (Java's key protection needs it)",
  },
  'jceks-alias': { kind: 'input', summary: 'a JCEKS secret key entry to write has an empty alias' },
  'jceks-algorithm': { kind: 'input', summary: 'a JCEKS secret key to write has no valid Java algorithm name' },
  'jceks-key': { kind: 'input', summary: 'a JCEKS secret key to write is empty' },
  'jceks-password': { kind: 'input', summary: 'a JCEKS secret key to write has an empty password' },
  'jceks-iterations': { kind: 'input', summary: 'a JCEKS iteration count is out of range' },
  'jceks-salt': { kind: 'input', summary: 'a JCEKS salt is not 8 bytes, or is a weak one' },
  'blowfish-key-size': { kind: 'input', summary: 'a Blowfish key is not 32 to 448 bits in steps of 8' },
  'not-pkcs12': { kind: 'input', summary: 'the file is not a PKCS#12 store' },
  'bad-pkcs12': { kind: 'input', summary: 'a PKCS#12 store is damaged' },
  'pkcs12-unsupported': {
    kind: 'input',
    summary: 'a PKCS#12 store uses an algorithm or structure dbtls does not read',
  },

  // Rendering configs from templates (lib/render).
  template: {
    kind: 'input',
    summary: 'a template fails to parse or render (the location is the template, line and column)',
  },
  'render-value': {
    kind: 'input',
    summary: 'a value cannot be written in the format of the config (INI, libconfig, TOML, Java properties…)',
  },
  'subject-unrenderable': {
    kind: 'input',
    summary: "a certificate subject or issuer cannot be written for MySQL's REQUIRE SUBJECT/ISSUER",
  },
  'templates-missing': { kind: 'input', summary: 'the templates folder does not exist' },
  'templates-unreadable': { kind: 'input', summary: 'the templates folder cannot be read' },
  'templates-not-dir': { kind: 'input', summary: 'the templates path is not a folder' },
  'reserved-name': { kind: 'input', summary: 'a node is named "clients", which the rendered clients/ folder uses' },

  // Pushing over SSH or to a local folder, and reloading (lib/deliver).
  'ssh-connect': { kind: 'failure', summary: 'the SSH connection to a node failed (after the retries)' },
  'ssh-auth': { kind: 'failure', summary: 'a node refused every SSH key, or there is no key to log in with' },
  'ssh-timeout': { kind: 'failure', summary: 'a remote command timed out' },
  'ssh-closed': { kind: 'failure', summary: 'the SSH connection closed during a transfer' },
  'ssh-identity': { kind: 'failure', summary: 'the SSH identity file cannot be read or is not a private key' },
  'ssh-identity-passphrase': {
    kind: 'failure',
    summary: 'the SSH identity file is encrypted and no passphrase, or a wrong one, was given',
  },
  'ssh-bastion-connect': { kind: 'failure', summary: 'the connection to the bastion (proxyJump) failed' },
  'ssh-bastion-auth': { kind: 'failure', summary: 'the bastion refused every SSH key' },
  'ssh-bastion-forward': {
    kind: 'failure',
    summary: 'the bastion refused or failed to forward the connection to the node',
  },
  'host-key-unknown': {
    kind: 'failure',
    summary: "the node's host key is not in known_hosts (and new keys are not accepted)",
  },
  'host-key-changed': { kind: 'failure', summary: "the node's host key differs from the one known_hosts expects" },
  'host-key-new-type': {
    kind: 'failure',
    summary: 'the node offered a host key of a type known_hosts does not know it by',
  },
  'host-key-revoked': { kind: 'failure', summary: 'the node offered a host key known_hosts marks @revoked' },
  'known-hosts-unreadable': { kind: 'input', summary: 'the known_hosts file cannot be read' },
  'known-hosts-bad-host': {
    kind: 'input',
    summary: 'a host key cannot be recorded: the host is not a plain name or address, or the port is bad',
  },
  'known-hosts-bad-key': { kind: 'failure', summary: 'a host key to record is malformed' },
  'shell-nul': { kind: 'input', summary: 'a remote command argument holds a NUL byte' },
  'remote-owner': { kind: 'input', summary: 'the owner or group a file is pushed with does not exist on the node' },
  'remote-tmp': { kind: 'failure', summary: 'a temporary folder could not be made on the node' },
  'remote-not-file': {
    kind: 'failure',
    summary: 'a file to replace on the node is a symbolic link or not a regular file',
  },
  'remote-read': { kind: 'failure', summary: 'sudo could not read a file on the node' },
  'remote-verify': { kind: 'failure', summary: 'a file pushed to the node does not read back as written' },
  'remote-backup': {
    kind: 'failure',
    summary: 'the backup of a file on the node could not be kept before replacing it',
  },
  'remote-rename': { kind: 'failure', summary: 'a pushed file could not be renamed into place on the node' },
  'sudo-install': { kind: 'failure', summary: 'sudo install of a pushed file failed on the node' },
  'local-verify': { kind: 'failure', summary: 'a file written by the local transport does not read back as written' },
  'reload-failed': { kind: 'failure', summary: "a node's reload command failed" },
  'galera-halted': {
    kind: 'failure',
    summary: 'a Galera node was not touched because the node rolled before it failed (the roll stops there)',
  },
  'after-reload': {
    kind: 'failure',
    summary: 'the check after a reload (the probe) failed; the previous files are put back',
  },
  'rollback-failed': { kind: 'failure', summary: 'putting the previous files back after a failure failed too' },

  // Probing a server's TLS (lib/probe).
  'bad-target': { kind: 'usage', summary: 'the probe target is not HOST[:PORT]' },
  'probe-bad-ca': { kind: 'input', summary: 'the CA bundle holds no readable certificate' },
  'probe-refused': { kind: 'failure', summary: 'the connection was refused (nothing listens on the port?)' },
  'probe-unreachable': { kind: 'failure', summary: 'the host cannot be resolved or reached' },
  'probe-timeout': { kind: 'failure', summary: 'no connection, or no complete greeting, within the timeout' },
  'probe-closed': { kind: 'failure', summary: 'the server closed the connection before its MySQL greeting' },
  'probe-not-mysql': { kind: 'failure', summary: 'the server does not speak the MySQL protocol' },
  'probe-server-error': { kind: 'failure', summary: 'the server refused the connection with a MySQL ERR packet' },
  'probe-no-tls': { kind: 'failure', summary: 'the server does not offer TLS' },
  'probe-tls-failed': { kind: 'failure', summary: 'the TLS handshake failed, or the server presented no certificate' },

  // The Prometheus exporter (lib/exporter).
  'bad-listen': { kind: 'usage', summary: '--listen is not HOST:PORT with an IP address (or localhost) and a port' },
  'listen-failed': { kind: 'input', summary: "the exporter cannot listen on the address: in use, or not this host's" },

  // Rotation (lib/rotate).
  'needs-yes': {
    kind: 'usage',
    summary: 'a rotation step asks before it goes ahead, and without a terminal --yes must say so',
  },
  declined: { kind: 'usage', summary: 'the question was answered no: nothing was changed' },
  'wrong-phase': { kind: 'usage', summary: 'the CA rotation is at another phase than --phase (or none is under way)' },
  'rotation-mismatch': { kind: 'input', summary: 'the CA in the PKI folder is not the new CA the rotation expects' },
  'bad-rotation-state': { kind: 'input', summary: "the rotation's state file cannot be read" },

  // Scheduling `rotate leaf` with cron or systemd (lib/schedule).
  'schedule-kind': { kind: 'usage', summary: 'not exactly one of --cron or --systemd was given' },
  'bad-at': { kind: 'usage', summary: '--at is not a time of day HH:MM' },
  'bad-name': { kind: 'usage', summary: '--name is not a valid job name' },
  'bad-user': { kind: 'usage', summary: '--user is not a valid user name' },
  'bad-path': {
    kind: 'usage',
    summary: 'a path or argument of the scheduled job is empty or holds a control character',
  },
  'bad-program': { kind: 'usage', summary: 'a program the scheduled job runs is not named, or not found on PATH' },
  'bad-out': { kind: 'usage', summary: '--out is not a folder, or a file to write there is not a regular file' },
  'log-with-systemd': { kind: 'usage', summary: '--log was given with --systemd (it is for --cron)' },
  'delay-with-cron': { kind: 'usage', summary: '--randomized-delay was given with --cron (it is for --systemd)' },
  'cron-newline': { kind: 'usage', summary: 'a crontab command would hold a line break' },
  'cron-backslash-percent': { kind: 'usage', summary: 'a crontab command would hold a backslash followed by "%"' },
  'systemd-nul': { kind: 'input', summary: 'an ExecStart= argument holds a NUL byte' },
  'systemd-executable': { kind: 'input', summary: 'the ExecStart= executable is not an absolute path systemd can run' },
  'systemd-value': {
    kind: 'input',
    summary: 'a systemd setting would hold a control character, or begin or end with a blank',
  },

  // setup: the mysql_ssl_rsa_setup drop-in, and the option files it reads (lib/setup).
  'bad-key-size': { kind: 'usage', summary: '--key-size is not 2048, 3072 or 4096' },
  'bad-key-type': {
    kind: 'usage',
    summary: '--key-type is unknown, contradicts --key-size, or cannot be written as --key-format pkcs1',
  },
  'bad-days': {
    kind: ['usage', 'input'],
    summary: '--days is not a whole number (usage), or not from 1 to 36500 (input)',
  },
  'bad-san': { kind: 'input', summary: 'a --san is not a DNS name or IP address' },
  'bad-suffix': { kind: 'input', summary: '--suffix is not 1 to 17 letters, digits or underscores' },
  'bad-uid': { kind: 'input', summary: '--uid is not a valid user name' },
  'unknown-user': { kind: 'input', summary: 'the --uid user does not exist' },
  'bad-group': { kind: 'input', summary: 'the group files are given to is not a valid group name' },
  'unknown-group': { kind: 'input', summary: 'the group files are given to does not exist' },
  'no-datadir': {
    kind: 'input',
    summary: 'no data directory: none given, none in the option files, no local server to ask, or it does not exist',
  },
  'datadir-not-writable': { kind: 'input', summary: 'the data directory is not writable' },
  'option-file-bad-group': { kind: 'input', summary: 'an option file has a [group] header without its closing "]"' },
  'option-file-no-group': { kind: 'input', summary: 'an option file has an option before any [group] header' },
  'option-file-no-name': { kind: 'input', summary: 'an option file has a line with no name before "="' },
  'option-file-bad-directive': {
    kind: 'input',
    summary: 'an option file has a !include or !includedir without a path',
  },
  'option-file-unreadable': { kind: 'input', summary: 'a required option file cannot be read' },
  'option-file-bad-includedir': { kind: 'input', summary: 'an !includedir folder cannot be listed' },

  // check (lib/check).
  'bad-duration': {
    kind: 'usage',
    summary: 'a duration (--within, --randomized-delay…) is not a number with an optional unit s, m, h, d or w',
  },

  // export ansible (lib/export).
  'export-unsafe-key': {
    kind: 'input',
    summary: 'a key to write in an Ansible file holds characters other than letters, digits, "_", "." and "-"',
  },
  'out-not-folder': { kind: 'input', summary: '--out exists and is not a folder' },
  'out-not-empty': { kind: 'input', summary: '--out is not empty and holds no earlier export, or a different one' },
  'export-write': { kind: 'failure', summary: 'the export folder could not be written' },

  // The audit trail and `dbtls log` (lib/audit).
  'audit-log-refused': {
    kind: 'input',
    summary:
      'the audit log (audit.log) is a symbolic link, not a regular file, owned by another user or not mode 0600: nothing is written to it',
  },
  'audit-log-write': {
    kind: 'failure',
    summary: 'a record could not be appended to the audit log (a full disk, say); the command went on and exits 1',
  },
  'audit-log-corrupt': {
    kind: 'input',
    summary: 'a line of the audit log is not a dbtls record (a torn last record is skipped and reported, not this)',
  },
  'log-target': { kind: 'usage', summary: '`dbtls log` needs one of -i INVENTORY, --pki DIR and --file LOG' },
  'at-needs-node': { kind: 'usage', summary: '`dbtls log --at` answers for one node: give --node too' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;
