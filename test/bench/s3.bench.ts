// Suite s3: the S3 gateway (three node processes, R = 3, one `shoal gateway run --s3` process) driven by the AWS SDK:
// PUT of a 1 GiB object as a multipart upload with 4 parts in flight (what lib-storage's Upload does), GET of it as one
// stream, and 4 KiB objects PUT and GET with 16 in flight; beside content-block put/get on the same cluster and
// loopback TCP, measured in the same run, as ratios.
import { CreateBucketCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { Random, SeededEntropy } from '../../storage-node/base/random.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { newContentBlock, type ContentBlock } from '../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../storage-node/blocks/sign.js';
import { shoal, startGateway } from '../integration/gateway/gateway-process.js';
import { TestCluster } from '../integration/harness/spawn-cluster.js';
import { s3PortOf } from '../integration/gateway/gateway-process.js';
import { seededPieces } from '../integration/s3/s3-clients-harness.js';
import { LoopbackTcp } from './baselines/loopback-tcp.js';
import { KiB, MiB, measureLoad, stopwatch, summarize, type LoadOptions, type Measurement } from './measure.js';
import { compare, type Comparison, type Suite, type SuiteContext, type SuiteOutput } from './report.js';

const SEED = 'bench/s3';
/** Parts of 8 MiB (awscli's default), 4 in flight (lib-storage's default queueSize). */
const PART_BYTES = 8 * MiB;
const PARTS_IN_FLIGHT = 4;
const SMALL_BYTES = 4 * KiB;
const SMALL_IN_FLIGHT = 16;

interface Timing {
  readonly largeBytes: number;
  readonly minMs: number;
  readonly warmupMs: number;
}

export const s3Suite: Suite = {
  name: 's3',
  description: 'S3 gateway (3 node processes, R = 3, AWS SDK): 1 GiB multipart PUT and GET, 4 KiB objects ×16 in flight, vs content blocks and loopback TCP',
  async run(context: SuiteContext): Promise<SuiteOutput> {
    const timing: Timing = context.quick ? { largeBytes: 256 * MiB, minMs: 1_500, warmupMs: 200 } : { largeBytes: 1024 * MiB, minMs: 5_000, warmupMs: 500 };
    // Loopback TCP first, while no node process competes for the two cores.
    const tcp = await measureLoopbackTcp(context, timing);
    const results = new Map<string, Measurement>();
    const notes: string[] = [];

    context.log('starting 3 node processes and a gateway with S3');
    const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
    try {
      for (const [key, m] of await measureContentBlocks(context, timing, cluster)) results.set(key, m);
      const gateway = await startGateway(cluster, { name: 'gateway-bench', extraArgs: ['--s3', '0'] });
      try {
        const key = JSON.parse(await shoal(cluster, 'key', 'create', '--user', 'bench', '--json')) as { accessKeyId: string; secretAccessKey: string };
        const s3 = new S3Client({
          endpoint: `http://127.0.0.1:${s3PortOf(gateway)}`, region: 'us-east-1', forcePathStyle: true,
          credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
        });
        try {
          await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
          const large = await measureLarge(context, timing, s3);
          for (const m of large.measurements) results.set(m.name, m);
          notes.push(large.note);
          for (const [name, m] of await measureSmall(context, timing, s3)) results.set(name, m);
        } finally {
          s3.destroy();
        }
      } finally {
        await gateway.stop();
      }
    } finally {
      await cluster.stop();
    }

    const get = (name: string): Measurement => {
      const m = results.get(name) ?? tcp.get(name);
      if (m === undefined) throw new Error(`missing measurement ${name}`);
      return m;
    };
    const mib = timing.largeBytes / MiB;
    const comparisons: Comparison[] = [
      compare(get(`s3 put ${mib} MiB`), get('blocks put 1 MiB'), 'mbPerSec'),
      compare(get(`s3 put ${mib} MiB`), get('tcp one-way 1 MiB'), 'mbPerSec'),
      compare(get(`s3 get ${mib} MiB`), get('blocks get 1 MiB'), 'mbPerSec'),
      compare(get(`s3 get ${mib} MiB`), get('tcp one-way 1 MiB'), 'mbPerSec'),
      compare(get('s3 put 4 KiB'), get('blocks put 4 KiB'), 'opsPerSec'),
      compare(get('s3 put 4 KiB'), get('tcp request/response 4 KiB'), 'opsPerSec'),
      compare(get('s3 get 4 KiB'), get('blocks get 4 KiB'), 'opsPerSec'),
      compare(get('s3 get 4 KiB'), get('tcp request/response 4 KiB'), 'opsPerSec'),
    ];
    return {
      measurements: [...results.values(), ...tcp.values()],
      comparisons,
      notes: [
        ...notes,
        'S3: the AWS SDK for JS at its default settings (SigV4 headers, flexible checksums on: CRC32 of every body computed by the client and verified by the gateway) over http on 127.0.0.1; the volume has R = 3, so each byte is written to three nodes over TLS.',
        `S3 PUT large: CreateMultipartUpload, ${PART_BYTES / MiB} MiB parts generated from a seeded AES-CTR stream, ${PARTS_IN_FLIGHT} in flight, then CompleteMultipartUpload; the figure covers all three (Complete splices the parts' chunks into the object when they line up with chunk boundaries, as 8 MiB parts do).`,
        'S3 GET large: one GetObject, the body streamed and counted (length and ETag checked).',
        `S3 4 KiB: PutObject of distinct keys / GetObject of random stored keys, ${SMALL_IN_FLIGHT} in flight.`,
        'content blocks: the same cluster through the storage client (what the gateway itself calls), 1 MiB blocks with 8 in flight and 4 KiB blocks with 16 in flight; put acknowledged at 2 of 3, the clock stops after client.settled().',
        'loopback TCP: node:net to a worker thread; one-way 1 MiB writes, and 4 KiB request/response (echo, pipelined).',
        'machine: 2 cores shared by the client, the gateway and the three nodes (and by other work on this machine).',
      ],
    };
  },
};

async function measureLoopbackTcp(context: SuiteContext, timing: Timing): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>();
  const tcp = await LoopbackTcp.start();
  try {
    context.log('loopback TCP one-way 1 MiB');
    const chunk = Buffer.alloc(MiB, 0xa5);
    await tcp.oneWay('warm-up', chunk, timing.warmupMs);
    results.set('tcp one-way 1 MiB', await tcp.oneWay('tcp one-way 1 MiB', chunk, timing.minMs));
    context.log('loopback TCP request/response 4 KiB');
    results.set('tcp request/response 4 KiB', await tcp.requestResponse('tcp request/response 4 KiB', SMALL_BYTES, loadOptions(SMALL_IN_FLIGHT, 500, timing)));
  } finally {
    await tcp.stop();
  }
  return results;
}

