// Suite repair: re-replication throughput after a node loss (MB/s copied by repair until every block is back to
// R = 3), beside content-block put throughput on the same five node processes in the same run, as a ratio.
import { Random, SeededEntropy } from '../../storage-node/base/random.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { newContentBlock, type ContentBlock } from '../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../storage-node/blocks/sign.js';
import { FAST_OVERLAY_ARGS, TestCluster } from '../integration/harness/spawn-cluster.js';
import { countCopies, repairStatusOf } from '../integration/harness/repair-workload.js';
import { KiB, measureLoad, stopwatch, summarize, type Measurement } from './measure.js';
import { compare, type Suite, type SuiteContext, type SuiteOutput } from './report.js';

const BLOCK_BYTES = 256 * KiB;
const R = 3;
/** High enough not to be the bottleneck: the figure is what repair achieves, not the configured cap. */
const REPAIR_RATE = '1GB';
const REPAIR_ARGS = [...FAST_OVERLAY_ARGS, '--replace-after', '1s', '--repair-interval', '200ms', '--repair-rate', REPAIR_RATE];

export const repairSuite: Suite = {
  name: 'repair',
  description: 're-replication after kill -9 of one of five nodes (R = 3) vs content-block put on the same cluster',
  async run(context: SuiteContext): Promise<SuiteOutput> {
    const count = context.quick ? 240 : 800;
    const random = new Random('bench/repair');
    const entropy = new SeededEntropy(random.fork('entropy'));
    const owner = newIdentity(entropy).identity;
    const payloads = Array.from({ length: 16 }, () => entropy.bytes(BLOCK_BYTES));
    const made = Array.from({ length: count }, (_, i) => newContentBlock(owner.publicKey, payloads[i % payloads.length]!, entropy));

    const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: REPAIR_ARGS });
    try {
      const client = await cluster.client({ replicas: R, memberRefreshMs: 300 });
      try {
        context.log(`cluster put ${count} blocks of 256 KiB`);
        const put = await measureLoad('cluster put 256 KiB (R = 3, ack at 2, settled on 3)', BLOCK_BYTES, async (index) => {
          const { address, block } = made[index] as { address: Address; block: ContentBlock };
          await client.putContent(address, block);
        }, { concurrency: 8, minMs: 0, minOps: count, maxOps: count, drain: () => client.settled() });
        const rereplication = await measureRepair(context, cluster, client, made);
        return {
          measurements: [rereplication, put],
          comparisons: [compare(rereplication, put, 'mbPerSec')],
          notes: [
            `five node processes on this machine; repair flags: ${REPAIR_ARGS.slice(FAST_OVERLAY_ARGS.length).join(' ')}.`,
            're-replication: bytes copied by repair (the replicas the killed node held, one copy each), timed from the first copy any node reports to the moment the copies sum to those bytes; failure detection, --replace-after and the one walk a block must stay missing before it is copied come before and are not counted.',
            'put: logical bytes (each written to 3 nodes) over the time until all 3 replicas are flushed; repair writes each byte once, so ratio > 1/3 means repair moves bytes faster per copy than the put path.',
            'after the copies, every block is counted on every live node: the run fails unless each is on exactly its 3 placed nodes.',
          ],
        };
      } finally {
        client.close();
      }
    } finally {
      await cluster.stop();
    }
  },
};

async function measureRepair(
  context: SuiteContext, cluster: TestCluster, client: Awaited<ReturnType<TestCluster['client']>>, made: readonly { address: Address; block: ContentBlock }[],
): Promise<Measurement> {
  const victim = cluster.nodes[2]!;
  const held = (await repairStatusOf(cluster, victim)).heldBytes;
  const heldBlocks = (await repairStatusOf(cluster, victim)).heldBlocks;
  const live = cluster.nodes.filter((n) => n !== victim);
  const copiedSoFar = async (): Promise<number> => (await Promise.all(live.map((n) => repairStatusOf(cluster, n)))).reduce((sum, s) => sum + s.copiedBytesTotal, 0);
  const before = await copiedSoFar();
  context.log(`kill -9 of a node holding ${heldBlocks} blocks (${(held / 1e6).toFixed(1)} MB)`);
  await cluster.kill(victim);
  await cluster.waitUntil(async () => (await copiedSoFar()) > before, 60_000, 'repair starts copying');
  const elapsed = stopwatch();
  await cluster.waitUntil(async () => (await copiedSoFar()) - before >= held, 300_000, 'repair has copied what the killed node held');
  const ms = elapsed();
  const copied = (await copiedSoFar()) - before;
  const check = await countCopies(client, made.map((m) => ({ address: m.address, data: m.block.data })), R);
  if (check.misplaced > 0 || check.underReplicated > 0) throw new Error(`after repair: ${check.misplaced} misplaced, ${check.underReplicated} under-replicated blocks`);
  context.log(`repair copied ${(copied / 1e6).toFixed(1)} MB in ${(ms / 1000).toFixed(2)} s`);
  return summarize(`re-replication after kill -9 (${heldBlocks} blocks of 256 KiB)`, { ops: heldBlocks, bytes: copied, elapsedMs: ms, concurrency: live.length });
}
