// The work of `dbtls apply` (spec: cli/commands/push.ts): issue what is new or changed, render, then
// push as `dbtls push` does. Its own module, so a plain push loads neither issue nor render.
import { runIssue } from '../../lib/issue/issue.js';
import { storepassFromSources } from '../../lib/keystore/passwords.js';
import { runRender } from '../../lib/render/render.js';
import type { ApplyFlags } from '../commands/push.js';
import { caPassphrase, storepassFlags } from '../secrets.js';
import { outputMode } from '../ui/mode.js';
import { printApplySteps, printApplyWouldIssue, printApplyWouldRender, type ApplySteps } from '../ui/push-report.js';
import { VERSION } from '../version.js';
import { deliver, preparePush } from './push.js';
import { issueAudit } from '../audit-events.js';

export async function apply(flags: ApplyFlags): Promise<number> {
  const prepared = await preparePush(flags, 'apply');
  const { cluster, audit } = prepared;
  const mode = outputMode(flags.json);
  const check = Boolean(flags.check);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const storepass = await storepassFromSources(await storepassFlags({ storepassFile: flags.storepassFile }));
  const issued = await runIssue(cluster, { check, newCa: flags.newCa, passphrase, storepass }, issueAudit(audit));
  const steps: ApplySteps = {
    issue: { changed: issued.changed, issued: issued.issued.length, stores: issued.stores.length },
  };
  if (check && issued.changed) {
    printApplyWouldIssue(issued, steps, mode);
    return 0;
  }
  const rendered = await runRender(cluster, { generator: `dbtls ${VERSION}`, check });
  steps.render = { changed: rendered.changed, written: rendered.files.filter((f) => f.state !== 'unchanged').length };
  if (check && rendered.changed) {
    printApplyWouldRender(steps, mode);
    return 0;
  }
  printApplySteps(issued, steps, mode, check);
  return deliver(flags, prepared, steps);
}
