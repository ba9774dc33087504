// `dbtls check` for the Java stores the manifest records: present, opened by the cluster's kept store
// password (integrity hash or MAC checked), and holding exactly the certificates the manifest says
// (a store replaced by hand, or left behind by a re-issue, is "outdated": `dbtls issue` rebuilds it). Their certificates'
// expiry is the certificates' own check.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { storeProblems } from '../keystore/verify.js';
import { keptStorepass } from '../keystore/passwords.js';
import type { Manifest } from '../store/manifest.js';
import type { Cluster } from '../inventory/model.js';
import type { CheckItem } from './check.js';

export async function checkStores(root: string, cluster: Cluster, manifest: Manifest, storepass?: string): Promise<CheckItem[]> {
  const owners = new Set([...cluster.nodes.map((n) => `node:${n.name}`), ...cluster.clients.map((c) => `client:${c.name}`)]);
  const records = manifest.stores.filter((r) => owners.has(`${r.owner.kind}:${r.owner.name}`));
  if (!records.length) return [];
  const password = storepass ?? (await keptStorepass(root));
  return Promise.all(
    records.map(async (rec): Promise<CheckItem> => {
      const item: CheckItem = { id: rec.path, owner: rec.owner, status: 'ok', problems: [] };
      const bytes = await readFile(join(root, rec.path)).catch(() => undefined);
      if (!bytes) return { ...item, status: 'missing', problems: [`${rec.path} is missing`] };
      const bad = await storeProblems(bytes, password, rec.entries, rec.path);
      if (bad) return { ...item, ...bad, problems: bad.problems.map((p) => (bad.status === 'outdated' ? `${p} (run dbtls issue)` : p)) };
      return item;
    }),
  );
}
