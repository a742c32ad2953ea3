// Shared by the repair integration tests: a cluster whose nodes repair fast, a set of written blocks, and the
// checks (copies per block counted on every live node, every block read back and compared byte for byte).
import { Random, SeededEntropy } from '../../../storage-node/base/random.js';
import type { Address } from '../../../storage-node/blocks/address.js';
import { newContentBlock } from '../../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../../storage-node/blocks/sign.js';
import type { ClusterClient } from '../../../storage-node/client/cluster-client.js';
import { OP, parseRepairStatus, type RepairStatus } from '../../../storage-node/wire/operations.js';
import { ConnectionPool } from '../../../storage-node/wire/connection-pool.js';
import { FAST_OVERLAY_ARGS, type RunningNode, type TestCluster } from './spawn-cluster.js';

/** Repair in seconds, not minutes: a dead node is replaced after 3 s and each node walks its store twice a second. */
export const REPAIR_RATE_BYTES = 20e6;
export const FAST_REPAIR_ARGS: readonly string[] = [
  ...FAST_OVERLAY_ARGS, '--replace-after', '3s', '--repair-interval', '500ms', '--repair-rate', String(REPAIR_RATE_BYTES),
];

export interface WrittenBlock {
  readonly address: Address;
  readonly data: Buffer;
}

/** Log-uniform sizes from 1 KiB to 256 KiB: mostly small blocks, some large. */
export async function writeBlocks(client: ClusterClient, seed: string, count: number): Promise<{ blocks: WrittenBlock[]; bytes: number }> {
  const random = new Random(seed);
  const entropy = new SeededEntropy(random.fork('entropy'));
  const owner = newIdentity(entropy).identity;
  const blocks: WrittenBlock[] = [];
  let bytes = 0;
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const data = entropy.bytes(Math.round(1024 * Math.pow(256, random.float())));
    bytes += data.length;
    const { address, block } = newContentBlock(owner.publicKey, data, entropy);
    blocks.push({ address, data });
    const put = client.putContent(address, block).finally(() => inFlight.delete(put));
    inFlight.add(put);
    if (inFlight.size >= 16) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await client.settled();
  return { blocks, bytes };
}

export interface CopyCount {
  /** Blocks whose live holders are not exactly their placed nodes (fewer, more, or elsewhere). */
  readonly misplaced: number;
  /** Blocks with fewer than `replicas` live holders. */
  readonly underReplicated: number;
  /** Copies held per node id. */
  readonly perNode: Map<string, number>;
}

/** Asks every serving node about every block (one has-many batch per node and round). */
export async function countCopies(client: ClusterClient, blocks: readonly WrittenBlock[], replicas: number): Promise<CopyCount> {
  await client.refreshMembers();
  let misplaced = 0;
  let underReplicated = 0;
  const perNode = new Map<string, number>();
  const stats = await Promise.all(blocks.map((b) => client.statContent(b.address)));
  for (const stat of stats) {
    const holders = stat.holders.map((m) => m.id).sort();
    if (stat.placed.map((m) => m.id).sort().join() !== holders.join() || stat.unreachable.length > 0) misplaced++;
    if (holders.length < replicas) underReplicated++;
    for (const id of holders) perNode.set(id, (perNode.get(id) ?? 0) + 1);
  }
  return { misplaced, underReplicated, perNode };
}

/** Reads every block and compares it with what was written; returns the addresses that failed. */
export async function unreadable(client: ClusterClient, blocks: readonly WrittenBlock[]): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(blocks.map(async (b) => {
    try {
      const block = await client.getContent(b.address);
      if (!block.data.equals(b.data)) failed.push(`${b.address.toString('hex')}: different bytes`);
    } catch (err) {
      failed.push(`${b.address.toString('hex')}: ${(err as Error).message}`);
    }
  }));
  return failed;
}

/** Polls until every block sits on exactly its placed nodes; returns how long that took (ms). */
export async function waitForRepair(cluster: TestCluster, client: ClusterClient, blocks: readonly WrittenBlock[], replicas: number, timeoutMs: number): Promise<number> {
  let last: CopyCount | undefined;
  try {
    return await cluster.waitUntil(async () => {
      last = await countCopies(client, blocks, replicas);
      return last.misplaced === 0 && last.underReplicated === 0;
    }, timeoutMs, 'every block is on exactly its placed live nodes');
  } catch (err) {
    throw new Error(`${(err as Error).message}; last count: ${last?.misplaced} misplaced, ${last?.underReplicated} under-replicated`);
  }
}

/** A generous bound on repair: the bytes to move at the configured rate, times four, plus the detection and replacement delays. */
export function repairBoundMs(bytesToMove: number): number {
  return 30_000 + (4 * 1000 * bytesToMove) / REPAIR_RATE_BYTES;
}

export async function repairStatusOf(cluster: TestCluster, node: RunningNode): Promise<RepairStatus> {
  const pool = new ConnectionPool(await cluster.credentials());
  try {
    return parseRepairStatus(await pool.request({ address: node.address }, OP.repairStatus, null, { timeoutMs: 3000 }));
  } finally {
    pool.close();
  }
}
