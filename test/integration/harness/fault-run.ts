// One seeded fault run: five real node processes behind TCP proxies, a workload of content puts and counter
// increments that records every acknowledged operation, and a schedule drawn from the seed of kill -9, restart,
// partition (cut), black hole (drop), delay and heal — at most one node faulty at a time, the fault model R = 3
// tolerates. At the end: heal, restart, let repair settle, and check that nothing acknowledged is lost.
import { isShoalError } from '../../../storage-node/base/errors.js';
import { Random } from '../../../storage-node/base/random.js';
import type { Address } from '../../../storage-node/blocks/address.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { TestCluster, type RunningNode } from './spawn-cluster.js';
import { FAST_REPAIR_ARGS, unreadable, waitForRepair, writeBlocks, type WrittenBlock } from './repair-workload.js';
import { S3Workload } from './s3-workload.js';

const R = 3;
const COUNTERS = 3;

export interface FaultRunResult {
  readonly seed: string;
  readonly schedule: readonly string[];
  readonly acknowledgedBlocks: number;
  readonly counters: readonly { acked: number; unknown: number; value: number }[];
  /** With the S3 workload: acknowledged PUTs and DELETEs through a gateway, and requests that failed. */
  readonly s3?: { readonly puts: number; readonly deletes: number; readonly failures: number };
  /** With it, NFS files written with FILE_SYNC through the same gateway, and calls that failed. */
  readonly nfs?: { readonly files: number; readonly failures: number };
  /** Acknowledged operations not found at the end: must be empty. */
  readonly lost: readonly string[];
  readonly settleMs: number;
}

type Fault = 'kill' | 'cut' | 'drop' | 'delay';
const FAULTS: readonly Fault[] = ['kill', 'cut', 'drop', 'delay'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runFaults(seed: string, options: { steps: number; stepMs: number; s3?: boolean; log?: (line: string) => void }): Promise<FaultRunResult> {
  const random = new Random(`faults/${seed}`);
  const log = options.log ?? (() => {});
  const cluster = await TestCluster.start(['z1', 'z2', 'z3', 'z4', 'z5'].map((zone) => ({ zone })), { extraArgs: FAST_REPAIR_ARGS, proxied: true });
  try {
    const owner = await readAdminIdentity(cluster.clusterDir);
    const client = await cluster.client({ owner, entropy: systemEntropy, replicas: R, memberRefreshMs: 300, requestTimeoutMs: 2_000 });
    const s3 = options.s3 === true ? await S3Workload.start(cluster, seed) : undefined;
    try {
      s3?.run();
      // `failed`: the definite failures (each promises its increment did not happen), by message, for the report.
      const counters: { address: Address; acked: number; unknown: number; failed: Map<string, number> }[] = [];
      for (let i = 0; i < COUNTERS; i++) counters.push({ address: (await client.mutable.create(Buffer.from('0'))).address, acked: 0, unknown: 0, failed: new Map() });
      const acknowledged: WrittenBlock[] = [];
      let running = true;
      const writer = (async () => {
        for (let round = 0; running; round++) {
          const batch = await writeBlocks(client, `${seed}/${round}`, 8).catch(() => undefined);
          if (batch) acknowledged.push(...batch.blocks);
          else await sleep(100);
        }
      })();
      const incrementers = Promise.all(counters.map(async (counter) => {
        while (running) {
          try {
            await client.mutable.update(counter.address, (current) => Buffer.from(String(Number(current.toString()) + 1)), { timeoutMs: 4_000 });
            counter.acked++;
          } catch (err) {
            if (isShoalError(err) && err.detail?.['outcome'] === 'unknown') counter.unknown++;
            else {
              const message = `${isShoalError(err) ? err.kind : 'Error'}: ${(err as Error).message.replace(/[0-9a-f]{16,}/g, '…')}`;
              counter.failed.set(message, (counter.failed.get(message) ?? 0) + 1);
              await sleep(100);
            }
          }
        }
      }));

      const schedule: string[] = [];
      // A fault lasts one to three steps: long enough, at times, for --replace-after to pass and repair to copy around it.
      let faulty: { node: RunningNode; fault: Fault; untilStep: number } | undefined;
      const heal = async (): Promise<void> => {
        if (!faulty) return;
        if (faulty.fault === 'kill') await cluster.restart(faulty.node);
        else cluster.healAll();
        schedule.push(`heal ${faulty.fault} of node ${faulty.node.index}`);
        faulty = undefined;
      };
      for (let step = 0; step < options.steps; step++) {
        await sleep(options.stepMs);
        if (faulty) {
          if (step >= faulty.untilStep) await heal();
          else continue;
        } else {
          const node = cluster.nodes[random.int(cluster.nodes.length)]!;
          // Every run starts with a kill long enough for repair to copy around it; the rest is drawn.
          const fault = step === 0 ? 'kill' : FAULTS[random.int(FAULTS.length)]!;
          if (fault === 'kill') await cluster.kill(node);
          else if (fault === 'cut') cluster.isolate(node); // both ways: a partition of one node from the rest
          else if (fault === 'drop') node.proxy?.drop();
          else node.proxy?.delay(20 + random.int(200));
          faulty = { node, fault, untilStep: step + (step === 0 ? 3 : 1 + random.int(3)) };
          schedule.push(`${fault} node ${node.index}`);
        }
        log(`step ${step}: ${schedule[schedule.length - 1]}`);
      }
      await heal();
      running = false;
      await Promise.all([writer, incrementers, s3?.stop()]);

      await cluster.waitUntil(async () => (await cluster.agreedAlive()) === 5, 60_000, 'all five agree after the faults');
      const settleMs = await waitForRepair(cluster, client, acknowledged, R, 120_000);
      const lost = await unreadable(client, acknowledged);
      const finals = [];
      for (const counter of counters) {
        const read = await client.mutable.read(counter.address);
        const value = 'content' in read ? Number(read.content.toString()) : NaN;
        if (!(value >= counter.acked && value <= counter.acked + counter.unknown)) {
          const failures = [...counter.failed].map(([message, n]) => `${n}× ${message}`).join('; ');
          lost.push(`counter ${counter.address.toString('hex')}: ${value}, acked ${counter.acked}, unknown ${counter.unknown}; failed: ${failures || 'none'}`);
        }
        finals.push({ acked: counter.acked, unknown: counter.unknown, value });
      }
      if (s3) lost.push(...await s3.check());
      return {
        seed, schedule, acknowledgedBlocks: acknowledged.length, counters: finals, lost, settleMs,
        ...(s3 ? { s3: { puts: s3.puts, deletes: s3.deletes, failures: s3.failures }, nfs: s3.nfs } : {}),
      };
    } finally {
      client.close();
      await s3?.close();
    }
  } finally {
    await cluster.stop();
  }
}
