// A file's bytes: reads (holes read as zeros, sequential readers served ahead), the commit of gathered writes as one
// inode version, truncates, and the blocks each of them leaves unreferenced (freed by the caller once published).
//
// Inline content and truncates of an inline FAT are pure functions of the current inode, so a conflict simply replays
// them. A commit into chunks is built from a snapshot (old chunks read, patched, sealed and stored before the inode is
// written), so its update checks that the chunks it patched are still the current ones and otherwise starts again
// from a fresh snapshot: optimistic concurrency, with the chunks of a lost attempt removed. Full chunks sealed by the
// write gatherer replace whatever is there, so they need no check and survive a lost attempt.
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import type { ChunkStore } from './chunk-store.js';
import { allBlocks, chunksIn, emptyFat, fatIdentity, newFatGarbage, replacedInline, updateFat, updateInlineChunks, type FatGarbage } from './fat.js';
import type { ChunkRef, Fat, SealedRef } from './fat-record.js';
import type { FsLimits } from './fs-limits.js';
import type { FileData, FileInode, Inode } from './inode.js';
import type { InodeStore, InodeVersion } from './inode-store.js';
import { ReadAhead } from './read-ahead.js';

const STALE_SNAPSHOT = 'file changed under the write';

/** Bytes written at `at` within one chunk. */
export interface Patch {
  readonly at: number;
  readonly bytes: Buffer;
}

/** What the write gatherer hands over at a commit: full chunks already stored, and patches to apply to the others. */
export interface GatheredWrites {
  readonly chunkBytes: number;
  /** One past the last byte written: the file is at least this long afterwards. */
  readonly end: number;
  readonly mtimeMs: number;
  readonly sealed: ReadonlyMap<number, ChunkRef>;
  /** Per chunk index, in write order. */
  readonly patches: ReadonlyMap<number, readonly Patch[]>;
}

/** A published change and the blocks it left unreferenced. */
export interface Published {
  readonly done: InodeVersion;
  readonly garbage: readonly SealedRef[];
}

export class FileContent {
  readonly #chunks: ChunkStore;
  readonly #inodes: InodeStore;
  readonly #limits: FsLimits;
  readonly #readAhead: ReadAhead;

  constructor(chunks: ChunkStore, inodes: InodeStore, limits: FsLimits) {
    this.#chunks = chunks;
    this.#inodes = inodes;
    this.#limits = limits;
    this.#readAhead = new ReadAhead({ chunksMax: limits.readAheadChunksMax });
  }

