// Goal: a node cut off by a partition while writes go on loses nothing acknowledged, and after healing every content
// block is back on exactly its placed nodes and every mutable block has one history. Method: five real processes,
// each behind a TCP proxy that every other process goes through, each connecting from its own loopback address; one
// node (a member of the counters' quorums) is cut off both ways for 30 s (its proxy closes every connection to it,
// the other proxies every connection from it) while content puts and counter increments continue; then heal, let
// repair settle, read everything back.
import test from 'ava';
import { isShoalError } from '../../storage-node/base/errors.js';
import { addressHex, type Address } from '../../storage-node/blocks/address.js';
import { readAdminIdentity } from '../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../storage-node/system.js';
import { ConnectionPool } from '../../storage-node/wire/connection-pool.js';
import { OP, parseMembers, parseQuorumOf } from '../../storage-node/wire/operations.js';
import { TestCluster } from './harness/spawn-cluster.js';
import { FAST_REPAIR_ARGS, unreadable, waitForRepair, writeBlocks, type WrittenBlock } from './harness/repair-workload.js';

const R = 3;
const COUNTERS = 4;
const PARTITION_MS = 30_000;

test('a node partitioned away for 30 s while writes go on: nothing acknowledged lost, one history per block after healing', async (t) => {
  const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: FAST_REPAIR_ARGS, proxied: true });
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy, replicas: R, memberRefreshMs: 300, requestTimeoutMs: 2_000 });
  t.teardown(() => client.close());

  const counters: { address: Address; acked: number; unknown: number }[] = [];
  for (let i = 0; i < COUNTERS; i++) counters.push({ address: (await client.mutable.create(Buffer.from('0'))).address, acked: 0, unknown: 0 });
  const { blocks } = await writeBlocks(client, 'partition/before', 100);
  const acknowledged: WrittenBlock[] = [...blocks];

  const pool = new ConnectionPool(await cluster.credentials());
  t.teardown(() => pool.close());
  const quorumReplies = await Promise.all(cluster.nodes.map(async (n) => parseQuorumOf(await pool.request({ address: n.address }, OP.quorumOf, { block: addressHex(counters[0]!.address) }, { timeoutMs: 3000 }))));
  const quorum = quorumReplies.find((reply) => reply !== null);
  const isolated = cluster.nodes.find((n) => quorum?.quorum.includes(n.id))!;
  t.log(`isolating ${isolated.id}, a member of the first counter's quorum`);

  let writing = true;
  let putFailures = 0;
  const writer = (async () => {
    let round = 0;
    while (writing) {
      const batch = await writeBlocks(client, `partition/during/${round++}`, 10).catch(() => undefined);
      if (batch) acknowledged.push(...batch.blocks);
      else putFailures++;
    }
  })();
  const incrementer = Promise.all(counters.map(async (counter) => {
    while (writing) {
      try {
        await client.mutable.update(counter.address, (current) => Buffer.from(String(Number(current.toString()) + 1)), { timeoutMs: 5_000 });
        counter.acked++;
      } catch (err) {
        if (isShoalError(err) && err.detail?.['outcome'] === 'unknown') counter.unknown++;
      }
    }
  }));

  await new Promise((resolve) => setTimeout(resolve, 1_000));
  cluster.isolate(isolated);
  await new Promise((resolve) => setTimeout(resolve, PARTITION_MS / 2));
  // Both sides see the partition: the others have lost the node, and the node (asked past its proxy) has lost them.
  const others = cluster.nodes.filter((n) => n !== isolated);
  const seenByOthers = await cluster.membersSeenBy(others[0]!);
  t.not(seenByOthers.find((m) => m.id === isolated.id)?.state, 'alive', 'the majority side no longer sees the node alive');
  const seenByIsolated = parseMembers(await pool.request({ address: isolated.listenAddress }, OP.members, null, { timeoutMs: 3000 }));
  t.true(others.every((n) => seenByIsolated.find((m) => m.id === n.id)?.state !== 'alive'), 'the isolated node sees none of the others alive');
  await new Promise((resolve) => setTimeout(resolve, PARTITION_MS / 2));
  cluster.healAll();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  writing = false;
  await Promise.all([writer, incrementer]);
  t.log(`acknowledged ${acknowledged.length} content blocks (${putFailures} batches failed); counters acked ${counters.map((c) => c.acked).join(', ')}, unknown ${counters.map((c) => c.unknown).join(', ')}`);
  t.true(counters.every((c) => c.acked > 0), 'counter updates went on');

  await cluster.waitUntil(async () => (await cluster.agreedAlive()) === 5, 30_000, 'all five agree again after healing');
  const settledMs = await waitForRepair(cluster, client, acknowledged, R, 60_000);
  t.log(`every content block on exactly its placed nodes ${(settledMs / 1000).toFixed(1)} s after the five agreed`);
  t.deepEqual(await unreadable(client, acknowledged), [], 'every acknowledged content block reads back');

  for (const counter of counters) {
    const read = await client.mutable.read(counter.address);
    const value = 'content' in read ? Number(read.content.toString()) : NaN;
    t.true(value >= counter.acked && value <= counter.acked + counter.unknown, `counter ${value}: acked ${counter.acked}, unknown ${counter.unknown}`);
    // One history: nodes that hold the same version agree on its quorum (a divergent choice would differ somewhere).
    const replies = await Promise.all(cluster.nodes.map(async (n) => parseQuorumOf(await pool.request({ address: n.address }, OP.quorumOf, { block: addressHex(counter.address) }, { timeoutMs: 3000 }))));
    const byVersion = new Map<number, string>();
    for (const reply of replies) {
      if (reply === null) continue;
      const quorumText = [...reply.quorum].sort().join();
      t.is(byVersion.get(reply.version) ?? quorumText, quorumText);
      byVersion.set(reply.version, quorumText);
    }
  }
});
