// What the wizard's questions check about a path on this machine before they take it. Any error
// counts as "no" (a path that cannot be looked at is as good as absent here).
import { access, constants } from 'node:fs/promises';

export const exists = (p: string): Promise<boolean> =>
  access(p, constants.F_OK).then(
    () => true,
    () => false,
  );
export const readable = (p: string): Promise<boolean> =>
  access(p, constants.R_OK).then(
    () => true,
    () => false,
  );
