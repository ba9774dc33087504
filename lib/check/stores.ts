// `dbtls check` for the Java stores the manifest records: present, opened by the cluster's kept store
// password (integrity hash or MAC checked), and holding exactly the certificates the manifest says
// (a store replaced by hand, or left behind by a re-issue, is "outdated": `dbtls issue` rebuilds it).
// A store whose bytes are the ones dbtls recorded is checked without decrypting its keys; any other
// is read in full (lib/keystore/verify.ts). Their certificates' expiry is the certificates' own check.
import { join } from 'node:path';
import { verifyStore } from '../keystore/verify.js';
import { keptStorepass } from '../keystore/passwords.js';
import { readIfExists } from '../store/safe-fs.js';
import { isDbtlsError } from '../errors.js';
import type { Manifest } from '../store/manifest.js';
import type { Cluster } from '../inventory/model.js';
import type { CheckItem } from './check.js';

export async function checkStores(
  root: string,
  cluster: Cluster,
  manifest: Manifest,
  storepass?: string,
): Promise<CheckItem[]> {
  const owners = new Set([
    ...cluster.nodes.map((n) => `node:${n.name}`),
    ...cluster.clients.map((c) => `client:${c.name}`),
  ]);
  const records = manifest.stores.filter((r) => owners.has(`${r.owner.kind}:${r.owner.name}`));
  if (!records.length) return [];
  const password = storepass ?? (await keptStorepass(root));
  return Promise.all(
    records.map(async (rec): Promise<CheckItem> => {
      const item: CheckItem = { id: rec.path, owner: rec.owner, status: 'ok', problems: [] };
      let bytes: Buffer | undefined;
      try {
        bytes = await readIfExists(join(root, rec.path), { what: 'a Java store' });
      } catch (e) {
        // A symlink, a device or a huge file where a store belongs: reported, never read.
        if (isDbtlsError(e) && e.kind === 'input') return { ...item, status: 'invalid', problems: [e.message] };
        throw e;
      }
      if (!bytes) return { ...item, status: 'missing', problems: [`${rec.path} is missing`] };
      const { verdict: bad } = await verifyStore(bytes, password, rec, rec.path);
      if (bad)
        return {
          ...item,
          status: bad.status,
          problems: bad.problems.map((p) => (bad.status === 'outdated' ? `${p} (run dbtls issue)` : p)),
        };
      return item;
    }),
  );
}
