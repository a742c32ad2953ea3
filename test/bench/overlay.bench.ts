// The overlay benchmark: the scenario simulation at 10,000 nodes (and 1,000 for reference), reporting convergence
// times in simulated seconds, gossip bytes per node per second (msgpack-encoded, as on the wire) and memory per node.
//
// The simulation is deterministic from its seed, so the times and bytes are exact for that seed, not samples;
// only the wall time and the memory figures depend on the machine.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Random } from '../../storage-node/base/random.js';
import type { Member } from '../../storage-node/overlay/membership.js';
import { createOverlayCore } from '../../storage-node/overlay/overlay-core.js';
import { OverlayCluster, memberRecord, type SimNode } from '../sim/harness/overlay-cluster.js';

export interface OverlayBenchFigures {
  readonly nodes: number;
  readonly lossRatio: number;
  /** From a new node's join message to every live node holding it alive. */
  readonly joinSeenByAllS: number | undefined;
  /** From the join to the joiner holding every member. */
  readonly joinerKnowsAllS: number | undefined;
  /** From a crash to every live node holding the crashed node dead. */
  readonly crashDeadEverywhereS: number | undefined;
  /** Bytes sent per node per second with no membership change (probes, acks, anti-entropy digests). */
  readonly steadyBytesPerNodePerS: number;
  readonly steadyMessagesPerNodePerS: number;
  /** The same over the join and the crash, until both had converged. */
  readonly churnBytesPerNodePerS: number;
  /** Heap (and typed-array) growth of the whole simulated cluster after its run, divided by the node count. */
  readonly clusterMemoryPerNodeBytes: number;
  /** What one production node holds: a core with `nodes` members decoded separately (no record shared). */
  readonly singleNodeStateBytes: number;
  readonly simulatedS: number;
  readonly wallS: number;
}

export interface OverlayBenchResult {
  readonly seed: string;
  readonly sizes: readonly OverlayBenchFigures[];
  readonly notes: readonly string[];
}

const SEED = 'bench/overlay';
const LOSS_RATIO = 0.05;

/**
 * Runs the overlay simulation at 1,000 and 10,000 nodes (quick: shorter warm-up and steady windows, same
 * events) and returns its figures. Synchronous inside: the simulation never yields.
 */
export async function runOverlayBench(options: { quick: boolean; log?: (message: string) => void }): Promise<OverlayBenchResult> {
  const log = options.log ?? (() => {});
  const sizes: OverlayBenchFigures[] = [];
  for (const nodes of [1_000, 10_000]) {
    log(`overlay: ${nodes} nodes…`);
    const figures = measureSize(nodes, options.quick);
    log(`overlay: ${nodes} nodes: ${describe(figures)}`);
    sizes.push(figures);
  }
  return {
    seed: SEED,
    sizes,
    notes: [
      `one simulated process, ${LOSS_RATIO * 100} % message loss, delays 1–200 ms (mean 10 ms), seed ${SEED}`,
      'times are simulated seconds; bytes are msgpack-encoded overlay messages as the wire would carry them',
      'cluster memory per node is lower than a real node needs: bootstrap records are shared between simulated nodes',
    ],
  };
}