async function measureContentBlocks(context: SuiteContext, timing: Timing, cluster: TestCluster): Promise<Map<string, Measurement>> {
  const random = new Random(SEED);
  const entropy = new SeededEntropy(random.fork('entropy'));
  const owner = newIdentity(entropy).identity;
  const results = new Map<string, Measurement>();
  const client = await cluster.client();
  try {
    const reads = random.fork('reads');
    for (const size of [{ label: '1 MiB', bytes: MiB, inFlight: 8, count: context.quick ? 100 : 250, minOps: 20 }, { label: '4 KiB', bytes: SMALL_BYTES, inFlight: SMALL_IN_FLIGHT, count: context.quick ? 5_000 : 20_000, minOps: 500 }]) {
      const payloads = Array.from({ length: 8 }, () => entropy.bytes(size.bytes));
      const blocks: { address: Address; block: ContentBlock }[] = Array.from({ length: size.count }, (_, i) => newContentBlock(owner.publicKey, payloads[i % payloads.length] as Buffer, entropy));
      const stored: Address[] = [];
      context.log(`content blocks put ${size.label}`);
      results.set(`blocks put ${size.label}`, await measureLoad(`blocks put ${size.label}`, size.bytes, async (index) => {
        const { address, block } = blocks[index] as { address: Address; block: ContentBlock };
        await client.putContent(address, block);
        stored.push(address);
      }, { ...loadOptions(size.inFlight, size.minOps, timing), maxOps: blocks.length, drain: () => client.settled() }));
      context.log(`content blocks get ${size.label}`);
      results.set(`blocks get ${size.label}`, await measureLoad(`blocks get ${size.label}`, size.bytes, async () => {
        const block = await client.getContent(stored[reads.int(stored.length)] as Address);
        if (block.data.length !== size.bytes) throw new Error(`blocks get ${size.label}: got ${block.data.length} bytes`);
      }, loadOptions(size.inFlight, size.minOps, timing)));
    }
  } finally {
    client.close();
  }
  return results;
}

/** Part `n` (from 1) of the large object: its own seeded stream, so that parts can be made in any order. */
function partBody(n: number, bytes: number): Buffer {
  return Buffer.concat([...seededPieces(`${SEED}/part-${n}`, bytes, MiB)]);
}

