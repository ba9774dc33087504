// The wizard's last questions, about this machine: the inventory file to write (an existing one is
// replaced only when --force, the answers file or the person says so) and the PKI directory (an
// existing CA in it is kept).
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as rules from '../inventory/rules.js';
import { expandHome } from '../inventory/build.js';
import { exists } from './file-checks.js';
import type { FlowContext } from './flow.js';
import { absolutePath, type AnswerSource } from './questions.js';

/** The inventory file, absolute; `replaces`: it exists and is to be replaced. */
export async function inventoryAnswer(
  ctx: Pick<FlowContext, 'src' | 'force'>,
  cluster: string,
): Promise<{ inventory: string; replaces: boolean }> {
  const { src } = ctx;
  for (;;) {
    const inventory = expandHome(
      await src.path({
        key: 'inventory',
        message: 'Inventory file to write',
        default: `${cluster}.yml`,
        validate: async (s) => {
          const why = rules.filePath(s);
          if (why) return why;
          const st = await stat(expandHome(absolutePath(s, src.baseFor('inventory')))).catch(() => undefined);
          return st?.isDirectory() ? 'is a folder; name the file' : undefined;
        },
      }),
    );
    if (!(await exists(inventory))) return { inventory, replaces: false };
    if (ctx.force) return { inventory, replaces: true };
    if (src.given('overwrite') === false || (!src.interactive && src.has('inventory') && !src.has('overwrite'))) {
      throw src.bad('inventory', `${inventory} exists; set overwrite: true (or pass --force) to replace it`);
    }
    const replace = await src.confirm({
      key: 'overwrite',
      message: `${inventory} exists. Replace it?`,
      default: false,
      askWithoutDefault: true,
    });
    if (replace) return { inventory, replaces: true };
    if (src.has('inventory')) throw src.bad('inventory', `${inventory} exists and is not to be replaced`);
  }
}

/** The PKI directory as the inventory gets it: `~/…` as written, else absolute (relative ones start at the inventory's folder). */
export async function pkiAnswer(src: AnswerSource, cluster: string, inventory: string): Promise<string> {
  const pkiText = await src.path(
    {
      key: 'pki',
      message: "PKI directory: CA, certificates, keys (relative to the inventory's folder)",
      default: `pki/${cluster}`,
      validate: rules.filePath,
    },
    dirname(inventory),
  );
  const pki = absolutePath(pkiText, dirname(inventory));
  const pkiStat = await stat(expandHome(pki)).catch(() => undefined);
  if (pkiStat && !pkiStat.isDirectory()) throw src.bad('pki', `${pki} exists and is not a folder`);
  if (await exists(join(expandHome(pki), 'ca.pem')))
    src.note(`${pki} already holds a CA: it is kept, and so is every certificate still valid.`);
  return pkiText.startsWith('~/') ? pkiText : pki;
}
