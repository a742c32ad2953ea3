// A file's bytes: reads (holes read as zeros) and writes at any offset and truncates, over inline content or the FAT.
//
// Inline content and truncates of an inline FAT are pure functions of the current inode, so a conflict simply replays
// them. A write into chunks is built from a snapshot (old chunks read, patched, sealed and stored before the inode is
// written), so its update checks that the chunks it replaced are still the current ones and otherwise starts again
// from a fresh snapshot: optimistic concurrency, with the chunks of a lost attempt removed.
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import type { ChunkStore } from './chunk-store.js';
import { chunksIn, emptyFat, fatIdentity, updateFat, updateInlineChunks } from './fat.js';
import type { ChunkRef, Fat } from './fat-record.js';
import type { FsBlocks } from './fs-blocks.js';
import type { FsLimits } from './fs-limits.js';
import type { FileInode, Inode } from './inode.js';
import type { InodeStore, InodeVersion } from './inode-store.js';

const STALE_SNAPSHOT = 'file changed under the write';

export class FileContent {
  readonly #chunks: ChunkStore;
  readonly #blocks: FsBlocks;
  readonly #inodes: InodeStore;
  readonly #limits: FsLimits;

  constructor(chunks: ChunkStore, blocks: FsBlocks, inodes: InodeStore, limits: FsLimits) {
    this.#chunks = chunks;
    this.#blocks = blocks;
    this.#inodes = inodes;
    this.#limits = limits;
  }

