// Goal: a node that is killed and comes back within --replace-after costs no repair: nothing is copied around it
// while it is away, and afterwards every block is on exactly its placed nodes again. Method: five real processes
// with --replace-after 60s, 150 blocks, kill -9, wait well past failure detection, check every node's copied bytes,
// restart the node on the same data, count every block's copies.
import test from 'ava';
import { FAST_OVERLAY_ARGS, TestCluster } from './harness/spawn-cluster.js';
import { countCopies, repairStatusOf, unreadable, waitForRepair, writeBlocks } from './harness/repair-workload.js';

const R = 3;

test('a node back within --replace-after is not repaired around: no copies, and its blocks count again', async (t) => {
  const args = [...FAST_OVERLAY_ARGS, '--replace-after', '60s', '--repair-interval', '300ms'];
  const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: args });
  t.teardown(() => cluster.stop());
  const client = await cluster.client({ replicas: R, memberRefreshMs: 300 });
  t.teardown(() => client.close());
  const { blocks } = await writeBlocks(client, 'repair-restart', 150);
  await waitForRepair(cluster, client, blocks, R, 10_000);

  const victim = cluster.nodes[4]!;
  const live = cluster.nodes.filter((n) => n !== victim);
  const copiedBy = async (): Promise<number> => (await Promise.all(live.map((n) => repairStatusOf(cluster, n)))).reduce((sum, s) => sum + s.copiedBytesTotal, 0);
  const before = await copiedBy();
  t.log(`bytes repair copied while the client's puts were in flight: ${before}`);
  await cluster.kill(victim);
  await cluster.waitUntil(async () => (await client.refreshMembers()).some((m) => m.id === victim.id && m.state === 'dead'), 15_000, 'the victim is seen dead');
  const away = await countCopies(client, blocks, R);
  t.true(away.underReplicated > 0, 'while it is away its blocks are short of a copy');
  // Several walks (0.3 s apart) while the node is dead but within --replace-after.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  t.is(await copiedBy(), before, 'no block was copied around a node within --replace-after');
  t.true((await repairStatusOf(cluster, live[0]!)).passes >= 3, 'repair did walk meanwhile');

  await cluster.restart(victim);
  await cluster.waitUntil(async () => (await cluster.agreedAlive()) === 5, 20_000, 'the node is back and seen alive');
  await waitForRepair(cluster, client, blocks, R, 20_000);
  t.is(await copiedBy(), before, 'the restarted node still held its blocks: nothing was copied');
  t.deepEqual(await unreadable(client, blocks), []);
});
