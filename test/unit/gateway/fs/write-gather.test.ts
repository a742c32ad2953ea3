// Goal: writes are gathered per file in the gateway: full chunks are stored at once, a commit publishes one inode
// version, this gateway reads its own writes at once, another gateway only after the commit, and the memory bounds
// commit on their own. Method: two FileSystems (two gateways) over one in-memory block twin, counting its calls.
import test from 'ava';
import { FS_LIMITS_TEST_MIN, type FsLimits } from '../../../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../../../gateway/fs/permissions.js';
import { Volumes } from '../../../../gateway/fs/volume.js';
import { MemoryFsBlocks, SteppingClock } from './memory-fs-blocks.js';

const CHUNK = FS_LIMITS_TEST_MIN.chunkBytes;
// Large bounds: nothing is committed unless asked, except where a test lowers them.
const ROOMY: FsLimits = { ...FS_LIMITS_TEST_MIN, gatherBytesPerFileMax: 1 << 20, gatherBytesMax: 4 << 20, gatherChunksPerFileMax: 1000 };

async function twoGateways(limits: FsLimits, seed: string) {
  const blocks = new MemoryFsBlocks(seed);
  const volumes = new Volumes({ blocks, clock: new SteppingClock(), limits, owner: Buffer.alloc(32, 7) });
  await volumes.create('gather');
  const writer = (await volumes.open('gather')).fs;
  const reader = (await volumes.open('gather')).fs;
  const file = await writer.create(ROOT_CALLER, writer.root, 'f', { mode: 0o644 });
  return { blocks, writer, reader, file: file.address };
}

const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));

test('a sequential writer stores full chunks at once and publishes one inode version at the commit', async (t) => {
  const { blocks, writer, reader, file } = await twoGateways(ROOMY, 'sequential');
  const data = pattern(10 * CHUNK + 7, 1);
  const updatesBefore = blocks.calls['updateMutable'] ?? 0;
  for (let at = 0; at < data.length; at += 40) await writer.write(ROOT_CALLER, file, at, data.subarray(at, at + 40));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(blocks.calls['updateMutable'] ?? 0, updatesBefore, 'no consensus write before the commit');
  t.true(blocks.content.size >= 9, `full chunks were stored before the commit (${blocks.content.size})`);
  t.is((await writer.getattr(file)).size, data.length, 'the writer sees its size');
  t.deepEqual((await writer.read(ROOT_CALLER, file, 0, data.length + 5)).data, data, 'and its bytes');
  t.is((await reader.getattr(file)).size, 0, 'another gateway sees nothing yet');

  const committed = await writer.commit(file);
  t.is(committed.size, data.length);
  // One inode version, plus the directory entry's listing attributes refreshed.
  t.is((blocks.calls['updateMutable'] ?? 0) - updatesBefore, 2);
  t.deepEqual((await reader.read(ROOT_CALLER, file, 0, data.length)).data, data, 'after the commit another gateway sees it all');
  // Eleven chunks outgrow the inline FAT (4 at testMin): three leaf index blocks and a root join them.
  t.is(blocks.content.size, 11 + 4, 'ten full chunks, the last partial one and the index blocks: nothing superseded left behind');
  t.is(writer.stats().gatheredBytes, 0);
});

test('overlapping and unaligned writes before a commit land in order; a commit with nothing gathered writes nothing', async (t) => {
  const { blocks, writer, reader, file } = await twoGateways(ROOMY, 'overlap');
  const expected = Buffer.alloc(5 * CHUNK);
  const writes: Array<[number, Buffer]> = [[0, pattern(5 * CHUNK, 2)], [10, pattern(100, 3)], [CHUNK, pattern(CHUNK, 4)], [3 * CHUNK - 5, pattern(9, 5)]];
  for (let round = 0; round < 20; round++) writes.push([(round * 37) % (4 * CHUNK), pattern(1 + (round % 7), round)]);
  for (const [at, bytes] of writes) {
    bytes.copy(expected, at);
    await writer.write(ROOT_CALLER, file, at, bytes);
  }
  t.deepEqual((await writer.read(ROOT_CALLER, file, 0, expected.length)).data, expected);
  await writer.commit(file);
  t.deepEqual((await reader.read(ROOT_CALLER, file, 0, expected.length)).data, expected);
  const updates = blocks.calls['updateMutable'] ?? 0;
  await writer.commit(file);
  t.is(blocks.calls['updateMutable'] ?? 0, updates);
  // Five chunks (over the inline FAT's 4): two leaf index blocks and a root.
  t.is(blocks.content.size, 5 + 3, 'chunks sealed and rewritten before the commit were freed: one block per chunk remains');
});

test('past the per-file bound the gateway commits on its own, and a truncate commits gathered writes first', async (t) => {
  const { writer, reader, file } = await twoGateways({ ...ROOMY, gatherBytesPerFileMax: 100 }, 'bounds');
  await writer.write(ROOT_CALLER, file, 0, pattern(30, 1));
  t.is((await reader.getattr(file)).size, 0);
  await writer.write(ROOT_CALLER, file, 200, pattern(90, 2)); // 120 bytes gathered, none of them a full chunk
  t.is((await reader.getattr(file)).size, 290, 'committed without being asked');
  await writer.write(ROOT_CALLER, file, 290, pattern(20, 3));
  await writer.setattr(ROOT_CALLER, file, { size: 300 });
  const seen = (await reader.read(ROOT_CALLER, file, 280, 100)).data;
  t.deepEqual(seen, Buffer.concat([pattern(90, 2).subarray(80), pattern(20, 3).subarray(0, 10)]));
});

test('the total bound commits the fullest file; a removed file drops its gathered writes and frees its chunks', async (t) => {
  const { blocks, writer, reader, file } = await twoGateways({ ...ROOMY, gatherBytesPerFileMax: 240, gatherBytesMax: 250 }, 'total');
  const other = (await writer.create(ROOT_CALLER, writer.root, 'g', { mode: 0o644 })).address;
  // No write fills a chunk, so every byte stays gathered: 160 for f, then 60 for g.
  for (const [at, length] of [[1, 60], [70, 50], [130, 50]] as const) await writer.write(ROOT_CALLER, file, at, pattern(length, at));
  await writer.write(ROOT_CALLER, other, 1, pattern(60, 2));
  t.is((await reader.getattr(file)).size, 0);
  t.is(writer.stats().gatheredBytes, 220);
  await writer.write(ROOT_CALLER, other, 200, pattern(50, 3));
  t.is((await reader.getattr(file)).size, 180, 'the fullest file was committed to make room');
  t.is((await reader.getattr(other)).size, 0);
  await writer.write(ROOT_CALLER, other, 0, pattern(4 * CHUNK, 4));
  await writer.remove(ROOT_CALLER, writer.root, 'g');
  await writer.remove(ROOT_CALLER, writer.root, 'f');
  await writer.commitAll();
  t.is(writer.stats().gatheredBytes, 0);
  t.is(blocks.content.size, 0, 'every chunk of both files is freed');
});