  async read(inode: FileInode, offset: number, length: number): Promise<Buffer> {
    const end = Math.min(inode.size, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    const out = Buffer.alloc(end - offset);
    if (inode.data.kind === 'inline') {
      inode.data.bytes.subarray(offset, end).copy(out);
      return out;
    }
    const { fat } = inode.data;
    const refs = await chunksIn(this.#chunks, this.#limits, fat, Math.floor(offset / fat.chunkBytes), Math.floor((end - 1) / fat.chunkBytes));
    await Promise.all(refs.map(async (ref) => {
      const start = ref.index * fat.chunkBytes;
      const plain = (await this.#chunks.load(ref)).subarray(0, ref.length);
      const from = Math.max(offset, start);
      const to = Math.min(end, start + plain.length);
      if (from < to) plain.copy(out, from - offset, from - start, to - start);
    }));
    return out;
  }

  /** `check` refuses the write on the current inode (type, permission); the returned version holds the new inode. */
  async write(address: Address, offset: number, data: Buffer, nowMs: number, check: (inode: Inode) => FileInode): Promise<InodeVersion> {
    for (let attempt = 0; attempt <= this.#limits.conflictRetriesMax; attempt++) {
      const base = check((await this.#inodes.read(address)).inode);
      const end = offset + data.length;
      const size = Math.max(base.size, end);
      if (base.data.kind === 'inline' && size <= this.#limits.inlineBytesMax) {
        const done = await this.#inodes.update(address, (inode) => {
          const current = check(inode);
          if (current.data.kind !== 'inline') return new ShoalError('Conflict', STALE_SNAPSHOT);
          const bytes = Buffer.alloc(Math.max(current.data.bytes.length, end));
          current.data.bytes.copy(bytes);
          data.copy(bytes, offset);
          return { ...current, data: { kind: 'inline', bytes }, size: Math.max(current.size, end), mtimeMs: nowMs, ctimeMs: nowMs };
        }).catch(retryIfStale);
        if (done !== undefined) return done;
        continue;
      }
      const done = await this.#writeChunks(address, base, offset, data, nowMs, check);
      if (done !== undefined) return done;
    }
    throw new ShoalError('Conflict', `file ${address.toString('hex')} kept changing under the write`, { subject: 'inode' });
  }

  async #writeChunks(address: Address, base: FileInode, offset: number, data: Buffer, nowMs: number, check: (inode: Inode) => FileInode): Promise<InodeVersion | undefined> {
    const inline = base.data.kind === 'inline' ? base.data.bytes : undefined;
    const fat: Fat = base.data.kind === 'fat' ? base.data.fat : emptyFat(this.#limits.chunkBytes);
    const cb = fat.chunkBytes;
    const end = offset + data.length;
    const first = Math.floor(offset / cb);
    const last = Math.floor((end - 1) / cb);
    // Converting inline content to chunks also moves the inline bytes outside the written range.
    const indices = new Set<number>();
    for (let i = first; i <= last; i++) indices.add(i);
    if (inline !== undefined) for (let i = 0; i * cb < inline.length; i++) indices.add(i);
    const sorted = [...indices].sort((a, b) => a - b);
    const existing = new Map((await chunksIn(this.#chunks, this.#limits, fat, sorted[0] ?? 0, sorted[sorted.length - 1] ?? 0)).map((c) => [c.index, c]));
    const written = await Promise.all(sorted.map(async (index): Promise<ChunkRef> => {
      const start = index * cb;
      const ref = existing.get(index);
      const old = ref !== undefined ? (await this.#chunks.load(ref)).subarray(0, ref.length) : (inline?.subarray(start, start + cb) ?? Buffer.alloc(0));
      const plain = Buffer.alloc(Math.max(old.length, Math.min(cb, end - start)));
      old.copy(plain);
      if (index >= first && index <= last) data.copy(plain, Math.max(0, offset - start), Math.max(0, start - offset), Math.min(data.length, start + cb - offset));
      return { index, length: plain.length, ...(await this.#chunks.store(plain)) };
    }));
    const set = new Map<number, ChunkRef | null>(written.map((c) => [c.index, c]));
    const baseIdentity = inline !== undefined ? undefined : fatIdentity(fat);
    const inlineList = fat.kind === 'chunks' && inline === undefined && updateInlineChunks(fat.chunks, { set }).length <= this.#limits.fatInlineChunksMax;
    const nextFat = inlineList ? undefined : await updateFat(this.#chunks, this.#limits, fat, { set });
    const done = await this.#inodes.update(address, (inode) => {
      const current = check(inode);
      let replaced: Fat;
      if (nextFat === undefined) {
        // An inline FAT merges with concurrent writes to other chunks: only the chunks rewritten here must be unchanged.
        if (current.data.kind !== 'fat' || current.data.fat.kind !== 'chunks' || current.data.fat.chunkBytes !== cb) return new ShoalError('Conflict', STALE_SNAPSHOT);
        const now = new Map(current.data.fat.chunks.map((c) => [c.index, c]));
        if (sorted.some((i) => !sameRef(now.get(i), existing.get(i)))) return new ShoalError('Conflict', STALE_SNAPSHOT);
        const chunks = updateInlineChunks(current.data.fat.chunks, { set });
        if (chunks.length > this.#limits.fatInlineChunksMax) return new ShoalError('Conflict', STALE_SNAPSHOT);
        replaced = { kind: 'chunks', chunkBytes: cb, chunks };
      } else {
        const same = current.data.kind === 'inline'
          ? inline !== undefined && current.data.bytes.equals(inline) && current.size === base.size
          : baseIdentity !== undefined && fatIdentity(current.data.fat) === baseIdentity;
        if (!same) return new ShoalError('Conflict', STALE_SNAPSHOT);
        replaced = nextFat;
      }
      return { ...current, data: { kind: 'fat', fat: replaced }, size: Math.max(current.size, end), mtimeMs: nowMs, ctimeMs: nowMs };
    }).catch(retryIfStale);
    // A lost attempt's chunks are referenced by nothing: free them now rather than leave them to the collector.
    if (done === undefined) await Promise.all(written.map((c) => this.#blocks.removeContent(c.address).catch(() => undefined)));
    return done;
  }

  /** Sets the size: down drops chunks and shortens the last one's length (no rewrite), up leaves a hole. */
  async truncate(address: Address, size: number, nowMs: number, check: (inode: Inode) => FileInode): Promise<InodeVersion> {
    for (let attempt = 0; attempt <= this.#limits.conflictRetriesMax; attempt++) {
      const base = check((await this.#inodes.read(address)).inode);
      const tree = base.data.kind === 'fat' && base.data.fat.kind === 'tree' && size > 0 ? base.data.fat : undefined;
      const nextFat = tree === undefined ? undefined : await updateFat(this.#chunks, this.#limits, tree, await this.#cut(tree, size));
      const done = await this.#inodes.update(address, (inode) => {
        const current = check(inode);
        const stamp = { size, mtimeMs: nowMs, ctimeMs: nowMs };
        if (size === 0) return { ...current, ...stamp, data: { kind: 'inline', bytes: Buffer.alloc(0) } };
        if (current.data.kind === 'inline') return { ...current, ...stamp, data: { kind: 'inline', bytes: current.data.bytes.subarray(0, size) } };
        const fat = current.data.fat;
        if (fat.kind === 'chunks') return { ...current, ...stamp, data: { kind: 'fat', fat: { ...fat, chunks: cutInline(fat.chunks, fat.chunkBytes, size) } } };
        if (tree === undefined || nextFat === undefined || fatIdentity(fat) !== fatIdentity(tree)) return new ShoalError('Conflict', STALE_SNAPSHOT);
        return { ...current, ...stamp, data: { kind: 'fat', fat: nextFat } };
      }).catch(retryIfStale);
      if (done !== undefined) return done;
    }
    throw new ShoalError('Conflict', `file ${address.toString('hex')} kept changing under the truncate`, { subject: 'inode' });
  }

  async #cut(fat: Fat, size: number): Promise<{ set: Map<number, ChunkRef | null>; dropFrom: number }> {
    const dropFrom = Math.ceil(size / fat.chunkBytes);
    const lastIndex = dropFrom - 1;
    const [last] = await chunksIn(this.#chunks, this.#limits, fat, lastIndex, lastIndex);
    const keep = size - lastIndex * fat.chunkBytes;
    const set = new Map<number, ChunkRef | null>();
    if (last !== undefined && last.length > keep) set.set(lastIndex, { ...last, length: keep });
    return { set, dropFrom };
  }
}

function cutInline(chunks: readonly ChunkRef[], chunkBytes: number, size: number): ChunkRef[] {
  return chunks
    .filter((c) => c.index * chunkBytes < size)
    .map((c) => (c.index * chunkBytes + c.length > size ? { ...c, length: size - c.index * chunkBytes } : c));
}

function sameRef(a: ChunkRef | undefined, b: ChunkRef | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.address.equals(b.address) && a.length === b.length;
}

function retryIfStale(err: unknown): undefined {
  if (isShoalError(err, 'Conflict') && err.message === STALE_SNAPSHOT) return undefined;
  throw err;
}
