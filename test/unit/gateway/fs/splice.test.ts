// Goal: splicing moves the sources' chunks into the target without storing a chunk again, the target reads as the
// sources' bytes in order, the sources are left empty (so removing them frees nothing the target holds, and removing
// the target frees every chunk), and sources that do not line up with chunk boundaries are refused with nothing
// changed. Method: the filesystem on in-memory blocks with 64-byte chunks and a tree FAT past four chunks.
import test from 'ava';
import { FS_LIMITS_TEST_MIN } from '../../../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../../../gateway/fs/permissions.js';
import { Volumes } from '../../../../gateway/fs/volume.js';
import type { FileSystem } from '../../../../gateway/fs/filesystem.js';
import { MemoryFsBlocks, SteppingClock } from './memory-fs-blocks.js';

const CHUNK = FS_LIMITS_TEST_MIN.chunkBytes;

async function setUp() {
  const blocks = new MemoryFsBlocks('splice');
  const volumes = new Volumes({ blocks, clock: new SteppingClock(), limits: FS_LIMITS_TEST_MIN, owner: Buffer.alloc(32, 7) });
  await volumes.create('vol');
  const { fs } = await volumes.open('vol');
  return { blocks, fs };
}

async function fileWith(fs: FileSystem, name: string, data: Buffer) {
  const file = await fs.create(ROOT_CALLER, fs.root, name, { mode: 0o644, exclusive: true });
  await fs.write(ROOT_CALLER, file.address, 0, data);
  await fs.commit(file.address);
  return file.address;
}

const bytes = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));

test('parts that line up with chunks are spliced by reference: same bytes, no chunk stored again, each chunk freed once', async (t) => {
  const { blocks, fs } = await setUp();
  const parts = [bytes(6 * CHUNK, 1), bytes(2 * CHUNK, 2), bytes(CHUNK + 17, 3)];
  const sources = [];
  for (const [i, part] of parts.entries()) sources.push(await fileWith(fs, `part${i}`, part));
  const target = (await fs.create(ROOT_CALLER, fs.root, 'whole', { mode: 0o644, exclusive: true })).address;
  const putsBefore = blocks.calls['putContent'] ?? 0;
  const chunksBefore = blocks.content.size;

  const spliced = await fs.splice(ROOT_CALLER, target, sources);
  const whole = Buffer.concat(parts);
  t.is(spliced?.size, whole.length);
  t.deepEqual((await fs.read(ROOT_CALLER, target, 0, whole.length + 10)).data, whole);
  // Only index blocks of the target's tree FAT may be new; every chunk is the parts' own.
  const newBlocks = (blocks.calls['putContent'] ?? 0) - putsBefore;
  t.true(newBlocks <= 4, `${newBlocks} blocks stored by the splice`);
  for (const source of sources) t.is((await fs.getattr(source)).size, 0, 'a source is left empty');

  for (const [i] of parts.entries()) await fs.remove(ROOT_CALLER, fs.root, `part${i}`);
  t.deepEqual((await fs.read(ROOT_CALLER, target, 0, whole.length)).data, whole, 'removing the parts frees nothing the object holds');
  t.true(blocks.content.size >= chunksBefore - 2, 'the parts\u2019 old index blocks may go, their chunks stay');
  await fs.remove(ROOT_CALLER, fs.root, 'whole');
  const volumeBlocks = blocks.content.size;
  t.is(volumeBlocks, 0, 'removing the object frees every chunk and index block');
});

test('parts that do not line up with chunks are refused with nothing changed', async (t) => {
  const { fs } = await setUp();
  const parts = [bytes(2 * CHUNK + 5, 1), bytes(CHUNK, 2)];
  const sources = [];
  for (const [i, part] of parts.entries()) sources.push(await fileWith(fs, `part${i}`, part));
  const target = (await fs.create(ROOT_CALLER, fs.root, 'whole', { mode: 0o644, exclusive: true })).address;
  t.is(await fs.splice(ROOT_CALLER, target, sources), undefined);
  for (const [i, source] of sources.entries()) t.deepEqual((await fs.read(ROOT_CALLER, source, 0, 1000)).data, parts[i]);
  t.is((await fs.getattr(target)).size, 0);
});
