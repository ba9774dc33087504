// One way every command's action runs. `run('<verb>', …args)` loads that command's work module
// (cli/run/<verb>.ts, which imports lib/ statically) only when the command runs, so `--help`,
// `--version` and the other commands never load its dependencies; the number the work returns
// becomes the exit status, and any error becomes its message and exit status (report-error.ts).
// The table below is the whole list: one lazy import per command, as citty's subCommands.
import { reportError } from './report-error.js';

const work = {
  render: () => import('./run/render.js').then((m) => m.render),
  check: () => import('./run/check.js').then((m) => m.check),
  'rotate leaf': () => import('./run/rotate.js').then((m) => m.rotateLeaf),
  'rotate ca': () => import('./run/rotate.js').then((m) => m.rotateCa),
  'rotate status': () => import('./run/rotate.js').then((m) => m.rotateStatus),
  'keystore create': () => import('./run/keystore.js').then((m) => m.keystoreCreate),
  'keystore trust': () => import('./run/keystore.js').then((m) => m.keystoreTrust),
  'keystore list': () => import('./run/keystore.js').then((m) => m.keystoreList),
};

type Work = typeof work;
export type Verb = keyof Work;
type WorkFn<V extends Verb> = Awaited<ReturnType<Work[V]>>;

export async function run<V extends Verb>(verb: V, ...args: Parameters<WorkFn<V>>): Promise<void> {
  try {
    const fn = (await work[verb]()) as (...a: Parameters<WorkFn<V>>) => Promise<number>;
    process.exitCode = await fn(...args);
  } catch (e) {
    process.exitCode = reportError(e, { json: wantsJson(args) });
  }
}

/** --json anywhere in the action's arguments (its flags object comes after any positionals). */
function wantsJson(args: unknown[]): boolean {
  return args.some((a) => typeof a === 'object' && a !== null && (a as { json?: unknown }).json === true);
}
