// Writes gathered per file in the gateway (DESIGN §6): a write lands in memory as patches of its chunks; a chunk that
// becomes fully written is sealed and stored at once, in parallel with the writer; a commit (NFS COMMIT, the end of an
// S3 PUT, a close) hands everything to FileContent, which publishes one inode version. Until then only this gateway
// sees the data (reads overlay it); the buffered bytes are bounded per file and in total, past which the gateway
// commits on its own. Writes and commits of one file are serialised here; different files proceed in parallel.
import { isShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import type { ChunkStore } from './chunk-store.js';
import type { GatheredWrites, Patch } from './file-content.js';
import type { ChunkRef } from './fat-record.js';
import type { FsLimits } from './fs-limits.js';

/** Past this many patches a chunk's patches are merged into one per covered run (many tiny writes, one chunk). */
const PATCHES_PER_CHUNK_MAX = 16;

interface GatherChunk {
  patches: Patch[];
  /** Disjoint sorted runs [from, to) of the chunk that patches cover. */
  covered: Array<[number, number]>;
  /** A full chunk being stored; resolves undefined if the store failed (its bytes are back in `patches`). */
  sealed: Promise<ChunkRef | undefined> | undefined;
  /** Written again after it was sealed: stored at the commit rather than once per rewrite. */
  resealAtCommit: boolean;
}

interface GatherFile {
  readonly chunkBytes: number;
  readonly chunks: Map<number, GatherChunk>;
  end: number;
  mtimeMs: number;
  /** Patch bytes plus chunks being sealed: what this file holds in memory. */
  bytes: number;
  /** Sealed chunks a later write replaced before any commit: freed once the commit is published. */
  readonly superseded: ChunkRef[];
}

/** The size and time a file shows to this gateway's callers while writes are gathered. */
export interface GatheredView {
  readonly end: number;
  readonly mtimeMs: number;
}

export interface WriteGatherOptions {
  readonly chunks: ChunkStore;
  readonly limits: FsLimits;
  /** Publishes gathered writes as one inode version and frees what it replaced; throws to keep them gathered. */
  readonly publish: (address: Address, writes: GatheredWrites) => Promise<void>;
}

export class WriteGather {
  readonly #chunks: ChunkStore;
  readonly #limits: FsLimits;
  readonly #publish: (address: Address, writes: GatheredWrites) => Promise<void>;
  readonly #files = new Map<string, GatherFile>();
  readonly #locks = new Map<string, Promise<void>>();
  #bytes = 0;

  constructor(options: WriteGatherOptions) {
    this.#chunks = options.chunks;
    this.#limits = options.limits;
    this.#publish = options.publish;
  }

  /** Bytes buffered over all files. */
  get bytes(): number {
    return this.#bytes;
  }

  view(address: Address): GatheredView | undefined {
    const file = this.#files.get(address.toString('hex'));
    return file === undefined ? undefined : { end: file.end, mtimeMs: file.mtimeMs };
  }

  /** Buffers a write; `chunkBytes` is the file's chunk size (its FAT's, or the volume's for an inline file). */
  async write(address: Address, offset: number, data: Buffer, options: { chunkBytes: number; mtimeMs: number }): Promise<void> {
    // Over the total bound: commit the fullest file first (outside this file's lock, so two writers never wait on each other).
    while (this.#bytes + data.length > this.#limits.gatherBytesMax && this.#files.size > 0) {
      const [fullest] = [...this.#files].sort(([, a], [, b]) => b.bytes - a.bytes)[0] as [string, GatherFile];
      await this.commit(Buffer.from(fullest, 'hex'));
    }
    const key = address.toString('hex');
    await this.#locked(key, async () => {
      let file = this.#files.get(key);
      if (file === undefined) {
        file = { chunkBytes: options.chunkBytes, chunks: new Map(), end: 0, mtimeMs: options.mtimeMs, bytes: 0, superseded: [] };
        this.#files.set(key, file);
      }
      // The caller's buffer may be reused for the next request: keep a copy.
      await this.#add(file, offset, Buffer.from(data));
      file.end = Math.max(file.end, offset + data.length);
      file.mtimeMs = options.mtimeMs;
      const sealed = [...file.chunks.values()].filter((c) => c.sealed !== undefined).length;
      if (file.bytes > this.#limits.gatherBytesPerFileMax || sealed > this.#limits.gatherChunksPerFileMax) await this.#commitLocked(address, key);
    });
  }

  /** Publishes what is gathered for the file (nothing to do when nothing is); on failure the writes stay gathered. */
  commit(address: Address): Promise<void> {
    const key = address.toString('hex');
    return this.#locked(key, () => this.#commitLocked(address, key));
  }

  /** Commits every file (a gateway shutting down, a sync). */
  async commitAll(): Promise<void> {
    await Promise.all([...this.#files.keys()].map((key) => this.commit(Buffer.from(key, 'hex'))));
  }

  /** Drops a file's gathered writes (its last link is gone) and frees the chunks already sealed for it. */
  async discard(address: Address): Promise<void> {
    const key = address.toString('hex');
    await this.#locked(key, async () => {
      const file = this.#files.get(key);
      if (file === undefined) return;
      const sealed = await Promise.all([...file.chunks.values()].map((c) => c.sealed));
      this.#forget(key, file);
      await this.#chunks.remove([...sealed, ...file.superseded].flatMap((r) => (r === undefined ? [] : [r.address])));
    });
  }

  /** Copies the gathered bytes of [offset, offset + out.length) over `out` (which holds the committed bytes). */
  async overlay(address: Address, offset: number, out: Buffer): Promise<void> {
    const file = this.#files.get(address.toString('hex'));
    if (file === undefined || out.length === 0) return;
    const cb = file.chunkBytes;
    const first = Math.floor(offset / cb);
    const last = Math.floor((offset + out.length - 1) / cb);
    await Promise.all([...file.chunks].filter(([index]) => index >= first && index <= last).map(async ([index, chunk]) => {
      const start = index * cb;
      const ref = await chunk.sealed;
      if (ref !== undefined) copyWithin(out, offset, start, (await this.#chunks.load(ref)).subarray(0, ref.length));
      for (const patch of chunk.patches) copyWithin(out, offset, start + patch.at, patch.bytes);
    }));
  }

  async #add(file: GatherFile, offset: number, data: Buffer): Promise<void> {
    const cb = file.chunkBytes;
    const end = offset + data.length;
    for (let index = Math.floor(offset / cb); index * cb < end; index++) {
      const start = index * cb;
      const from = Math.max(offset, start) - start;
      const to = Math.min(end, start + cb) - start;
      let chunk = file.chunks.get(index);
      if (chunk === undefined) {
        chunk = { patches: [], covered: [], sealed: undefined, resealAtCommit: false };
        file.chunks.set(index, chunk);
      }
      const whole = from === 0 && to === cb;
      if (chunk.sealed !== undefined) {
        const ref = await chunk.sealed;
        // A partial rewrite of a sealed chunk needs its bytes under the patch (loaded before the chunk changes, so a
        // concurrent read sees the sealed bytes or the patches, never neither).
        const under = ref === undefined || whole ? undefined : Buffer.from((await this.#chunks.load(ref)).subarray(0, ref.length));
        chunk.sealed = undefined;
        if (ref !== undefined) file.superseded.push(ref);
        if (under !== undefined) {
          this.#push(file, chunk, { at: 0, bytes: under });
          chunk.resealAtCommit = true;
        }
      }
      if (whole) {
        this.#clear(file, chunk);
        chunk.resealAtCommit = false;
      }
      this.#push(file, chunk, { at: from, bytes: data.subarray(from + start - offset, to + start - offset) });
      if (chunk.patches.length > PATCHES_PER_CHUNK_MAX) this.#compact(file, chunk);
      if (isFull(chunk, cb) && !chunk.resealAtCommit) this.#seal(file, index, chunk);
    }
  }

  #push(file: GatherFile, chunk: GatherChunk, patch: Patch): void {
    chunk.patches.push(patch);
    chunk.covered = cover(chunk.covered, patch.at, patch.at + patch.bytes.length);
    file.bytes += patch.bytes.length;
    this.#bytes += patch.bytes.length;
  }

  #clear(file: GatherFile, chunk: GatherChunk): void {
    const bytes = chunk.patches.reduce((sum, p) => sum + p.bytes.length, 0);
    file.bytes -= bytes;
    this.#bytes -= bytes;
    chunk.patches = [];
    chunk.covered = [];
  }

  /** Merges a chunk's patches into one per covered run (same bytes, fewer and no overlapping patches). */
  #compact(file: GatherFile, chunk: GatherChunk): void {
    const plain = Buffer.alloc(file.chunkBytes);
    for (const p of chunk.patches) p.bytes.copy(plain, p.at);
    const before = chunk.patches.reduce((sum, p) => sum + p.bytes.length, 0);
    chunk.patches = chunk.covered.map(([from, to]) => ({ at: from, bytes: Buffer.from(plain.subarray(from, to)) }));
    const saved = before - chunk.patches.reduce((sum, p) => sum + p.bytes.length, 0);
    file.bytes -= saved;
    this.#bytes -= saved;
  }

  /** A full chunk is sealed and stored now, not at the commit: a sequential writer's chunks go out in parallel with it. */
  #seal(file: GatherFile, index: number, chunk: GatherChunk): void {
    const plain = Buffer.alloc(file.chunkBytes);
    for (const p of chunk.patches) p.bytes.copy(plain, p.at);
    const patches = chunk.patches;
    const held = patches.reduce((sum, p) => sum + p.bytes.length, 0);
    chunk.patches = [];
    chunk.covered = [];
    // The chunk's bytes stay counted until they are stored: the bound covers memory, not just patches.
    file.bytes += plain.length - held;
    this.#bytes += plain.length - held;
    const sealing = this.#chunks.store(plain).then(
      (ref): ChunkRef => ({ index, length: plain.length, ...ref }),
      (): undefined => {
        // Not stored: the bytes go back to patches, and the commit stores them (or reports the error).
        if (chunk.sealed === sealing) {
          chunk.sealed = undefined;
          chunk.patches = [{ at: 0, bytes: plain }];
          chunk.covered = [[0, plain.length]];
          chunk.resealAtCommit = true;
          file.bytes += plain.length;
          this.#bytes += plain.length;
        }
        return undefined;
      },
    ).finally(() => {
      file.bytes -= plain.length;
      this.#bytes -= plain.length;
    });
    chunk.sealed = sealing;
  }

  async #commitLocked(address: Address, key: string): Promise<void> {
    const file = this.#files.get(key);
    if (file === undefined) return;
    const sealed = new Map<number, ChunkRef>();
    const patches = new Map<number, Patch[]>();
    for (const [index, chunk] of file.chunks) {
      const ref = await chunk.sealed;
      if (ref !== undefined) sealed.set(index, ref);
      if (chunk.patches.length > 0) patches.set(index, chunk.patches);
    }
    try {
      await this.#publish(address, { chunkBytes: file.chunkBytes, end: file.end, mtimeMs: file.mtimeMs, sealed, patches });
    } catch (err) {
      // The inode is gone (removed elsewhere): nothing will ever publish these writes.
      if (isShoalError(err, 'NotFound') && err.subject === 'inode') {
        this.#forget(key, file);
        await this.#chunks.remove([...sealed.values(), ...file.superseded].map((r) => r.address));
      }
      throw err;
    }
    this.#forget(key, file);
    await this.#chunks.remove(file.superseded.map((r) => r.address));
  }

  #forget(key: string, file: GatherFile): void {
    if (this.#files.get(key) !== file) return;
    this.#files.delete(key);
    for (const chunk of file.chunks.values()) for (const p of chunk.patches) this.#bytes -= p.bytes.length;
    for (const chunk of file.chunks.values()) chunk.patches = [];
  }

  async #locked<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#locks.set(key, tail);
    await previous;
    try {
      return await run();
    } finally {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }
}

function isFull(chunk: GatherChunk, chunkBytes: number): boolean {
  const [run] = chunk.covered;
  return chunk.covered.length === 1 && run !== undefined && run[0] === 0 && run[1] === chunkBytes;
}

/** The runs with [from, to) added, merged and sorted. */
function cover(runs: ReadonlyArray<[number, number]>, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = from;
  let end = to;
  for (const [a, b] of runs) {
    if (b < start || a > end) out.push([a, b]);
    else {
      start = Math.min(start, a);
      end = Math.max(end, b);
    }
  }
  out.push([start, end]);
  return out.sort((x, y) => x[0] - y[0]);
}

/** Copies `bytes`, which sit at file offset `at`, into `out`, which holds the file from `offset`. */
function copyWithin(out: Buffer, offset: number, at: number, bytes: Buffer): void {
  const from = Math.max(offset, at);
  const to = Math.min(offset + out.length, at + bytes.length);
  if (from < to) bytes.copy(out, from - offset, from - at, to - at);
}
