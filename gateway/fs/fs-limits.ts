// The tunables of the filesystem layer with their units, a production set and a testMin set that makes rare paths common.
import { assert } from '../../storage-node/base/assert.js';
import { CONTENT_BLOCK_BYTES_MAX, MiB } from '../../storage-node/base/limits.js';
import { SEAL_OVERHEAD_BYTES } from '../../storage-node/blocks/seal.js';

export interface FsLimits {
  /** A file at most this long keeps its bytes inside its inode (one consensus write per flush, no content block). */
  readonly inlineBytesMax: number;
  /** Default chunk of a new file's content (DESIGN §3: 1 MiB); a volume may choose another. */
  readonly chunkBytes: number;
  /** Chunk references kept in the inode before the FAT moves to a tree of immutable index blocks. */
  readonly fatInlineChunksMax: number;
  /** Slots of one index block of the FAT tree. */
  readonly fatFanout: number;
  /** Entries a directory (or one of its pages) holds before it splits. */
  readonly dirPageEntriesMax: number;
  /** Bytes of one name (POSIX NAME_MAX). */
  readonly nameBytesMax: number;
  /** Bytes of a symlink target (POSIX PATH_MAX). */
  readonly symlinkBytesMax: number;
  /** How many times an operation built on a snapshot (a chunk rewrite, a page split) restarts after a conflict. */
  readonly conflictRetriesMax: number;
  /** Plaintext bytes of chunks and FAT index blocks kept in memory (immutable, so kept until evicted by LRU). */
  readonly chunkCacheBytesMax: number;
  /** Decoded inodes kept for revalidation by version (a conditional read that answers not-modified without the content). */
  readonly inodeCacheEntriesMax: number;
  /** Most chunks fetched ahead of a sequential reader; the window doubles from one chunk up to this. */
  readonly readAheadChunksMax: number;
  /** Written bytes one file buffers (not yet in sealed chunks) before the gateway commits it on its own. */
  readonly gatherBytesPerFileMax: number;
  /** Written bytes all files together buffer before the gateway commits the largest. */
  readonly gatherBytesMax: number;
  /** Sealed chunks one file holds unpublished before the gateway commits it (bounds the one inode version). */
  readonly gatherChunksPerFileMax: number;
}

export const FS_LIMITS_DEFAULT: FsLimits = {
  inlineBytesMax: 4096,
  chunkBytes: 1 * MiB,
  // 1,024 references of about 90 bytes each keep the inode near 100 KiB, and cover 1 GiB at 1 MiB chunks.
  fatInlineChunksMax: 1024,
  // A full index block is about 90 KiB; three levels cover 1024^3 chunks (a PiB at 1 MiB).
  fatFanout: 1024,
  // A page of 2,048 entries of ~150 bytes is ~300 KiB: well under the 1 MiB mutable block.
  dirPageEntriesMax: 2048,
  nameBytesMax: 255,
  symlinkBytesMax: 4096,
  conflictRetriesMax: 32,
  chunkCacheBytesMax: 256 * MiB,
  inodeCacheEntriesMax: 10_000,
  // 8 chunks of 1 MiB in flight keep a few nodes busy without flooding one reader's memory.
  readAheadChunksMax: 8,
  // Sequential writers seal a chunk as soon as it is full, so these bound only unaligned and random writes.
  gatherBytesPerFileMax: 16 * MiB,
  gatherBytesMax: 256 * MiB,
  gatherChunksPerFileMax: 1024,
};

/** STYLE §C.9: tiny chunks, pages split at 8 entries, an index tree after 4 chunks. */
export const FS_LIMITS_TEST_MIN: FsLimits = {
  ...FS_LIMITS_DEFAULT,
  inlineBytesMax: 48,
  chunkBytes: 64,
  fatInlineChunksMax: 4,
  fatFanout: 4,
  dirPageEntriesMax: 8,
  // A few chunks only: evictions, read-ahead past the cache and forced commits happen in every workload.
  chunkCacheBytesMax: 4096,
  inodeCacheEntriesMax: 16,
  readAheadChunksMax: 4,
  gatherBytesPerFileMax: 160,
  gatherBytesMax: 512,
  gatherChunksPerFileMax: 6,
};

export function checkFsLimits(limits: FsLimits): void {
  assert(limits.chunkBytes >= 1 && limits.chunkBytes + SEAL_OVERHEAD_BYTES + 256 <= CONTENT_BLOCK_BYTES_MAX, 'a sealed chunk fits a content block');
  assert(limits.fatFanout >= 2 && limits.fatInlineChunksMax >= 1, 'a FAT tree branches');
  assert(limits.dirPageEntriesMax >= 4, 'a directory page splits into halves of at least two');
  assert(limits.inlineBytesMax >= 0 && limits.inlineBytesMax < 512 * 1024, 'inline content leaves room in the inode block');
  assert(limits.chunkCacheBytesMax >= 0 && limits.inodeCacheEntriesMax >= 0 && limits.readAheadChunksMax >= 0, 'cache bounds are not negative');
  assert(limits.gatherBytesPerFileMax >= 1 && limits.gatherBytesMax >= limits.gatherBytesPerFileMax, 'one file may buffer at most what all files may');
  assert(limits.gatherChunksPerFileMax >= 1, 'a file gathers at least one chunk');
}

checkFsLimits(FS_LIMITS_DEFAULT);
checkFsLimits(FS_LIMITS_TEST_MIN);
