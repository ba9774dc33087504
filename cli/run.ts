// One way every command's action runs. `run('<verb>', …args)` loads that command's work module
// (cli/run/<verb>.ts, which imports lib/ statically) only when the command runs, so `--help`,
// `--version` and the other commands never load its dependencies; the number the work returns
// becomes the exit status, and any error becomes its message and exit status (report-error.ts).
// The table below is the whole list: one lazy import per command, as citty's subCommands.
// Every spec imports this file, so it imports nothing from lib/ itself (report-error.ts is loaded
// when an error is reported): test/cli/basics.test.ts checks that registering loads no lib/ module.

const work = {
  init: () => import('./run/init.js').then((m) => m.init),
  setup: () => import('./run/setup.js').then((m) => m.setup),
  issue: () => import('./run/issue.js').then((m) => m.issue),
  render: () => import('./run/render.js').then((m) => m.render),
  push: () => import('./run/push.js').then((m) => m.push),
  apply: () => import('./run/apply.js').then((m) => m.apply),
  'export ansible': () => import('./run/export.js').then((m) => m.exportAnsibleCommand),
  schedule: () => import('./run/schedule.js').then((m) => m.schedule),
  probe: () => import('./run/probe.js').then((m) => m.probe),
  exporter: () => import('./run/exporter.js').then((m) => m.exporter),
  inspect: () => import('./run/inspect.js').then((m) => m.inspect),
  check: () => import('./run/check.js').then((m) => m.check),
  'rotate leaf': () => import('./run/rotate.js').then((m) => m.rotateLeaf),
  'rotate ca': () => import('./run/rotate.js').then((m) => m.rotateCa),
  'rotate intermediate': () => import('./run/rotate.js').then((m) => m.rotateIntermediate),
  'rotate status': () => import('./run/rotate.js').then((m) => m.rotateStatus),
  'keystore create': () => import('./run/keystore.js').then((m) => m.keystoreCreate),
  'keystore trust': () => import('./run/keystore.js').then((m) => m.keystoreTrust),
  'keystore list': () => import('./run/keystore.js').then((m) => m.keystoreList),
  revoke: () => import('./run/revoke.js').then((m) => m.revoke),
  'crl refresh': () => import('./run/revoke.js').then((m) => m.crlRefresh),
};

type Work = typeof work;
export type Verb = keyof Work;
type WorkFn<V extends Verb> = Awaited<ReturnType<Work[V]>>;

export async function run<V extends Verb>(verb: V, ...args: Parameters<WorkFn<V>>): Promise<void> {
  try {
    const fn = (await work[verb]()) as (...a: Parameters<WorkFn<V>>) => Promise<number>;
    process.exitCode = await fn(...args);
  } catch (e) {
    const { reportError } = await import('./report-error.js');
    process.exitCode = reportError(e, { json: wantsJson(args) });
  }
}

/** --json anywhere in the action's arguments (its flags object comes after any positionals). */
function wantsJson(args: unknown[]): boolean {
  return args.some((a) => typeof a === 'object' && a !== null && (a as { json?: unknown }).json === true);
}
