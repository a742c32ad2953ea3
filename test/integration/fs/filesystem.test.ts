// Goal: gateway/fs on a real three-node cluster agrees with the in-memory model, and two clients creating entries in
// one directory at once lose none. Method: `shoal node run` ×3; the seeded workload of fs-model.ts with testMin limits
// (64-byte chunks, pages of 8 entries, FAT trees after 4 chunks, tiny write-gathering bounds), with a second
// FileSystem (another gateway's caches) as the observer of each commit; then two ClusterClients (two proposers, as two
// gateways) each create 40 files in one directory concurrently, and the listing must hold all 80.
import test from 'ava';
import { ClusterFsBlocks } from '../../../gateway/fs/fs-blocks.js';
import { FS_LIMITS_TEST_MIN } from '../../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../../gateway/fs/permissions.js';
import { Volumes } from '../../../gateway/fs/volume.js';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { TestCluster } from '../harness/spawn-cluster.js';
import { runWorkload } from './fs-model.js';

const STEPS = Number(process.env['SHOAL_FS_STEPS'] ?? 300);
const PER_CLIENT = 40;

test.serial('a seeded workload on a three-node cluster agrees with the model after every step', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy });
  t.teardown(() => client.close());
  const blocks = new ClusterFsBlocks(client, owner, systemEntropy);
  const volumes = new Volumes({ blocks, clock: new SystemClock(), limits: FS_LIMITS_TEST_MIN, owner: owner.publicKey });
  await volumes.create('model');
  const { fs } = await volumes.open('model');
  const observer = (await volumes.open('model')).fs;
  const seed = process.env['SHOAL_SEED'] ?? String(Date.now() % 100_000);
  t.log(`SHOAL_SEED=${seed}`);
  const started = Date.now();
  const result = await runWorkload(fs, { seed, steps: STEPS, writeBytesMax: 3 * FS_LIMITS_TEST_MIN.chunkBytes, fullCheckEvery: 50, observer });
  t.log(`${result.steps} steps in ${Date.now() - started} ms: ${JSON.stringify(result.counts)}`);
  t.deepEqual((await volumes.list()).map((v) => v.name), ['model']);
  t.true(fs.statfs().totalBytes > 0);
});

test.serial('two clients creating entries in one directory at once lose none', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const clients = await Promise.all([0, 1].map(() => cluster.client({ owner, entropy: systemEntropy })));
  t.teardown(() => clients.forEach((c) => c.close()));
  const [volumes0, volumes1] = clients.map((client) =>
    new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_TEST_MIN, owner: owner.publicKey }));
  await volumes0!.create('shared');
  const fs0 = (await volumes0!.open('shared')).fs;
  const fs1 = (await volumes1!.open('shared')).fs;
  const shared = await fs0.mkdir(ROOT_CALLER, fs0.root, 'shared', 0o755);
  const started = Date.now();
  await Promise.all([fs0, fs1].map(async (fs, c) => {
    for (let i = 0; i < PER_CLIENT; i += 4) {
      await Promise.all([0, 1, 2, 3].map((j) => fs.create(ROOT_CALLER, shared.address, `c${c}-${String(i + j).padStart(3, '0')}`, { mode: 0o644, exclusive: true })));
    }
  }));
  const names: string[] = [];
  let cookie: string | undefined;
  for (;;) {
    const page = await fs1.readdir(ROOT_CALLER, shared.address, { count: 7, ...(cookie === undefined ? {} : { cookie }) });
    names.push(...page.entries.map((e) => e.name));
    cookie = page.cookie;
    if (page.eof) break;
  }
  t.log(`${2 * PER_CLIENT} concurrent creates in ${Date.now() - started} ms`);
  const expected = [0, 1].flatMap((c) => Array.from({ length: PER_CLIENT }, (_, i) => `c${c}-${String(i).padStart(3, '0')}`)).sort();
  t.deepEqual(names, expected, 'every entry listed once, in order');
  t.is((await fs0.getattr(shared.address)).size, 2 * PER_CLIENT);
});
