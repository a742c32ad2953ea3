// Suite fs: the filesystem layer on three node processes (R = 3): a large file written and read sequentially,
// create+stat+remove of many small files, and a listing of a large directory, beside raw content-block put and get
// throughput (the same cluster, 1 MiB blocks) measured in the same run, as ratios.
import { createHash } from 'node:crypto';
import { ClusterFsBlocks } from '../../gateway/fs/fs-blocks.js';
import type { FileSystem } from '../../gateway/fs/filesystem.js';
import { FS_LIMITS_DEFAULT } from '../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../gateway/fs/permissions.js';
import { Volumes } from '../../gateway/fs/volume.js';
import { SystemClock } from '../../storage-node/base/clock.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { newContentBlock } from '../../storage-node/blocks/immutable.js';
import { readAdminIdentity } from '../../storage-node/cli/cluster-dir.js';
import type { ClusterClient } from '../../storage-node/client/cluster-client.js';
import { systemEntropy } from '../../storage-node/system.js';
import { writeSequentialFile } from '../integration/fs/sequential-file.js';
import { TestCluster } from '../integration/harness/spawn-cluster.js';
import { MiB, measureLoad, stopwatch, summarize, type Measurement } from './measure.js';
import { compare, type Suite, type SuiteContext, type SuiteOutput } from './report.js';

interface Sizes {
  readonly fileMiB: number;
  readonly smallFiles: number;
  readonly listingEntries: number;
  readonly rawBlocks: number;
}

const FULL: Sizes = { fileMiB: 1024, smallFiles: 10_000, listingEntries: 100_000, rawBlocks: 512 };
const QUICK: Sizes = { fileMiB: 128, smallFiles: 1_000, listingEntries: 10_000, rawBlocks: 128 };
/** Writes in flight on the large file, as an NFS client keeps several WRITEs outstanding; 1 MiB each. */
const WRITES_IN_FLIGHT = 8;
/** Small-file operations in flight (many clients or one parallel `cp`), and raw block puts/gets in flight. */
const SMALL_FILES_IN_FLIGHT = 64;
const RAW_IN_FLIGHT = 8;
const LISTING_PAGE = 1000;

export const fsSuite: Suite = {
  name: 'fs',
  description: 'filesystem layer on three node processes (R = 3) vs raw content-block put/get on the same cluster',
  async run(context: SuiteContext): Promise<SuiteOutput> {
    const sizes = context.quick ? QUICK : FULL;
    const cluster = await TestCluster.start([{ zone: 'z1' }, { zone: 'z2' }, { zone: 'z3' }]);
    try {
      const owner = await readAdminIdentity(cluster.clusterDir);
      const client = await cluster.client({ owner, entropy: systemEntropy });
      try {
        const raw = await measureRawBlocks(context, client, owner.publicKey, sizes);
        const volumes = new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
        await volumes.create('bench');
        const { fs } = await volumes.open('bench');
        const [write, read] = await measureLargeFile(context, fs, sizes.fileMiB);
        const small = await measureSmallFiles(context, fs, sizes.smallFiles);
        const listing = await measureListing(context, fs, sizes.listingEntries);
        return {
          measurements: [raw.put, raw.get, write, read, small, listing],
          comparisons: [compare(write, raw.put, 'mbPerSec'), compare(read, raw.get, 'mbPerSec'), compare(small, raw.put, 'opsPerSec')],
          notes: [
            `large file: ${sizes.fileMiB} MiB in 1 MiB writes (${WRITES_IN_FLIGHT} in flight), one commit; read back in 1 MiB reads, one at a time, its SHA-256 checked; 1 MiB chunks, three replicas.`,
            `raw blocks: 1 MiB content blocks put (${RAW_IN_FLIGHT} in flight, R = 3, the clock stops once every replica is flushed) and got at random, on the same cluster, before the filesystem runs.`,
            `small files: create, getattr and remove of one name each, ${SMALL_FILES_IN_FLIGHT} in flight, in one directory; one op = all three. Its ratio to raw 1 MiB puts compares operations, not bytes: a create is two consensus writes, a remove two more.`,
            `listing: ${sizes.listingEntries} entries (created untimed first), read in pages of ${LISTING_PAGE}; the figure's ops are entries.`,
          ],
        };
      } finally {
        client.close();
      }
    } finally {
      await cluster.stop();
    }
  },
};

