// Goal: a directory of 100,000 entries is created, listed in full (sorted, no duplicates, no gaps) while 1,000 other
// entries are added and removed during the listing, and looked up (issue 5). Method: three real nodes, production
// limits (pages of 2,048 entries); creates run 128 at a time; the listing pages through cookies of 100 entries, and
// between every two pages a second client (another gateway) takes its next steps of creating and removing 1,000 names
// that sort among the stable ones, so the churn is spread over the whole listing. SHOAL_DIR_ENTRIES sets another size
// (e.g. 5000 for a quick check).
import test from 'ava';
import { ClusterFsBlocks } from '../../../gateway/fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../../gateway/fs/permissions.js';
import { Volumes } from '../../../gateway/fs/volume.js';
import type { FileSystem } from '../../../gateway/fs/filesystem.js';
import type { Address } from '../../../storage-node/blocks/address.js';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { TestCluster } from '../harness/spawn-cluster.js';

const ENTRIES = Number(process.env['SHOAL_DIR_ENTRIES'] ?? 100_000);
const CHURN = 1000;
const PARALLEL = 128;
const PAGE = 100;

const stable = (i: number): string => `e-${String(i).padStart(6, '0')}`;
// Sorts between stable names: "e-000123" < "e-000123~churn" < "e-000124".
const churned = (i: number): string => `${stable(Math.floor((i * ENTRIES) / CHURN))}~churn`;

async function inParallel(count: number, run: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < count) await run(next++);
  }));
}

async function listAll(fs: FileSystem, dir: Address, between: () => Promise<void> = async () => {}): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let cookie: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await fs.readdir(ROOT_CALLER, dir, { count: PAGE, ...(cookie === undefined ? {} : { cookie }) });
    names.push(...page.entries.map((e) => e.name));
    cookie = page.cookie;
    if (page.eof) return { names, pages };
    await between();
  }
}

test.serial(`a directory of ${ENTRIES} entries is created, listed in full while ${CHURN} others come and go, and looked up`, async (t) => {
  t.timeout(60 * 60_000);
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const clients = await Promise.all([0, 1].map(() => cluster.client({ owner, entropy: systemEntropy })));
  t.teardown(() => clients.forEach((c) => c.close()));
  const [fs, churner] = await Promise.all(clients.map(async (client, i) => {
    const volumes = new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
    if (i === 0) await volumes.create('big');
    return volumes;
  })).then(async ([v0, v1]) => [(await v0!.open('big')).fs, (await v1!.open('big')).fs] as const);
  const dir = (await fs.mkdir(ROOT_CALLER, fs.root, 'big', 0o755)).address;

  let started = Date.now();
  await inParallel(ENTRIES, (i) => fs.create(ROOT_CALLER, dir, stable(i), { mode: 0o644, exclusive: true }));
  const createMs = Date.now() - started;
  t.log(`${ENTRIES} creates in ${createMs} ms (${Math.round((ENTRIES * 1000) / createMs)}/s)`);

  // The churn as a list of steps: create two, remove the first; at the end the rest go.
  const steps: Array<() => Promise<unknown>> = [];
  for (let i = 0; i < CHURN; i++) {
    steps.push(() => churner.create(ROOT_CALLER, dir, churned(i), { mode: 0o644, exclusive: true }));
    if (i % 2 === 1) steps.push(() => churner.remove(ROOT_CALLER, dir, churned(i - 1)));
  }
  for (let i = 1; i < CHURN; i += 2) steps.push(() => churner.remove(ROOT_CALLER, dir, churned(i)));
  const perPage = Math.ceil(steps.length / Math.max(1, Math.floor(ENTRIES / PAGE) - 1));
  let taken = 0;
  started = Date.now();
  const listed = await listAll(fs, dir, async () => {
    for (const step of steps.slice(taken, taken + perPage)) await step();
    taken = Math.min(steps.length, taken + perPage);
  });
  const listMs = Date.now() - started;
  t.log(`listed ${listed.names.length} names in ${listed.pages} pages in ${listMs} ms, with ${taken} of ${steps.length} churn steps between the pages`);
  t.true(taken >= steps.length - perPage, 'the churn ran during the listing');
  for (const step of steps.slice(taken)) await step();

  const seen = listed.names.filter((name) => !name.endsWith('~churn'));
  for (let i = 1; i < listed.names.length; i++) {
    if (!(listed.names[i - 1]! < listed.names[i]!)) t.fail(`not strictly sorted at ${i}: ${listed.names[i - 1]} then ${listed.names[i]}`);
  }
  t.is(seen.length, ENTRIES, 'every stable entry once');
  t.true(seen.every((name, i) => name === stable(i)), 'no gaps');

  started = Date.now();
  const probes = Array.from({ length: 1000 }, (_, i) => stable((i * 7919) % ENTRIES));
  await inParallel(probes.length, async (i) => t.is((await fs.lookup(ROOT_CALLER, dir, probes[i]!)).type, 'file'));
  t.log(`1000 lookups in ${Date.now() - started} ms`);
  await t.throwsAsync(fs.lookup(ROOT_CALLER, dir, churned(0)), { message: /no entry named/ });
  t.is((await fs.getattr(dir)).size, ENTRIES, 'the churn left nothing behind');
  t.is((await listAll(fs, dir)).names.length, ENTRIES);
});
