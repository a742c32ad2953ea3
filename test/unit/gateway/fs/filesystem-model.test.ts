// Goal: gateway/fs behaves like a plain in-memory filesystem model across random operation sequences, with paging,
// multi-chunk files, FAT index trees, gathered writes and forced commits exercised (testMin limits), and it frees
// exactly what it no longer references. Method: the shared seeded workload of test/integration/fs/fs-model.ts over an
// in-memory block twin, with a second FileSystem on the same blocks as the observer (another gateway); afterwards every
// content block stored must be referenced by some inode and every reference must resolve. Fixed seeds plus SHOAL_SEED.
import test from 'ava';
import { FS_LIMITS_TEST_MIN } from '../../../../gateway/fs/fs-limits.js';
import { decodeDirPage } from '../../../../gateway/fs/directory.js';
import { decodeInode } from '../../../../gateway/fs/inode.js';
import { ChunkStore } from '../../../../gateway/fs/chunk-store.js';
import { allBlocks } from '../../../../gateway/fs/fat.js';
import { Volumes } from '../../../../gateway/fs/volume.js';
import { runWorkload } from '../../../integration/fs/fs-model.js';
import { MemoryFsBlocks, SteppingClock } from './memory-fs-blocks.js';

const seeds = process.env['SHOAL_SEED'] !== undefined ? [process.env['SHOAL_SEED']] : ['1', '2', '3', '4', 'paging', 'chunks'];

for (const seed of seeds) {
  test(`seed ${seed}: 600 random operations agree with the model`, async (t) => {
    const blocks = new MemoryFsBlocks(seed);
    const volumes = new Volumes({ blocks, clock: new SteppingClock(), limits: FS_LIMITS_TEST_MIN, owner: Buffer.alloc(32, 7) });
    await volumes.create('model');
    const { fs } = await volumes.open('model');
    const observer = (await volumes.open('model')).fs;
    const result = await runWorkload(fs, { seed, steps: 600, writeBytesMax: 3 * FS_LIMITS_TEST_MIN.chunkBytes, fullCheckEvery: 50, observer });
    t.log(JSON.stringify(result.counts));
    t.is(result.steps, 600);
    const { stored, referenced } = await blockCensus(blocks);
    t.deepEqual([...referenced].filter((a) => !stored.has(a)), [], 'no inode references a freed block');
    t.deepEqual([...stored].filter((a) => !referenced.has(a)), [], 'every stored block is referenced: overwrites, truncates and unlinks freed theirs');
  });
}

/** Content blocks stored, and those the inodes reference (chunks and FAT index blocks, found through the trees). */
async function blockCensus(blocks: MemoryFsBlocks): Promise<{ stored: Set<string>; referenced: Set<string> }> {
  const store = new ChunkStore(blocks, { cacheBytesMax: 0 });
  const referenced = new Set<string>();
  for (const { content } of blocks.mutable.values()) {
    let inode;
    try {
      inode = decodeInode(content);
    } catch {
      continue; // a directory page or the catalogue
    }
    if (inode.type !== 'file' || inode.data.kind !== 'fat') continue;
    for (const ref of await allBlocks(store, FS_LIMITS_TEST_MIN, inode.data.fat)) referenced.add(ref.address.toString('hex'));
  }
  return { stored: new Set(blocks.content.keys()), referenced };
}

test('the workload reaches directory pages, page splits and FAT index trees (testMin limits)', async (t) => {
  const blocks = new MemoryFsBlocks('coverage');
  const volumes = new Volumes({ blocks, clock: new SteppingClock(), limits: FS_LIMITS_TEST_MIN, owner: Buffer.alloc(32, 7) });
  await volumes.create('model');
  const { fs } = await volumes.open('model');
  await runWorkload(fs, { seed: 'coverage', steps: 600, writeBytesMax: 3 * FS_LIMITS_TEST_MIN.chunkBytes, fullCheckEvery: 100 });
  let pages = 0;
  let linkedPages = 0;
  let trees = 0;
  for (const { content } of blocks.mutable.values()) {
    try {
      const page = decodeDirPage(content);
      pages++;
      if (page.next !== undefined) linkedPages++;
      continue;
    } catch { /* not a page */ }
    try {
      const inode = decodeInode(content);
      if (inode.type === 'file' && inode.data.kind === 'fat' && inode.data.fat.kind === 'tree') trees++;
    } catch { /* the catalogue */ }
  }
  t.log(`${pages} directory pages (${linkedPages} with a next page), ${trees} files with a FAT tree`);
  t.true(pages >= 3 && linkedPages >= 2, 'directories split into pages, and pages split again');
  t.true(trees >= 1, 'some file outgrew its inline FAT');
});

test('the comparison can fail: a filesystem that loses the last byte of large writes is caught, with its seed', async (t) => {
  const blocks = new MemoryFsBlocks('broken');
  const volumes = new Volumes({ blocks, clock: new SteppingClock(), limits: FS_LIMITS_TEST_MIN, owner: Buffer.alloc(32, 7) });
  await volumes.create('model');
  const { fs } = await volumes.open('model');
  const write = fs.write.bind(fs);
  fs.write = (caller, address, offset, data) => write(caller, address, offset, data.length > 100 ? data.subarray(0, -1) : data);
  const error = await t.throwsAsync(runWorkload(fs, { seed: 'broken', steps: 600, writeBytesMax: 3 * FS_LIMITS_TEST_MIN.chunkBytes, fullCheckEvery: 50 }));
  t.regex(error?.message ?? '', /SHOAL_SEED=broken/);
});
