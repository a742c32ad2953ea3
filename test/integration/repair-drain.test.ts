// Goal: `shoal node drain ID` empties a node through repair, `shoal status` shows its progress, and after
// `shoal node leave` nothing is lost. Method: five real processes, 200 blocks at R = 3, the real CLI for drain,
// status and leave; the node is killed and restarted mid-drain; its own repair status is polled until it holds no block.
import test from 'ava';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { TestCluster } from './harness/spawn-cluster.js';
import { FAST_OVERLAY_ARGS } from './harness/spawn-cluster.js';
import { repairStatusOf, unreadable, waitForRepair, writeBlocks } from './harness/repair-workload.js';

const run = promisify(execFile);
const SHOAL = resolve('bin/shoal.js');
const BLOCKS = 200;
const R = 3;
/** Slow enough (1 MB/s per node) that the drain is still under way when `shoal status` looks at it. */
const RATE_BYTES = 1e6;
const SLOW_REPAIR_ARGS = [...FAST_OVERLAY_ARGS, '--replace-after', '3s', '--repair-interval', '500ms', '--repair-rate', String(RATE_BYTES)];

test('drain a node: it ends with zero blocks (even across a kill -9 and restart), shows progress in shoal status, leaves, and nothing is lost', async (t) => {
  const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: SLOW_REPAIR_ARGS });
  t.teardown(() => cluster.stop());
  const client = await cluster.client({ replicas: R, memberRefreshMs: 300 });
  t.teardown(() => client.close());
  const { blocks, bytes } = await writeBlocks(client, 'repair-drain', BLOCKS);
  await waitForRepair(cluster, client, blocks, R, 10_000);

  const target = cluster.nodes[2]!;
  const held = (await repairStatusOf(cluster, target)).heldBlocks;
  t.true(held > 0, 'the node to drain holds blocks');
  const seed = cluster.nodes[0]!.address;
  const drained = await run(process.execPath, [SHOAL, 'node', 'drain', target.id, '--dir', cluster.clusterDir, '--node', seed]);
  t.regex(drained.stdout, /is draining/);
  await t.throwsAsync(run(process.execPath, [SHOAL, 'node', 'drain', 'no-such-node', '--dir', cluster.clusterDir, '--node', seed]), { message: /no member no-such-node/ });
  // Draining one more would leave three nodes for R = 4: refused, saying what to do.
  await t.throwsAsync(run(process.execPath, [SHOAL, 'node', 'drain', cluster.nodes[3]!.id, '--replicas', '4', '--dir', cluster.clusterDir, '--node', seed]), { message: /would leave 3 nodes to hold R = 4 copies/ });

  const status = await run(process.execPath, [SHOAL, 'status', '--dir', cluster.clusterDir, '--node', seed]);
  t.log(status.stdout.slice(status.stdout.indexOf('repair and rebalance')));
  t.regex(status.stdout, /BYTES TO MOVE/);
  t.regex(status.stdout, new RegExp(`${target.id}\\s+draining`), 'the drained node is listed as draining in the repair table');

  // A drain survives a crash: the node comes back draining, not taking blocks again.
  await cluster.kill(target);
  await cluster.restart(target);
  t.true((await repairStatusOf(cluster, target)).draining, 'restarted after kill -9, the node is still draining');

  const started = Date.now();
  await cluster.waitUntil(async () => (await repairStatusOf(cluster, target)).heldBlocks === 0, 30_000 + (4 * 1000 * bytes * R) / 5 / RATE_BYTES, 'the drained node holds no block');
  t.log(`drained ${held} blocks off ${target.id} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const empty = await repairStatusOf(cluster, target);
  t.is(empty.pendingBlocks, 0);

  const left = await run(process.execPath, [SHOAL, 'node', 'leave', '--node', target.address, '--dir', cluster.clusterDir]);
  t.regex(left.stdout, /is leaving/);
  await cluster.waitUntil(async () => target.process?.exitCode !== null, 15_000, 'the drained node exits after leaving');
  await waitForRepair(cluster, client, blocks, R, 20_000);
  t.deepEqual(await unreadable(client, blocks), [], 'every block reads back after the node left');
});
