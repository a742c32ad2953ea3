// Goal: when a member of mutable blocks' quorums dies, repair moves each quorum to live placed nodes through Paxos
// (a version signed by a storage node's CA-vouched key, changing nothing but the quorum), and the blocks keep their
// content and take updates from their owner afterwards. Method: five real processes, 24 owner-keyed blocks at R = 3,
// kill -9 a member of the first block's quorum, poll each block's chosen quorum on every live node.
import test from 'ava';
import { addressHex, type Address } from '../../storage-node/blocks/address.js';
import { readAdminIdentity } from '../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../storage-node/system.js';
import { ConnectionPool } from '../../storage-node/wire/connection-pool.js';
import { OP, parseQuorumOf, type QuorumOf } from '../../storage-node/wire/operations.js';
import { TestCluster } from './harness/spawn-cluster.js';
import { FAST_REPAIR_ARGS } from './harness/repair-workload.js';

const BLOCKS = 24;
const R = 3;

test('a dead quorum member is replaced by a live placed node in every mutable block, content intact and updatable', async (t) => {
  const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: FAST_REPAIR_ARGS });
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy, replicas: R, memberRefreshMs: 300 });
  t.teardown(() => client.close());
  const pool = new ConnectionPool(await cluster.credentials());
  t.teardown(() => pool.close());

  const blocks: { address: Address; content: Buffer; version: number }[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    const content = Buffer.from(`block ${i}`);
    const created = await client.mutable.create(content);
    blocks.push({ address: created.address, content, version: created.version });
  }

  /** The highest chosen version (and its quorum) any live node holds for a block. */
  const quorumOf = async (address: Address): Promise<QuorumOf | null> => {
    const live = cluster.nodes.filter((n) => n.process !== undefined);
    const replies = await Promise.all(live.map(async (n) => parseQuorumOf(await pool.request({ address: n.address }, OP.quorumOf, { block: addressHex(address) }, { timeoutMs: 3000 }))));
    return replies.reduce<QuorumOf | null>((best, r) => (r !== null && (best === null || r.version > best.version) ? r : best), null);
  };

  // A create returns once a majority accepted; the confirm that makes the version chosen on the nodes follows.
  let quorums: (QuorumOf | null)[] = [];
  await cluster.waitUntil(async () => {
    quorums = await Promise.all(blocks.map((b) => quorumOf(b.address)));
    return quorums.every((q) => q !== null);
  }, 10_000, 'every new block is known chosen on some node');
  const first = quorums[0]!;
  const victim = cluster.nodes.find((n) => first.quorum.includes(n.id))!;
  const affected = quorums.filter((q) => q!.quorum.includes(victim.id)).length;
  t.log(`${affected} of ${BLOCKS} blocks have ${victim.id} in their quorum`);

  const killedAt = Date.now();
  await cluster.kill(victim);
  let stale = BLOCKS;
  await cluster.waitUntil(async () => {
    await client.refreshMembers();
    stale = 0;
    for (const block of blocks) {
      const q = await quorumOf(block.address);
      const placed = client.placement(block.address, R).map((m) => m.id).sort();
      if (q === null || q.quorum.includes(victim.id) || [...q.quorum].sort().join() !== placed.join()) stale++;
    }
    return stale === 0;
  }, 60_000, 'every quorum holds only live placed nodes').catch((err: Error) => {
    throw new Error(`${err.message}; ${stale} blocks not moved\n${cluster.nodes.map((n) => n.output.split('\n').filter((l) => l.includes('quorum_move')).slice(-3).join('\n')).join('\n')}`);
  });
  t.log(`${affected} quorums moved off ${victim.id} within ${((Date.now() - killedAt) / 1000).toFixed(1)} s of the kill (3 s of it --replace-after)`);

  for (const block of blocks) {
    const read = await client.mutable.read(block.address);
    t.true('content' in read && read.content.equals(block.content), 'content intact after the move');
    const updated = await client.mutable.update(block.address, (current) => Buffer.concat([current, Buffer.from(' updated')]));
    t.true(updated.version > block.version);
    const again = await client.mutable.read(block.address);
    t.true('content' in again && again.content.toString() === `${block.content.toString()} updated`, 'the owner updates the moved block');
  }
});