async function measureRawBlocks(context: SuiteContext, client: ClusterClient, owner: Buffer, sizes: Sizes): Promise<{ put: Measurement; get: Measurement }> {
  context.log(`raw content blocks: ${sizes.rawBlocks} × 1 MiB`);
  const payload = systemEntropy.bytes(MiB);
  const blocks = Array.from({ length: sizes.rawBlocks }, () => newContentBlock(owner, payload, systemEntropy));
  const stored: Address[] = [];
  const put = await measureLoad('raw content-block put 1 MiB (R = 3)', MiB, async (i) => {
    const made = blocks[i];
    if (made === undefined) return;
    await client.putContent(made.address, made.block);
    stored.push(made.address);
  }, { concurrency: RAW_IN_FLIGHT, minMs: 0, minOps: sizes.rawBlocks, maxOps: sizes.rawBlocks, drain: () => client.settled() });
  const get = await measureLoad('raw content-block get 1 MiB', MiB, async (i) => {
    await client.getContent(stored[(i * 7919) % stored.length] as Address);
  }, { concurrency: RAW_IN_FLIGHT, minMs: 0, minOps: sizes.rawBlocks, maxOps: sizes.rawBlocks });
  return { put, get };
}

async function measureLargeFile(context: SuiteContext, fs: FileSystem, fileMiB: number): Promise<[Measurement, Measurement]> {
  context.log(`large file: ${fileMiB} MiB written`);
  const file = await fs.create(ROOT_CALLER, fs.root, 'large.bin', { mode: 0o644, exclusive: true });
  let elapsed = stopwatch();
  const written = await writeSequentialFile(fs, file.address, 'bench/fs', fileMiB, WRITES_IN_FLIGHT);
  const write = summarize(`fs sequential write ${fileMiB} MiB`, { ops: fileMiB, bytes: fileMiB * MiB, elapsedMs: elapsed(), concurrency: WRITES_IN_FLIGHT });

  context.log(`large file: ${fileMiB} MiB read`);
  const read = createHash('sha256');
  elapsed = stopwatch();
  for (let offset = 0; offset < fileMiB * MiB; offset += MiB) read.update((await fs.read(ROOT_CALLER, file.address, offset, MiB)).data);
  const readFigure = summarize(`fs sequential read ${fileMiB} MiB`, { ops: fileMiB, bytes: fileMiB * MiB, elapsedMs: elapsed(), concurrency: 1 });
  if (read.digest('hex') !== written.digest('hex')) throw new Error('the large file read back differs from what was written');
  await fs.remove(ROOT_CALLER, fs.root, 'large.bin');
  return [write, readFigure];
}

async function measureSmallFiles(context: SuiteContext, fs: FileSystem, count: number): Promise<Measurement> {
  context.log(`small files: create+stat+remove × ${count}`);
  const dir = (await fs.mkdir(ROOT_CALLER, fs.root, 'small', 0o755)).address;
  return measureLoad('fs create+stat+remove (one op = all three)', 0, async (i) => {
    const name = `f-${i}`;
    const created = await fs.create(ROOT_CALLER, dir, name, { mode: 0o644, exclusive: true });
    await fs.getattr(created.address);
    await fs.remove(ROOT_CALLER, dir, name);
  }, { concurrency: SMALL_FILES_IN_FLIGHT, minMs: 0, minOps: count, maxOps: count });
}

async function measureListing(context: SuiteContext, fs: FileSystem, entries: number): Promise<Measurement> {
  const dir = (await fs.mkdir(ROOT_CALLER, fs.root, 'listing', 0o755)).address;
  const creating = stopwatch();
  let next = 0;
  await Promise.all(Array.from({ length: SMALL_FILES_IN_FLIGHT }, async () => {
    while (next < entries) await fs.create(ROOT_CALLER, dir, `e-${String(next++).padStart(7, '0')}`, { mode: 0o644, exclusive: true });
  }));
  context.log(`listing: ${entries} entries created in ${(creating() / 1000).toFixed(1)} s (untimed)`);
  const elapsed = stopwatch();
  let listed = 0;
  let cookie: string | undefined;
  for (;;) {
    const page = await fs.readdir(ROOT_CALLER, dir, { count: LISTING_PAGE, ...(cookie === undefined ? {} : { cookie }) });
    listed += page.entries.length;
    cookie = page.cookie;
    if (page.eof) break;
  }
  if (listed !== entries) throw new Error(`listed ${listed} of ${entries} entries`);
  return summarize(`fs listing of ${entries} entries (pages of ${LISTING_PAGE}; ops = entries)`, { ops: listed, bytes: 0, elapsedMs: elapsed(), concurrency: 1 });
}
