// The environment every child process gets: dbtls holds the CA passphrase, the SSH key passphrase and
// the store password in its own environment, and none of them may reach a reload command, a server
// binary asked for its version, or anything else dbtls starts. Children get an allowlist, not a
// denylist, so a secret under a name nobody thought of is kept back too.

/** Variables a child may see: locating programs, the locale, the user, the terminal, temp files. */
const ALLOWED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TERM', 'TMPDIR']);

function allowed(name: string): boolean {
  return ALLOWED.has(name) || name.startsWith('LC_');
}

/**
 * A scrubbed copy of `from` (process.env by default) with only the allowlisted variables, plus `extra`.
 * `extra` is for values the caller means the child to have; never pass a secret in it.
 */
export function childEnv(extra: Record<string, string> = {}, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from)) if (v !== undefined && allowed(k)) env[k] = v;
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return { ...env, ...extra };
}
