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
  log: () => import('./run/log.js').then((m) => m.log),
};

type Work = typeof work;
export type Verb = keyof Work;
type WorkFn<V extends Verb> = Awaited<ReturnType<Work[V]>>;

/** What runs once the command's work is over, told its exit status (the audit trail's last record). */
export type Finisher = (exitCode: number, error: unknown) => Promise<void> | void;
const finishers: Finisher[] = [];

/** Registers FN to run when the command's work has returned or thrown, before its error is reported. */
export function whenFinished(fn: Finisher): void {
  finishers.push(fn);
}

export async function run<V extends Verb>(verb: V, ...args: Parameters<WorkFn<V>>): Promise<void> {
  let code = 0;
  let error: unknown;
  let failed = false;
  try {
    const fn = (await work[verb]()) as (...a: Parameters<WorkFn<V>>) => Promise<number>;
    code = await fn(...args);
  } catch (e) {
    failed = true;
    error = e;
    // A DbtlsError knows its status (2 for usage and input, 1 for failures); anything else is 1.
    const status = (e as { exitCode?: unknown } | null)?.exitCode;
    code = status === 1 || status === 2 ? status : 1;
  }
  for (const finish of finishers.splice(0)) {
    try {
      await finish(code, error);
    } catch (e) {
      if (!failed) [failed, error] = [true, e];
    }
  }
  if (!failed) {
    process.exitCode = code;
    return;
  }
  const { reportError } = await import('./report-error.js');
  process.exitCode = reportError(error, { json: wantsJson(args) });
}

/** --json anywhere in the action's arguments (its flags object comes after any positionals). */
function wantsJson(args: unknown[]): boolean {
  return args.some((a) => typeof a === 'object' && a !== null && (a as { json?: unknown }).json === true);
}