  /** Copies the committed bytes of [offset, offset + out.length) into `out` (bytes past the size stay as they are: zeros). */
  async readInto(address: Address, inode: FileInode, offset: number, out: Buffer): Promise<void> {
    const end = Math.min(inode.size, offset + out.length);
    if (offset >= end) return;
    if (inode.data.kind === 'inline') {
      inode.data.bytes.subarray(offset, end).copy(out);
      return;
    }
    const { fat } = inode.data;
    const cb = fat.chunkBytes;
    const ahead = this.#readAhead.observe(address, offset, end - offset, cb, Math.ceil(inode.size / cb) - 1);
    if (ahead !== undefined) {
      // Not awaited: the reader goes on while the next chunks arrive in the cache.
      chunksIn(this.#chunks, this.#limits, fat, ahead.first, ahead.last).then((refs) => this.#chunks.prefetch(refs), () => undefined);
    }
    const refs = await chunksIn(this.#chunks, this.#limits, fat, Math.floor(offset / cb), Math.floor((end - 1) / cb));
    await Promise.all(refs.map(async (ref) => {
      const start = ref.index * cb;
      const plain = (await this.#chunks.load(ref)).subarray(0, ref.length);
      const from = Math.max(offset, start);
      const to = Math.min(end, start + plain.length);
      if (from < to) plain.copy(out, from - offset, from - start, to - start);
    }));
  }

  /** Publishes gathered writes as one inode version. `check` refuses the commit on the current inode. */
  async commit(address: Address, writes: GatheredWrites, check: (inode: Inode) => FileInode): Promise<Published> {
    for (let attempt = 0; attempt <= this.#limits.conflictRetriesMax; attempt++) {
      const base = check((await this.#inodes.read(address)).inode);
      const size = Math.max(base.size, writes.end);
      const published = base.data.kind === 'inline' && writes.sealed.size === 0 && size <= this.#limits.inlineBytesMax
        ? await this.#commitInline(address, writes, check)
        : await this.#commitChunks(address, base, writes, check).catch(retryIfStale);
      if (published !== undefined) return published;
    }
    throw new ShoalError('Conflict', `file ${address.toString('hex')} kept changing under the write`, { subject: 'inode' });
  }

  async #commitInline(address: Address, writes: GatheredWrites, check: (inode: Inode) => FileInode): Promise<Published | undefined> {
    const done = await this.#inodes.update(address, (inode) => {
      const current = check(inode);
      if (current.data.kind !== 'inline') return new ShoalError('Conflict', STALE_SNAPSHOT);
      const bytes = Buffer.alloc(Math.max(current.data.bytes.length, writes.end));
      current.data.bytes.copy(bytes);
      for (const [index, patches] of writes.patches) for (const p of patches) p.bytes.copy(bytes, index * writes.chunkBytes + p.at);
      return { ...current, data: { kind: 'inline', bytes }, size: Math.max(current.size, writes.end), mtimeMs: writes.mtimeMs, ctimeMs: writes.mtimeMs };
    }).catch(retryIfStale);
    return done === undefined ? undefined : { done, garbage: [] };
  }

  async #commitChunks(address: Address, base: FileInode, writes: GatheredWrites, check: (inode: Inode) => FileInode): Promise<Published | undefined> {
    const inline = base.data.kind === 'inline' ? base.data.bytes : undefined;
    const fat: Fat = base.data.kind === 'fat' ? base.data.fat : emptyFat(writes.chunkBytes);
    const cb = fat.chunkBytes;
    if (cb !== writes.chunkBytes) throw new ShoalError('Invalid', `file ${address.toString('hex')} has ${cb}-byte chunks, the writes were gathered in ${writes.chunkBytes}`, { subject: 'inode' });
    // Chunks patched here (read, patched, stored again); converting inline content also moves its bytes into chunks.
    const patched = new Set<number>([...writes.patches.keys()].filter((i) => !writes.sealed.has(i)));
    if (inline !== undefined) for (let i = 0; i * cb < inline.length; i++) if (!writes.sealed.has(i)) patched.add(i);
    const sorted = [...patched].sort((a, b) => a - b);
    const existing = new Map(sorted.length === 0 ? [] : (await chunksIn(this.#chunks, this.#limits, fat, sorted[0] ?? 0, sorted[sorted.length - 1] ?? 0)).map((c) => [c.index, c]));
    const stored: ChunkRef[] = [];
    const garbage = newFatGarbage();
    let published: Published | undefined;
    try {
      await Promise.all(sorted.map(async (index) => {
        const start = index * cb;
        const ref = existing.get(index);
        const old = ref !== undefined ? (await this.#chunks.load(ref)).subarray(0, ref.length) : (inline?.subarray(start, start + cb) ?? Buffer.alloc(0));
        const patches = writes.patches.get(index) ?? [];
        const plain = Buffer.alloc(Math.max(old.length, ...patches.map((p) => p.at + p.bytes.length)));
        old.copy(plain);
        for (const p of patches) p.bytes.copy(plain, p.at);
        stored.push({ index, length: plain.length, ...(await this.#chunks.store(plain)) });
      }));
      const set = new Map<number, ChunkRef | null>([...stored, ...writes.sealed.values()].map((c) => [c.index, c]));
      published = await this.#publishChunks(address, { base, inline, fat, set, patched: sorted, existing, end: writes.end, mtimeMs: writes.mtimeMs }, check, garbage);
      return published;
    } finally {
      // A lost attempt's chunks and index blocks are referenced by nothing: free them now rather than leave them to the collector.
      if (published === undefined) await this.#chunks.remove([...stored, ...garbage.created].map((r) => r.address));
    }
  }

  async #publishChunks(
    address: Address,
    plan: { base: FileInode; inline: Buffer | undefined; fat: Fat; set: Map<number, ChunkRef | null>; patched: readonly number[]; existing: Map<number, ChunkRef>; end: number; mtimeMs: number },
    check: (inode: Inode) => FileInode, garbage: FatGarbage,
  ): Promise<Published | undefined> {
    const { base, inline, fat, set } = plan;
    const cb = fat.chunkBytes;
    const baseIdentity = inline !== undefined ? undefined : fatIdentity(fat);
    const inlineList = fat.kind === 'chunks' && inline === undefined && updateInlineChunks(fat.chunks, { set }).length <= this.#limits.fatInlineChunksMax;
    const nextFat = inlineList ? undefined : await updateFat(this.#chunks, this.#limits, fat, { set }, garbage);
    let replaced: readonly SealedRef[] = [];
    const done = await this.#inodes.update(address, (inode) => {
      const current = check(inode);
      let next: Fat;
      if (nextFat === undefined) {
        // An inline FAT merges with concurrent writes to other chunks: only the chunks patched here must be unchanged.
        if (current.data.kind !== 'fat' || current.data.fat.kind !== 'chunks' || current.data.fat.chunkBytes !== cb) return new ShoalError('Conflict', STALE_SNAPSHOT);
        const now = new Map(current.data.fat.chunks.map((c) => [c.index, c]));
        if (plan.patched.some((i) => !sameRef(now.get(i), plan.existing.get(i)))) return new ShoalError('Conflict', STALE_SNAPSHOT);
        const chunks = updateInlineChunks(current.data.fat.chunks, { set });
        if (chunks.length > this.#limits.fatInlineChunksMax) return new ShoalError('Conflict', STALE_SNAPSHOT);
        replaced = replacedInline(current.data.fat.chunks, { set });
        next = { kind: 'chunks', chunkBytes: cb, chunks };
      } else {
        const same = current.data.kind === 'inline'
          ? inline !== undefined && current.data.bytes.equals(inline) && current.size === base.size
          : baseIdentity !== undefined && fatIdentity(current.data.fat) === baseIdentity;
        if (!same) return new ShoalError('Conflict', STALE_SNAPSHOT);
        replaced = [...garbage.chunks, ...garbage.nodes];
        next = nextFat;
      }
      return { ...current, data: { kind: 'fat', fat: next }, size: Math.max(current.size, plan.end), mtimeMs: plan.mtimeMs, ctimeMs: plan.mtimeMs };
    }).catch(retryIfStale);
    return done === undefined ? undefined : { done, garbage: unreferenced(replaced, set) };
  }

  /** Sets the size: down drops chunks and shortens the last one's length (no rewrite), up leaves a hole. */
  async truncate(address: Address, size: number, nowMs: number, check: (inode: Inode) => FileInode): Promise<Published> {
    for (let attempt = 0; attempt <= this.#limits.conflictRetriesMax; attempt++) {
      const published = await this.#truncateOnce(address, size, nowMs, check).catch(retryIfStale);
      if (published !== undefined) return published;
    }
    throw new ShoalError('Conflict', `file ${address.toString('hex')} kept changing under the truncate`, { subject: 'inode' });
  }

  async #truncateOnce(address: Address, size: number, nowMs: number, check: (inode: Inode) => FileInode): Promise<Published | undefined> {
    const base = check((await this.#inodes.read(address)).inode);
    const tree = base.data.kind === 'fat' && base.data.fat.kind === 'tree' && size > 0 ? base.data.fat : undefined;
    const garbage = newFatGarbage();
    const nextFat = tree === undefined ? undefined : await updateFat(this.#chunks, this.#limits, tree, await this.#cut(tree, size), garbage);
    let dropped: FileData | undefined;
    let replaced: readonly SealedRef[] = [];
    const done = await this.#inodes.update(address, (inode) => {
      const current = check(inode);
      const stamp = { size, mtimeMs: nowMs, ctimeMs: nowMs };
      dropped = undefined;
      replaced = [];
      if (size === 0) {
        dropped = current.data;
        return { ...current, ...stamp, data: { kind: 'inline', bytes: Buffer.alloc(0) } };
      }
      if (current.data.kind === 'inline') return { ...current, ...stamp, data: { kind: 'inline', bytes: current.data.bytes.subarray(0, size) } };
      const fat = current.data.fat;
      if (fat.kind === 'chunks') {
        replaced = fat.chunks.filter((c) => c.index * fat.chunkBytes >= size);
        return { ...current, ...stamp, data: { kind: 'fat', fat: { ...fat, chunks: cutInline(fat.chunks, fat.chunkBytes, size) } } };
      }
      if (tree === undefined || nextFat === undefined || fatIdentity(fat) !== fatIdentity(tree)) return new ShoalError('Conflict', STALE_SNAPSHOT);
      replaced = [...garbage.chunks, ...garbage.nodes];
      return { ...current, ...stamp, data: { kind: 'fat', fat: nextFat } };
    }).catch(async (err: unknown) => {
      await this.#chunks.remove(garbage.created.map((r) => r.address));
      throw err;
    });
    const all = dropped === undefined ? replaced : await this.blocksOf(dropped);
    return { done, garbage: all };
  }

  /** Every block a file's content references (what an unlinked file or a truncate to zero frees). */
  async blocksOf(data: FileData): Promise<SealedRef[]> {
    return data.kind === 'inline' ? [] : allBlocks(this.#chunks, this.#limits, data.fat);
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

/** What `replaced` holds that the new version does not reference again (a shortened chunk keeps its address). */
function unreferenced(replaced: readonly SealedRef[], set: ReadonlyMap<number, ChunkRef | null>): SealedRef[] {
  const kept = new Set([...set.values()].flatMap((c) => (c === null ? [] : [c.address.toString('hex')])));
  return replaced.filter((r) => !kept.has(r.address.toString('hex')));
}

function cutInline(chunks: readonly ChunkRef[], chunkBytes: number, size: number): ChunkRef[] {
  return chunks
    .filter((c) => c.index * chunkBytes < size)
    .map((c) => (c.index * chunkBytes + c.length > size ? { ...c, length: size - c.index * chunkBytes } : c));
}

function sameRef(a: ChunkRef | undefined, b: ChunkRef | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.address.equals(b.address) && a.length === b.length;
}

/**
 * A snapshot that went stale: the inode changed (Conflict from the update), or a chunk or index block of the snapshot
 * was freed by the writer that replaced it (NotFound for a block). Either way, start again from the current inode.
 */
function retryIfStale(err: unknown): undefined {
  if (isShoalError(err, 'Conflict') && err.message === STALE_SNAPSHOT) return undefined;
  if (isShoalError(err, 'NotFound') && err.subject === 'block') return undefined;
  throw err;
}
