// A throwaway SoftHSM2 token: its own folder, config and token store, initialised by the real
// softhsm2-util. Nothing is mocked: the tests talk PKCS#11 to libsofthsm2.so.
//
// SoftHSM2 finds its config through SOFTHSM2_CONF, read by the library inside this Node process (at
// each C_Initialize), not only by the tools it spawns: so createSoftHsmToken sets
// process.env.SOFTHSM2_CONF too, and a test file uses one config: it calls createSoftHsmToken once
// (in before()) and keeps its keys apart by label. cleanup() puts the previous value back and removes
// the folder.
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.js';
import { which, SBIN_DIRS } from './which.js';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  /** The temporary folder: softhsm2.conf and tokens/. */
  dir: string;
  /** The config file (SOFTHSM2_CONF). */
  conf: string;
  /** The PKCS#11 module to load. */
  module: string;
  /** process.env with SOFTHSM2_CONF set, for the tools a test runs (pkcs11-tool, softhsm2-util). */
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

const MISSING = 'run scripts/install-system-deps.sh (as root: it installs softhsm2 and opensc)';

/** softhsm2-util, or an error saying how to install it: a missing tool fails the test, it is not skipped. */
export async function softhsmUtil(): Promise<string> {
  const path = await which('softhsm2-util', SBIN_DIRS);
  if (!path) throw new Error(`softhsm2-util not found: the PKCS#11 tests need SoftHSM2; ${MISSING}`);
  try {
    await access(SOFTHSM_MODULE);
  } catch {
    throw new Error(`${SOFTHSM_MODULE} not found: the PKCS#11 tests need SoftHSM2's module; ${MISSING}`);
  }
  return path;
}

/** A new initialised token labelled LABEL in a new SoftHSM2 config (made this process's SOFTHSM2_CONF). */
export async function createSoftHsmToken(opts: { label: string; soPin: string; pin: string }): Promise<SoftHsmToken> {
  const util = await softhsmUtil();
  const dir = await mkdtemp(join(tmpdir(), 'dbtls-softhsm-'));
  const conf = join(dir, 'softhsm2.conf');
  await mkdir(join(dir, 'tokens'), { mode: 0o700 });
  await writeFile(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const init = await run(
    util,
    ['--init-token', '--free', '--label', opts.label, '--so-pin', opts.soPin, '--pin', opts.pin],
    { env },
  );
  if (init.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`softhsm2-util --init-token failed (${init.code}): ${init.stderr || init.stdout}`);
  }
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  return {
    dir,
    conf,
    module: SOFTHSM_MODULE,
    env,
    async cleanup() {
      if (process.env.SOFTHSM2_CONF === conf) {
        if (previous === undefined) delete process.env.SOFTHSM2_CONF;
        else process.env.SOFTHSM2_CONF = previous;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
