// Goal: after kill -9 of a node, repair brings every content block back to R = 3 copies on live nodes with nothing
// lost; then again after a second kill. Method: five real node processes, 300 blocks of 1–256 KiB written through
// the client, SIGKILL, poll the copies of every block on every live node until each block sits on exactly its
// placed nodes, read every block back byte for byte. The repair time is logged.
import test from 'ava';
import { TestCluster } from './harness/spawn-cluster.js';
import { freePort } from './harness/free-port.js';
import { countCopies, FAST_REPAIR_ARGS, repairBoundMs, repairStatusOf, unreadable, waitForRepair, writeBlocks } from './harness/repair-workload.js';

const BLOCKS = 300;
const R = 3;

test('five nodes, R = 3: kill -9 one node, then another; repair restores three copies of every block each time', async (t) => {
  const metricsPort = await freePort();
  const cluster = await TestCluster.start(
    ['z1', 'z2', 'z3', 'z4', 'z5'].map((zone, i) => ({ zone, ...(i === 0 ? { args: ['--metrics', `127.0.0.1:${metricsPort}`] } : {}) })),
    { extraArgs: FAST_REPAIR_ARGS },
  );
  t.teardown(() => cluster.stop());
  const client = await cluster.client({ replicas: R, memberRefreshMs: 300 });
  t.teardown(() => client.close());
  const { blocks, bytes } = await writeBlocks(client, 'repair-kill', BLOCKS);
  t.log(`wrote ${BLOCKS} blocks, ${(bytes / 2 ** 20).toFixed(1)} MiB, R = ${R}`);
  await waitForRepair(cluster, client, blocks, R, 10_000);

  for (const victim of [cluster.nodes[1]!, cluster.nodes[3]!]) {
    const killedAt = Date.now();
    await cluster.kill(victim);
    // Before --replace-after has passed, the count must see the loss: the check can fail.
    await cluster.waitUntil(async () => (await client.refreshMembers()).some((m) => m.id === victim.id && m.state === 'dead'), 10_000, 'the victim is seen dead');
    const before = await countCopies(client, blocks, R);
    t.true(before.underReplicated > 0, `blocks of ${victim.id} are under-replicated right after the kill`);
    // The victim held about R/N of the replicas; each must be copied once.
    const bound = repairBoundMs((bytes * R) / cluster.nodes.length);
    await waitForRepair(cluster, client, blocks, R, bound);
    const repairMs = Date.now() - killedAt;
    t.log(`kill -9 of ${victim.id}: every block back on ${R} live placed nodes ${(repairMs / 1000).toFixed(1)} s after the kill (3 s of it the --replace-after delay)`);
    t.deepEqual(await unreadable(client, blocks), [], 'every block reads back with its bytes');
  }

  const live = cluster.nodes.filter((n) => n.process !== undefined);
  const statuses = await Promise.all(live.map((n) => repairStatusOf(cluster, n)));
  t.true(statuses.reduce((sum, s) => sum + s.copiedBytesTotal, 0) > 0, 'the live nodes report the bytes repair copied');
  // /metrics of node 0 agrees with its repair status: nothing pending, the same bytes copied.
  const status = await repairStatusOf(cluster, cluster.nodes[0]!);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  t.is(value('shoal_repair_blocks_pending'), 0);
  t.is(value('shoal_repair_bytes_pending'), 0);
  t.is(value('shoal_repair_bytes_total'), status.copiedBytesTotal);
});
