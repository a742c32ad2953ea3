// Goal: content blocks on three real node processes land on exactly their placed nodes and survive a
// SIGKILL. Method: store 1,000 blocks of 1 KiB to 4 MiB, compare holders with placement, kill one node,
// read every block back (the client checks each against its address), restart the node and read from it.
import test from 'ava';
import { Random, SeededEntropy } from '../../storage-node/base/random.js';
import { addressHex, type Address } from '../../storage-node/blocks/address.js';
import { newContentBlock } from '../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../storage-node/blocks/sign.js';
import { OP } from '../../storage-node/wire/operations.js';
import { ConnectionPool } from '../../storage-node/wire/connection-pool.js';
import { TestCluster } from './harness/spawn-cluster.js';

const BLOCKS = 1000;
const KiB = 1024;

/** Log-uniform sizes from 1 KiB to 4 MiB, with both ends included: most blocks small, some at the limit. */
function blockSize(random: Random, index: number): number {
  if (index === 0) return KiB;
  if (index === 1) return 4 * 1024 * KiB;
  return Math.round(KiB * Math.pow(4096, random.float()));
}

test('1,000 blocks on three nodes: placed exactly, readable after kill -9, served again after restart', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'z1' }, { zone: 'z2' }, { zone: 'z3' }]);
  t.teardown(() => cluster.stop());
  const random = new Random('content-blocks');
  const entropy = new SeededEntropy(random.fork('entropy'));
  const owner = newIdentity(entropy).identity;
  const client = await cluster.client();
  t.teardown(() => client.close());
  t.is(client.members.length, 3, 'the client learns all three members from the nodes');

  const addresses: Address[] = [];
  let bytes = 0;
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < BLOCKS; i++) {
    const data = entropy.bytes(blockSize(random, i));
    bytes += data.length;
    const { address, block } = newContentBlock(owner.publicKey, data, entropy);
    addresses.push(address);
    const put = client.putContent(address, block).finally(() => inFlight.delete(put));
    inFlight.add(put);
    if (inFlight.size >= 32) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await client.settled();
  t.log(`stored ${BLOCKS} blocks, ${(bytes / 2 ** 20).toFixed(0)} MiB of data, R = 3`);

  let misplaced = 0;
  for (const address of addresses) {
    const stat = await client.statContent(address);
    const placed = stat.placed.map((m) => m.id).sort();
    const holders = stat.holders.map((m) => m.id).sort();
    if (placed.join() !== holders.join()) misplaced++;
    if (placed.length !== 3) misplaced++;
  }
  t.is(misplaced, 0, 'every block is on exactly the nodes placement names');

  const victim = cluster.nodes[1]!;
  await cluster.kill(victim);
  let unreadable = 0;
  for (const address of addresses) {
    try {
      await client.getContent(address); // verifies the content against its address
    } catch (err) {
      unreadable++;
      t.log(`${addressHex(address)}: ${(err as Error).message}`);
    }
  }
  t.is(unreadable, 0, 'every block reads back with the right hash while a node is down');

  await cluster.restart(victim);
  // Ask the restarted node itself, so the read cannot be served by another replica.
  const pool = new ConnectionPool(await cluster.credentials());
  t.teardown(() => pool.close());
  const sample = addresses.filter((_, i) => i % 20 === 0);
  let served = 0;
  for (const address of sample) {
    const reply = await pool.request({ address: victim.address, id: victim.id }, OP.getContent, { addresses: [address] });
    const block = Array.isArray(reply) ? (reply[0] as { data?: unknown } | null) : null;
    if (block !== null && typeof block === 'object' && Buffer.isBuffer(block.data)) served++;
  }
  t.is(served, sample.length, 'the restarted node serves the blocks it held (with R = 3 on 3 nodes it holds every block)');
});
