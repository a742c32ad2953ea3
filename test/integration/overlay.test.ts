// Goal: gossip membership between real processes: joins through any member, agreement, failure detection
// within the configured time, rejoin with a higher incarnation, and no admission without a cluster certificate.
// Method: five `shoal node run` processes with fast overlay timings (FAST_OVERLAY_ARGS), SIGKILL and restart.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initClusterDir } from '../../storage-node/cli/cluster-dir.js';
import { TestCluster } from './harness/spawn-cluster.js';

// From FAST_OVERLAY_ARGS: a crash is noticed within a probe period or two, then the suspicion runs out.
const PROBE_INTERVAL_MS = 200;
const SUSPECT_TIMEOUT_MS = 1500;
const DEAD_WITHIN_MS = SUSPECT_TIMEOUT_MS + 5 * PROBE_INTERVAL_MS + 1000;

test('five nodes join through different seeds, detect a kill -9, and see it rejoin', async (t) => {
  // Each node joins through the one started just before it.
  const cluster = await TestCluster.start([
    { zone: 'a' }, { zone: 'b', joinVia: 0 }, { zone: 'c', joinVia: 1 }, { zone: 'a', rack: 'r2', joinVia: 2 }, { zone: 'b', rack: 'r2', joinVia: 3 },
  ]);
  t.teardown(() => cluster.stop());
  const ids = cluster.nodes.map((n) => n.id).sort();
  for (const node of cluster.nodes) {
    const seen = await cluster.membersSeenBy(node);
    t.deepEqual(seen.map((m) => m.id).sort(), ids, `node ${node.index} lists every member`);
    t.true(seen.every((m) => m.state === 'alive'));
  }

  const victim = cluster.nodes[2]!;
  const before = (await cluster.membersSeenBy(cluster.nodes[0]!)).find((m) => m.id === victim.id)!;
  await cluster.kill(victim);
  const others = cluster.nodes.filter((n) => n !== victim);
  const deadAfterMs = await cluster.waitUntil(async () => {
    const views = await Promise.all(others.map((n) => cluster.membersSeenBy(n)));
    return views.every((members) => members.find((m) => m.id === victim.id)?.state === 'dead');
  }, 30_000, 'every other node marks the killed node dead');
  t.log(`killed node marked dead everywhere after ${deadAfterMs} ms (bound ${DEAD_WITHIN_MS} ms)`);
  t.true(deadAfterMs <= DEAD_WITHIN_MS, `dead after ${deadAfterMs} ms, configured bound ${DEAD_WITHIN_MS} ms`);

  await cluster.restart(victim);
  const aliveAfterMs = await cluster.waitUntil(async () => (await cluster.agreedAlive()) === 5, 20_000, 'the restarted node is alive everywhere');
  const after = (await cluster.membersSeenBy(cluster.nodes[0]!)).find((m) => m.id === victim.id)!;
  t.log(`rejoined and alive everywhere ${aliveAfterMs} ms after restart; incarnation ${before.incarnation} → ${after.incarnation}`);
  t.true(after.incarnation > before.incarnation, 'it comes back with a higher incarnation');
  t.is(after.id, victim.id, 'under the same id');
});

test('a node with a certificate from another cluster is never admitted', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }]);
  t.teardown(() => cluster.stop());
  const otherDir = await mkdtemp(join(tmpdir(), 'shoal-foreign-'));
  t.teardown(() => rm(otherDir, { recursive: true, force: true }));
  await initClusterDir(otherDir, 'foreign');
  const intruder = await cluster.addNode({ zone: 'c', joinVia: 0, clusterDir: otherDir });
  // Give gossip ample time to spread it, were it admitted.
  await new Promise((done) => setTimeout(done, 3000));
  for (const node of cluster.nodes.slice(0, 2)) {
    const seen = await cluster.membersSeenBy(node);
    t.deepEqual(seen.map((m) => m.id).sort(), cluster.nodes.slice(0, 2).map((n) => n.id).sort(), `node ${node.index} never lists the intruder`);
    t.false(seen.some((m) => m.address === intruder.address));
  }
});

test('a graceful leave is recorded as left, not dead', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const leaver = cluster.nodes[1]!;
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  await promisify(execFile)(process.execPath, ['bin/shoal.js', 'node', 'leave', '--node', leaver.address, '--dir', cluster.clusterDir]);
  await cluster.waitUntil(async () => {
    const views = await Promise.all([cluster.nodes[0]!, cluster.nodes[2]!].map((n) => cluster.membersSeenBy(n)));
    return views.every((members) => members.find((m) => m.id === leaver.id)?.state === 'left');
  }, 10_000, 'the others record the leave');
  const exited = await cluster.waitUntil(async () => leaver.process?.exitCode !== null, 10_000, 'the node process exits after leaving');
  t.true(exited >= 0);
  await new Promise((done) => setTimeout(done, SUSPECT_TIMEOUT_MS + 1000));
  const later = (await cluster.membersSeenBy(cluster.nodes[0]!)).find((m) => m.id === leaver.id);
  t.is(later?.state, 'left', 'still left, never dead, after the suspicion timeout has passed');
});
