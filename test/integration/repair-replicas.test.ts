// Goal: repair keeps each content block at the replica count its writer asked for (its volume's R), not one count
// for the whole cluster: blocks of R = 2 get no third copy and blocks of R = 4 are not cut down to three, before and
// after a node is lost. Method: five real node processes with repair at test speed, two clients writing with R = 2
// and R = 4, a few repair walks, kill -9 of a node that holds both kinds, then every block must sit on exactly its
// own placed nodes and read back.
import test from 'ava';
import { TestCluster } from './harness/spawn-cluster.js';
import { countCopies, FAST_REPAIR_ARGS, repairBoundMs, unreadable, waitForRepair, writeBlocks } from './harness/repair-workload.js';

const BLOCKS = 60;

test('repair keeps R = 2 blocks at two copies and R = 4 blocks at four, through a node loss', async (t) => {
  const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: FAST_REPAIR_ARGS });
  t.teardown(() => cluster.stop());
  const groups = await Promise.all([2, 4].map(async (replicas) => {
    const client = await cluster.client({ replicas, memberRefreshMs: 300 });
    t.teardown(() => client.close());
    return { replicas, client, ...(await writeBlocks(client, `repair-replicas-${replicas}`, BLOCKS)) };
  }));
  // Several walks of every node: a repair that used one count for all would have added or dropped copies by now.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  for (const { replicas, client, blocks } of groups) {
    const count = await countCopies(client, blocks, replicas);
    t.is(count.misplaced, 0, `R = ${replicas}: every block on exactly its ${replicas} placed nodes`);
  }

  const victim = cluster.nodes[2]!;
  await cluster.kill(victim);
  for (const { replicas, client, blocks, bytes } of groups) {
    await waitForRepair(cluster, client, blocks, replicas, repairBoundMs(bytes * 2));
    t.deepEqual(await unreadable(client, blocks), [], `R = ${replicas}: every block reads back`);
  }
});
