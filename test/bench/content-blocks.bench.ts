// Suite content-blocks: put and get throughput of content blocks (4 KiB and 1 MiB, R = 3, three node processes)
// beside raw lmdb-js put/get and loopback TCP measured in the same run, as ratios.
import { Random, SeededEntropy } from '../../storage-node/base/random.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { newContentBlock, type ContentBlock } from '../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../storage-node/blocks/sign.js';
import { TestCluster } from '../integration/harness/spawn-cluster.js';
import { LoopbackTcp } from './baselines/loopback-tcp.js';
import { RawLmdb } from './baselines/raw-lmdb.js';
import { KiB, MiB, measureLoad, stopwatch, type LoadOptions, type Measurement } from './measure.js';
import { compare, type Comparison, type Suite, type SuiteContext, type SuiteOutput } from './report.js';

interface Size {
  readonly label: string;
  readonly bytes: number;
  /** Operations in flight: enough to keep three nodes busy, the same for the cluster and for raw LMDB. */
  readonly concurrency: number;
  /** Distinct payloads to cycle through; a block's fresh salt makes its address unique anyway. */
  readonly payloads: number;
  /** Blocks made ahead for the cluster's puts (hashing is the client's work, not the cluster's), full and quick. */
  readonly blocks: { readonly full: number; readonly quick: number };
  readonly minOps: number;
}

const SIZES: readonly Size[] = [
  { label: '4 KiB', bytes: 4 * KiB, concurrency: 64, payloads: 256, blocks: { full: 60_000, quick: 15_000 }, minOps: 500 },
  { label: '1 MiB', bytes: MiB, concurrency: 8, payloads: 8, blocks: { full: 1_500, quick: 400 }, minOps: 20 },
];

const SEED = 'bench/content-blocks';

interface Timing {
  readonly minMs: number;
  readonly warmupMs: number;
}

export const contentBlocksSuite: Suite = {
  name: 'content-blocks',
  description: 'content block put/get on three node processes (R = 3) vs raw lmdb-js and loopback TCP',
  async run(context: SuiteContext): Promise<SuiteOutput> {
    const timing: Timing = context.quick ? { minMs: 1_000, warmupMs: 150 } : { minMs: 4_000, warmupMs: 400 };
    const random = new Random(SEED);
    const entropy = new SeededEntropy(random.fork('entropy'));
    const payloads = new Map(SIZES.map((size) => [size, Array.from({ length: size.payloads }, () => entropy.bytes(size.bytes))]));
    const payloadsOf = (size: Size): Buffer[] => payloads.get(size) ?? [];

    // Baselines first, while no node process is running to compete for the two cores.
    const lmdb = await measureRawLmdb(context, timing, random.fork('lmdb-reads'), payloadsOf);
    const tcp = await measureLoopbackTcp(context, timing);
    const cluster = await measureCluster(context, timing, random, entropy, payloadsOf);

    const comparisons: Comparison[] = [];
    for (const size of SIZES) {
      for (const op of ['put', 'get'] as const) {
        const figure = cluster.get(`${op} ${size.label}`);
        const raw = lmdb.get(`${op} ${size.label}`);
        const oneWay = tcp.get(`one-way ${size.label}`);
        if (!figure || !raw || !oneWay) throw new Error(`missing a measurement for ${op} ${size.label}`);
        comparisons.push(compare(figure, raw, 'mbPerSec'), compare(figure, oneWay, 'mbPerSec'));
        const roundTrip = tcp.get(`request/response ${size.label}`);
        // For small blocks the operation rate is the figure of interest: each put/get is one request and reply.
        if (roundTrip) comparisons.push(compare(figure, raw, 'opsPerSec'), compare(figure, roundTrip, 'opsPerSec'));
      }
    }
    return {
      measurements: [...cluster.values(), ...lmdb.values(), ...tcp.values()],
      comparisons,
      notes: [
        'cluster put: R = 3, acknowledged at a majority (2 of 3); the clock stops only after client.settled(), once all 3 replicas are flushed.',
        'the cluster writes each byte 3 times, over TLS, into 3 LMDB environments, with the client and all 3 nodes on the same machine (2 cores here); the baselines move each byte once, without TLS, in one process (TCP: two threads).',
        'cluster get: uniformly random stored blocks, each checked by the client against its address (SHA-256); raw LMDB get checks only the length.',
        'raw LMDB put: the same sizes and the same number in flight, each put awaited and then db.flushed, the durability rule of the nodes.',
        'loopback TCP: node:net to a worker thread on 127.0.0.1; one-way = back-to-back writes of that size until the receiver has counted every byte; request/response = echo, pipelined on one connection.',
        'ratio = figure / baseline; ops/s ratios against raw LMDB equal the MB/s ones (same block size) and are listed for 4 KiB only.',
      ],
    };
  },
};

