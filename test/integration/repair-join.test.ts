// Goal: a sixth node joining five takes its share of the blocks (1/6 of the replicas ± 30 %) while reads go on,
// and the nodes that lost their place drop their copies. Method: real processes, 300 blocks at R = 3, a reader
// looping over random blocks during the move, then the copies of every block counted on every node.
import test from 'ava';
import { Random } from '../../storage-node/base/random.js';
import { TestCluster } from './harness/spawn-cluster.js';
import { countCopies, FAST_REPAIR_ARGS, repairBoundMs, unreadable, waitForRepair, writeBlocks } from './harness/repair-workload.js';

const BLOCKS = 300;
const R = 3;

test('a sixth node joins five: it ends with 1/6 ± 30 % of the block replicas, and reads go on during the move', async (t) => {
  const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: FAST_REPAIR_ARGS });
  t.teardown(() => cluster.stop());
  const client = await cluster.client({ replicas: R, memberRefreshMs: 300 });
  t.teardown(() => client.close());
  const { blocks, bytes } = await writeBlocks(client, 'repair-join', BLOCKS);
  await waitForRepair(cluster, client, blocks, R, 10_000);

  // A reader that keeps going through the whole move, from its own client.
  const reader = await cluster.client({ replicas: R, memberRefreshMs: 300 });
  t.teardown(() => reader.close());
  const random = new Random('reader');
  let reads = 0;
  const readFailures: string[] = [];
  let moving = true;
  const reading = (async () => {
    while (moving) {
      const block = blocks[random.int(blocks.length)]!;
      try {
        const got = await reader.getContent(block.address);
        if (!got.data.equals(block.data)) readFailures.push(`${block.address.toString('hex')}: different bytes`);
      } catch (err) {
        readFailures.push(`${block.address.toString('hex')}: ${(err as Error).message}`);
      }
      reads++;
    }
  })();

  const started = Date.now();
  const joiner = await cluster.addNode({ zone: 'z6' });
  await cluster.waitUntil(async () => (await cluster.agreedAlive()) === 6, 20_000, 'six nodes see each other alive');
  const before = await countCopies(client, blocks, R);
  t.true(before.misplaced > 0, 'right after the join, blocks placed on the new node are not there yet');
  const moveMs = await waitForRepair(cluster, client, blocks, R, repairBoundMs((bytes * R) / 6));
  moving = false;
  await reading;
  t.log(`rebalance onto ${joiner.id} done ${((Date.now() - started) / 1000).toFixed(1)} s after it started (${(moveMs / 1000).toFixed(1)} s after all six agreed); ${reads} reads during the move`);

  const after = await countCopies(client, blocks, R);
  const share = (after.perNode.get(joiner.id) ?? 0) / (BLOCKS * R);
  t.log(`the new node holds ${after.perNode.get(joiner.id) ?? 0} of ${BLOCKS * R} replicas (${(share * 100).toFixed(1)} %, ideal ${(100 / 6).toFixed(1)} %)`);
  t.true(share >= (1 / 6) * 0.7 && share <= (1 / 6) * 1.3, `share ${share} within 1/6 ± 30 %`);
  const total = [...after.perNode.values()].reduce((a, b) => a + b, 0);
  t.is(total, BLOCKS * R, 'no surplus copies remain: the nodes that lost their place dropped theirs');
  t.true(reads > 0);
  t.deepEqual(readFailures, [], 'every read during the move succeeded');
  t.deepEqual(await unreadable(client, blocks), []);
});
