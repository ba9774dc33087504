// Safety nets for a test process that exits without running its after-hooks (e.g. a test timeout).
// One 'exit' listener runs them in a fixed order, whatever order the helpers were imported in: the
// processes first (sshd listeners and their sessions), then what they ran in (network namespaces).
const stages = { processes: [] as (() => void)[], namespaces: [] as (() => void)[] };

process.on('exit', () => {
  for (const fn of stages.processes) fn();
  for (const fn of stages.namespaces) fn();
});

/** Runs FN (synchronous: the process is exiting) in STAGE of the exit cleanup. */
export function atExit(stage: keyof typeof stages, fn: () => void): void {
  stages[stage].push(fn);
}
