// The transport's defaults, in a module of their own with no imports: the CLI shows them in every
// push/apply/rotate help and gives them to commander when it registers the commands, which must not
// load the SSH code (ssh-connect.ts and its known_hosts, bastion and identity modules) to do so.

/** How many backups of a replaced file are kept beside it. */
export const DEFAULT_BACKUPS = 3;

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_DELAY_MS = 300;