async function measureLarge(context: SuiteContext, timing: Timing, s3: S3Client): Promise<{ measurements: Measurement[]; note: string }> {
  const mib = timing.largeBytes / MiB;
  const key = 'large/object.bin';
  const partCount = Math.ceil(timing.largeBytes / PART_BYTES);
  context.log(`S3 PUT ${mib} MiB: ${partCount} parts of ${PART_BYTES / MiB} MiB, ${PARTS_IN_FLIGHT} in flight`);
  const putElapsed = stopwatch();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'bench', Key: key }));
  const etags: string[] = new Array<string>(partCount);
  let next = 1;
  const worker = async (): Promise<void> => {
    for (let n = next++; n <= partCount; n = next++) {
      const bytes = Math.min(PART_BYTES, timing.largeBytes - (n - 1) * PART_BYTES);
      const part = await s3.send(new UploadPartCommand({ Bucket: 'bench', Key: key, UploadId, PartNumber: n, Body: partBody(n, bytes) }));
      etags[n - 1] = part.ETag ?? '';
    }
  };
  await Promise.all(Array.from({ length: PARTS_IN_FLIGHT }, worker));
  const partsMs = putElapsed();
  const completeElapsed = stopwatch();
  const done = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: 'bench', Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
  }));
  const completeMs = completeElapsed();
  const putMs = putElapsed();
  if (!done.ETag?.endsWith(`-${partCount}"`)) throw new Error(`unexpected ETag after Complete: ${done.ETag}`);

  context.log(`S3 GET ${mib} MiB`);
  const getElapsed = stopwatch();
  const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: key }));
  let bytes = 0;
  for await (const chunk of got.Body as AsyncIterable<Uint8Array>) bytes += chunk.length;
  const getMs = getElapsed();
  if (bytes !== timing.largeBytes || got.ETag !== done.ETag) throw new Error(`GET returned ${bytes} bytes, ETag ${got.ETag}; expected ${timing.largeBytes}, ${done.ETag}`);
  const mbps = (ms: number): string => `${(timing.largeBytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
  return {
    measurements: [
      summarize(`s3 put ${mib} MiB`, { ops: 1, bytes: timing.largeBytes, elapsedMs: putMs, concurrency: PARTS_IN_FLIGHT }),
      summarize(`s3 put ${mib} MiB: parts only`, { ops: partCount, bytes: timing.largeBytes, elapsedMs: partsMs, concurrency: PARTS_IN_FLIGHT }),
      summarize(`s3 get ${mib} MiB`, { ops: 1, bytes: timing.largeBytes, elapsedMs: getMs, concurrency: 1 }),
    ],
    note: `S3 PUT ${mib} MiB took ${(putMs / 1000).toFixed(1)} s: parts ${(partsMs / 1000).toFixed(1)} s (${mbps(partsMs)}), CompleteMultipartUpload ${(completeMs / 1000).toFixed(1)} s; GET ${(getMs / 1000).toFixed(1)} s.`,
  };
}

async function measureSmall(context: SuiteContext, timing: Timing, s3: S3Client): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>();
  const random = new Random(`${SEED}/small`);
  const body = Buffer.concat([...seededPieces(`${SEED}/small`, SMALL_BYTES, SMALL_BYTES)]);
  const stored: string[] = [];
  context.log(`S3 PUT 4 KiB, ${SMALL_IN_FLIGHT} in flight`);
  results.set('s3 put 4 KiB', await measureLoad('s3 put 4 KiB', SMALL_BYTES, async (index) => {
    // 100 keys a directory: a realistic prefix fan-out, not one huge directory.
    const key = `small/d${Math.floor(index / 100)}/o${index}`;
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: body }));
    stored.push(key);
  }, loadOptions(SMALL_IN_FLIGHT, 300, timing)));
  context.log(`S3 GET 4 KiB, ${SMALL_IN_FLIGHT} in flight`);
  results.set('s3 get 4 KiB', await measureLoad('s3 get 4 KiB', SMALL_BYTES, async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: stored[random.int(stored.length)] as string }));
    const data = await got.Body?.transformToByteArray();
    if (data?.length !== SMALL_BYTES) throw new Error(`s3 get 4 KiB: got ${data?.length} bytes`);
  }, loadOptions(SMALL_IN_FLIGHT, 300, timing)));
  return results;
}

function loadOptions(concurrency: number, minOps: number, timing: Timing): LoadOptions {
  return { concurrency, minMs: timing.minMs, minOps, warmupMs: timing.warmupMs };
}