function measureSize(nodes: number, quick: boolean): OverlayBenchFigures {
  const gc = exposeGc();
  const started = performance.now();
  gc();
  const memoryBefore = memoryUsed();
  const cluster = new OverlayCluster({ seed: `${SEED}/${nodes}`, size: nodes, faults: { lossRatio: LOSS_RATIO, delayMsMean: 10 }, logCapacity: 1000 });
  const random = cluster.random.fork('bench');
  cluster.runFor(quick ? 5_000 : 10_000);

  const steady = traffic(cluster);
  cluster.runFor(quick ? 10_000 : 30_000);
  const steadyFigures = steady.since();

  const churn = traffic(cluster);
  const joiner = cluster.addNode(cluster.pickUp(random));
  const joinAt = cluster.nowMs;
  const joinSeen = cluster.runUntil(() => cluster.allSee(joiner.id, ['alive']), { timeoutMs: 60_000, pollMs: 100 });
  const joinerKnows = cluster.runUntil(() => joiner.core.memberCount === nodes + 1, { timeoutMs: 60_000, pollMs: 100 });
  const victim: SimNode = cluster.pickUp(random, [joiner]);
  cluster.crash(victim);
  const crashAt = cluster.nowMs;
  const dead = cluster.runUntil(() => cluster.allSee(victim.id, ['dead']), { timeoutMs: 90_000, pollMs: 100 });
  const churnFigures = churn.since();

  gc();
  const clusterMemoryPerNodeBytes = (memoryUsed() - memoryBefore) / nodes;
  const simulatedS = cluster.nowMs / 1000;
  const wallS = (performance.now() - started) / 1000;
  const elapsed = (from: number, to: number | undefined): number | undefined => (to === undefined ? undefined : (to - from) / 1000);
  return {
    nodes, lossRatio: LOSS_RATIO,
    joinSeenByAllS: elapsed(joinAt, joinSeen),
    joinerKnowsAllS: elapsed(joinAt, joinerKnows),
    crashDeadEverywhereS: elapsed(crashAt, dead),
    steadyBytesPerNodePerS: steadyFigures.bytesPerNodePerS,
    steadyMessagesPerNodePerS: steadyFigures.messagesPerNodePerS,
    churnBytesPerNodePerS: churnFigures.bytesPerNodePerS,
    clusterMemoryPerNodeBytes,
    singleNodeStateBytes: singleNodeState(nodes, gc),
    simulatedS, wallS,
  };
}

/** Bytes and messages sent by the whole cluster from now until since() is called, per node per second. */
function traffic(cluster: OverlayCluster): { since(): { bytesPerNodePerS: number; messagesPerNodePerS: number } } {
  const bytes = cluster.network.stats.bytes;
  const messages = cluster.network.stats.sent;
  const fromMs = cluster.nowMs;
  return {
    since() {
      const nodeSeconds = cluster.upNodes().length * Math.max(1e-9, (cluster.nowMs - fromMs) / 1000);
      return { bytesPerNodePerS: (cluster.network.stats.bytes - bytes) / nodeSeconds, messagesPerNodePerS: (cluster.network.stats.sent - messages) / nodeSeconds };
    },
  };
}

/** Heap growth of one core holding `nodes` members, each record built separately as if decoded from the wire. */
function singleNodeState(nodes: number, gc: () => void): number {
  gc();
  const before = memoryUsed();
  // Fresh strings for every field: a real node decodes each record from a message, nothing is shared.
  const fresh = (m: Member): Member => JSON.parse(JSON.stringify(m)) as Member;
  const members = Array.from({ length: nodes }, (_, i) => fresh(memberRecord(i)));
  const core = createOverlayCore({ self: members[0] as Member, random: new Random(`${SEED}/single`), initialMembers: members });
  members.length = 0;
  core.step({ type: 'tick' }, 0);
  gc();
  const bytes = memoryUsed() - before;
  if (core.memberCount !== nodes) throw new Error('the core lost members');
  return bytes;
}

function memoryUsed(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** A full garbage collection, so that heap figures count live data only (V8's flag, set at run time). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  return typeof gc === 'function' ? () => void (gc as () => void)() : () => {};
}

function describe(f: OverlayBenchFigures): string {
  const s = (v: number | undefined): string => (v === undefined ? 'never' : `${v.toFixed(1)} s`);
  return [
    `join seen by all ${s(f.joinSeenByAllS)}`, `joiner knows all ${s(f.joinerKnowsAllS)}`, `crash dead everywhere ${s(f.crashDeadEverywhereS)}`,
    `steady ${f.steadyBytesPerNodePerS.toFixed(0)} B/node/s (${f.steadyMessagesPerNodePerS.toFixed(1)} msg/node/s)`,
    `churn ${f.churnBytesPerNodePerS.toFixed(0)} B/node/s`,
    `memory ${(f.clusterMemoryPerNodeBytes / 1024).toFixed(0)} KiB/node simulated, ${(f.singleNodeStateBytes / 1024).toFixed(0)} KiB for one real node`,
    `${f.simulatedS.toFixed(0)} s simulated in ${f.wallS.toFixed(1)} s`,
  ].join(', ');
}
