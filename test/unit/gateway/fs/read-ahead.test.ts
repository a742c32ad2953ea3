// Goal: sequential readers are detected and served ahead, chunks come from the cache by address (bounded), inodes are
// revalidated by version rather than fetched again, and a volume's replication factor reaches every block it stores.
// Method: ReadAhead alone for the window; then a FileSystem over the in-memory twin, counting its fetches.
import test from 'ava';
import { FS_LIMITS_TEST_MIN, type FsLimits } from '../../../../gateway/fs/fs-limits.js';
import { ROOT_CALLER } from '../../../../gateway/fs/permissions.js';
import { ReadAhead } from '../../../../gateway/fs/read-ahead.js';
import { Volumes } from '../../../../gateway/fs/volume.js';
import { MemoryFsBlocks, SteppingClock } from './memory-fs-blocks.js';

const CHUNK = FS_LIMITS_TEST_MIN.chunkBytes;
const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('the window doubles on sequential reads up to its bound, each chunk asked once; a random read resets it', (t) => {
  const ahead = new ReadAhead({ chunksMax: 4 });
  const file = Buffer.alloc(32, 1);
  t.deepEqual(ahead.observe(file, 0, 10, 10, 99), { first: 1, last: 2 });
  t.deepEqual(ahead.observe(file, 10, 10, 10, 99), { first: 3, last: 4 });
  t.deepEqual(ahead.observe(file, 20, 10, 10, 99), { first: 5, last: 7 });
  t.deepEqual(ahead.observe(file, 30, 10, 10, 99), { first: 8, last: 8 });
  t.is(ahead.observe(file, 500, 10, 10, 99), undefined, 'a jump is not sequential');
  t.deepEqual(ahead.observe(file, 510, 10, 10, 99), { first: 52, last: 53 });
  t.is(ahead.observe(file, 520, 10, 10, 52), undefined, 'nothing past the last chunk');
});

async function volumeWithFile(limits: FsLimits, chunks: number, options: { replicas?: number } = {}) {
  const blocks = new MemoryFsBlocks('read');
  const volumes = new Volumes({ blocks, clock: new SteppingClock(), limits, owner: Buffer.alloc(32, 7) });
  await volumes.create('read', options);
  const writer = (await volumes.open('read')).fs;
  const file = (await writer.create(ROOT_CALLER, writer.root, 'f', { mode: 0o644 })).address;
  const data = Buffer.from(Array.from({ length: chunks * CHUNK }, (_, i) => (i * 7) & 0xff));
  await writer.write(ROOT_CALLER, file, 0, data);
  await writer.commit(file);
  const reader = (await volumes.open('read')).fs;
  return { blocks, volumes, writer, reader, file, data };
}

test('a sequential reader finds the next chunks already fetched; a second read of a chunk is a cache hit', async (t) => {
  const limits = { ...FS_LIMITS_TEST_MIN, fatInlineChunksMax: 64, chunkCacheBytesMax: 1 << 16 };
  const { blocks, reader, file, data } = await volumeWithFile(limits, 12);
  const before = blocks.calls['getContent'] ?? 0;
  t.deepEqual((await reader.read(ROOT_CALLER, file, 0, CHUNK)).data, data.subarray(0, CHUNK));
  await settle();
  t.true((blocks.calls['getContent'] ?? 0) - before >= 2, 'the read of chunk 0 started fetching chunk 1 and on');
  let fetched = blocks.calls['getContent'] ?? 0;
  for (let at = CHUNK; at < data.length; at += CHUNK) {
    t.deepEqual((await reader.read(ROOT_CALLER, file, at, CHUNK)).data, data.subarray(at, at + CHUNK));
    await settle();
  }
  t.is((blocks.calls['getContent'] ?? 0) - before, 12, 'each chunk fetched once, ahead of its reader');
  fetched = blocks.calls['getContent'] ?? 0;
  t.deepEqual((await reader.read(ROOT_CALLER, file, 0, data.length)).data, data);
  t.is(blocks.calls['getContent'] ?? 0, fetched, 'all of it from the cache');
  t.true(reader.stats().chunkCacheHits >= 12);
});

test('the chunk cache stays within its bound', async (t) => {
  const limits = { ...FS_LIMITS_TEST_MIN, fatInlineChunksMax: 64, chunkCacheBytesMax: 8 * CHUNK };
  const { reader, file, data } = await volumeWithFile(limits, 30);
  t.deepEqual((await reader.read(ROOT_CALLER, file, 0, data.length)).data, data);
  await settle();
  t.true(reader.stats().chunkCacheBytes <= 8 * CHUNK, `${reader.stats().chunkCacheBytes} bytes cached`);
});

test('an unchanged inode is revalidated, not fetched; a change by another gateway is seen at once', async (t) => {
  const { blocks, writer, reader, file } = await volumeWithFile(FS_LIMITS_TEST_MIN, 2);
  await reader.getattr(file);
  const revalidated = reader.stats().inodeRevalidations;
  const notModified = blocks.calls['notModified'] ?? 0;
  await reader.getattr(file);
  await reader.read(ROOT_CALLER, file, 0, 10);
  t.is(reader.stats().inodeRevalidations - revalidated, 2);
  t.is((blocks.calls['notModified'] ?? 0) - notModified, 2);
  await writer.setattr(ROOT_CALLER, file, { mode: 0o600 });
  t.is((await reader.getattr(file)).mode, 0o600);
});

test("a volume's replication factor reaches its root, its inodes and its chunks", async (t) => {
  const { blocks, volumes, writer, file } = await volumeWithFile(FS_LIMITS_TEST_MIN, 3, { replicas: 2 });
  const settings = await volumes.inspect('read');
  t.is(settings.replicas, 2);
  t.is(blocks.replicasOf.get(settings.root.toString('hex')), 2);
  t.is(blocks.replicasOf.get(file.toString('hex')), 2);
  const dir = await writer.mkdir(ROOT_CALLER, writer.root, 'd', 0o755);
  t.is(blocks.replicasOf.get(dir.address.toString('hex')), 2);
  const chunks = [...blocks.content.keys()];
  t.true(chunks.length >= 3);
  t.true(chunks.every((a) => blocks.replicasOf.get(a) === 2));
  await t.throwsAsync(volumes.create('bad', { replicas: 0 }), { message: /1 to 16 copies/ });
});