async function measureRawLmdb(context: SuiteContext, timing: Timing, random: Random, payloadsOf: (size: Size) => Buffer[]): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>();
  const lmdb = await RawLmdb.open();
  try {
    for (const size of SIZES) {
      const options = loadOptions(size, timing);
      context.log(`raw LMDB put ${size.label}`);
      results.set(`put ${size.label}`, await lmdb.put(`raw LMDB put ${size.label} (flushed)`, payloadsOf(size), options));
      context.log(`raw LMDB get ${size.label}`);
      results.set(`get ${size.label}`, await lmdb.get(`raw LMDB get ${size.label} (random)`, size.bytes, random, options));
    }
  } finally {
    await lmdb.close();
  }
  return results;
}

async function measureLoopbackTcp(context: SuiteContext, timing: Timing): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>();
  const tcp = await LoopbackTcp.start();
  try {
    for (const size of SIZES) {
      const chunk = Buffer.alloc(size.bytes, 0xa5);
      context.log(`loopback TCP one-way ${size.label}`);
      await tcp.oneWay('warm-up', chunk, timing.warmupMs);
      results.set(`one-way ${size.label}`, await tcp.oneWay(`loopback TCP one-way ${size.label} writes`, chunk, timing.minMs));
    }
    const small = SIZES[0] as Size;
    context.log(`loopback TCP request/response ${small.label}`);
    results.set(`request/response ${small.label}`,
      await tcp.requestResponse(`loopback TCP request/response ${small.label} (echo)`, small.bytes, loadOptions(small, timing)));
  } finally {
    await tcp.stop();
  }
  return results;
}

async function measureCluster(
  context: SuiteContext, timing: Timing, random: Random, entropy: SeededEntropy, payloadsOf: (size: Size) => Buffer[],
): Promise<Map<string, Measurement>> {
  const owner = newIdentity(entropy).identity;
  const made = new Map<Size, { address: Address; block: ContentBlock }[]>();
  for (const size of SIZES) {
    const elapsed = stopwatch();
    const count = context.quick ? size.blocks.quick : size.blocks.full;
    const payloads = payloadsOf(size);
    made.set(size, Array.from({ length: count }, (_, i) => newContentBlock(owner.publicKey, payloads[i % payloads.length] as Buffer, entropy)));
    context.log(`made ${count} blocks of ${size.label} in ${(elapsed() / 1000).toFixed(1)} s`);
  }

  const results = new Map<string, Measurement>();
  const started = stopwatch();
  const cluster = await TestCluster.start([{ zone: 'z1' }, { zone: 'z2' }, { zone: 'z3' }]);
  try {
    const client = await cluster.client();
    context.log(`three nodes serving in ${(started() / 1000).toFixed(1)} s`);
    try {
      const reads = random.fork('cluster-reads');
      for (const size of SIZES) {
        const blocks = made.get(size) ?? [];
        const stored: Address[] = [];
        context.log(`cluster put ${size.label}`);
        results.set(`put ${size.label}`, await measureLoad(`cluster put ${size.label} (R = 3, ack at 2, settled on 3)`, size.bytes, async (index) => {
          const { address, block } = blocks[index] as { address: Address; block: ContentBlock };
          await client.putContent(address, block);
          stored.push(address);
        }, { ...loadOptions(size, timing), maxOps: blocks.length, drain: () => client.settled() }));
        if (stored.length === blocks.length) context.log(`warning: all ${blocks.length} blocks of ${size.label} were used; raise Size.blocks`);
        context.log(`cluster get ${size.label}`);
        results.set(`get ${size.label}`, await measureLoad(`cluster get ${size.label} (random, hash-checked)`, size.bytes, async () => {
          const block = await client.getContent(stored[reads.int(stored.length)] as Address);
          if (block.data.length !== size.bytes) throw new Error(`cluster get ${size.label}: got ${block.data.length} bytes`);
        }, loadOptions(size, timing)));
      }
    } finally {
      client.close();
    }
  } finally {
    await cluster.stop();
  }
  return results;
}

function loadOptions(size: Size, timing: Timing): LoadOptions {
  return { concurrency: size.concurrency, minMs: timing.minMs, minOps: size.minOps, warmupMs: timing.warmupMs };
}
