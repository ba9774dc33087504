// Real Java for the keystore tests: finds java/javac/keytool, runs the small programs in test/java
// (compiled once per test process into a temp folder, which is faster than `java File.java` each
// time), locates the MariaDB Connector/J jar, and makes reference stores with keytool and OpenSSL.
import { createHash } from 'node:crypto';
import { constants, rmSync } from 'node:fs';
import { access, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { repoRoot } from './paths.js';
import { run, type RunResult } from './run.js';
import { which as findExecutable } from './which.js';

export interface JavaTools {
  java: string;
  keytool: string;
  /** null on a JRE without the compiler: programs then run through the source launcher. */
  javac: string | null;
}

export interface JavaRunOptions {
  /** Jars (or folders) on the class path, e.g. the Connector/J jar. */
  classpath?: string[];
  timeoutMs?: number;
  cwd?: string;
}

/** The folder holding the Java test programs (not compiled by tsc, not copied to dist/). */
export const javaSourceDir = join(repoRoot, 'test/java');

/** Where Debian's libmariadb-java (2.7.x) puts the driver. */
export const CONNECTOR_J_JARS = ['/usr/share/java/mariadb-java-client.jar'];

// Quick start for short-lived programs: client compiler only, serial GC (~0.4 s instead of ~0.5 s).
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

const SEARCH_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/lib/jvm/default-java/bin'];

const which = (name: string) =>
  findExecutable(name, SEARCH_DIRS, process.env.JAVA_HOME ? [join(process.env.JAVA_HOME, 'bin')] : []);

let toolsPromise: Promise<JavaTools | null> | undefined;

/** java, keytool and (if present) javac; null when java or keytool is missing. */
export function findJava(): Promise<JavaTools | null> {
  return (toolsPromise ??= (async () => {
    const [java, keytool, javac] = await Promise.all([which('java'), which('keytool'), which('javac')]);
    return java && keytool ? { java, keytool, javac } : null;
  })());
}

/** Like findJava, but a missing JDK is an error that says how to get one. */
export async function requireJava(): Promise<JavaTools> {
  const tools = await findJava();
  if (!tools) throw new Error('java/keytool not found (need openjdk-17-jdk-headless); run `make system-deps`');
  return tools;
}

/** The MariaDB Connector/J jar, or null when libmariadb-java is not installed. */
export async function findConnectorJ(): Promise<string | null> {
  for (const jar of CONNECTOR_J_JARS) {
    try {
      await access(jar, constants.R_OK);
      return jar;
    } catch {
      // not here
    }
  }
  return null;
}

export async function requireConnectorJ(): Promise<string> {
  const jar = await findConnectorJ();
  if (!jar)
    throw new Error(
      `MariaDB Connector/J not found (${CONNECTOR_J_JARS.join(', ')}); run \`make system-deps\` (libmariadb-java)`,
    );
  return jar;
}

// One class folder per test process, removed when the process exits; one compile per source file.
let classDir: string | undefined;
const compiled = new Map<string, Promise<string>>();

async function compile(tools: JavaTools & { javac: string }, file: string): Promise<string> {
  const text = await readFile(file);
  const key = `${file}:${createHash('sha256').update(text).digest('hex')}`;
  let p = compiled.get(key);
  if (!p) {
    p = (async () => {
      if (!classDir) {
        classDir = await mkdtemp(join(tmpdir(), 'dbtls-java-'));
        const dir = classDir;
        process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      }
      const out = join(classDir, createHash('sha256').update(key).digest('hex').slice(0, 16));
      const r = await run(tools.javac, ['-nowarn', '-encoding', 'UTF-8', '-d', out, file], { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`javac ${file} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      return out;
    })();
    compiled.set(key, p);
    p.catch(() => compiled.delete(key));
  }
  return p;
}

function sourcePath(source: string): string {
  return isAbsolute(source) ? source : resolve(javaSourceDir, source);
}

/**
 * Compiles SOURCE now (once per process), so that it can overlap other set-up work; runJava would
 * do it on first use anyway. Without javac there is nothing to prepare.
 */
export async function prepareJava(source: string): Promise<void> {
  const tools = await requireJava();
  if (tools.javac) await compile({ ...tools, javac: tools.javac }, sourcePath(source));
}

/**
 * Runs a single-file Java program: SOURCE is a file name in test/java (e.g. 'TlsClient.java') or a
 * path. The public class must be named like the file. Never throws on the program's exit code.
 */
export async function runJava(source: string, args: string[], opts: JavaRunOptions = {}): Promise<RunResult> {
  const tools = await requireJava();
  const file = sourcePath(source);
  const cp = opts.classpath ?? [];
  const runOpts = { cwd: opts.cwd, timeoutMs: opts.timeoutMs ?? 60_000 };
  if (!tools.javac) {
    // The source launcher (Java 11+) compiles in memory on every run: slower, but needs no javac.
    return run(tools.java, [...JVM_FLAGS, ...(cp.length ? ['-cp', cp.join(delimiter)] : []), file, ...args], runOpts);
  }
  const classes = await compile({ ...tools, javac: tools.javac }, file);
  const main = basename(file).replace(/\.java$/, '');
  return run(tools.java, [...JVM_FLAGS, '-cp', [classes, ...cp].join(delimiter), main, ...args], runOpts);
}

/** Runs `keytool ARGS`; never throws on its exit code. */
export async function keytool(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  const tools = await requireJava();
  return run(tools.keytool, ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC', ...args], { timeoutMs });
}

/** `keytool -list -v` on FILE; TYPE is optional (keytool detects JKS and PKCS12 by content). */
export function keytoolList(file: string, storepass: string, type?: 'JKS' | 'PKCS12'): Promise<RunResult> {
  return keytool(['-list', '-v', '-keystore', file, '-storepass', storepass, ...(type ? ['-storetype', type] : [])]);
}

async function must(what: string, r: Promise<RunResult>): Promise<void> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
}

export interface ReferenceKeyStore {
  /** PEM files: the leaf certificate, its key, and the CA certificates completing the chain. */
  cert: string;
  key: string;
  chain?: string[];
  out: string;
  type: 'JKS' | 'PKCS12';
  storepass: string;
  alias?: string;
}

/**
 * A key store made the usual way, for comparisons: `openssl pkcs12 -export`, then (for JKS)
 * `keytool -importkeystore`. The key password equals the store password.
 */
export async function referenceKeyStore(o: ReferenceKeyStore): Promise<string> {
  const alias = o.alias ?? 'key';
  const p12 = o.type === 'PKCS12' ? o.out : `${o.out}.tmp.p12`;
  const chain = (o.chain ?? []).flatMap((c) => ['-certfile', c]);
  const pass = `pass:${o.storepass}`;
  await must(
    'openssl pkcs12 -export',
    run('openssl', [
      'pkcs12',
      '-export',
      '-in',
      o.cert,
      '-inkey',
      o.key,
      ...chain,
      '-name',
      alias,
      '-passout',
      pass,
      '-out',
      p12,
    ]),
  );
  if (o.type === 'JKS') {
    try {
      await must(
        'keytool -importkeystore',
        keytool([
          '-importkeystore',
          '-noprompt',
          '-srckeystore',
          p12,
          '-srcstoretype',
          'PKCS12',
          '-srcstorepass',
          o.storepass,
          '-destkeystore',
          o.out,
          '-deststoretype',
          'JKS',
          '-deststorepass',
          o.storepass,
          '-destkeypass',
          o.storepass,
        ]),
      );
    } finally {
      rmSync(p12, { force: true });
    }
  }
  return o.out;
}

/** A trust store holding CA certificates (PEM files) as trustedCertEntry, made by keytool -importcert. */
export async function referenceTrustStore(o: {
  cas: string[];
  out: string;
  type: 'JKS' | 'PKCS12';
  storepass: string;
}): Promise<string> {
  for (const [i, ca] of o.cas.entries()) {
    await must(
      'keytool -importcert',
      keytool([
        '-importcert',
        '-noprompt',
        '-alias',
        `ca${i}`,
        '-file',
        ca,
        '-keystore',
        o.out,
        '-storetype',
        o.type,
        '-storepass',
        o.storepass,
      ]),
    );
  }
  return o.out;
}
