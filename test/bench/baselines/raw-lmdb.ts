// Raw lmdb-js baseline: put and get of same-sized values in one temporary environment, a put acknowledged only
// once flushed, the same rule the storage nodes follow; what the cluster's figures are divided by.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { Random } from '../../../storage-node/base/random.js';
import { sha256 } from '../../../storage-node/blocks/address.js';
import { measureLoad, type LoadOptions, type Measurement } from '../measure.js';

export class RawLmdb {
  readonly #directory: string;
  readonly #db: RootDatabase<Buffer, Buffer>;
  /** Keys stored so far, per value size, for the random gets. */
  readonly #stored = new Map<number, Buffer[]>();
  #nextKey = 0;

  private constructor(directory: string, db: RootDatabase<Buffer, Buffer>) {
    this.#directory = directory;
    this.#db = db;
  }

  static async open(): Promise<RawLmdb> {
    const directory = await mkdtemp(join(tmpdir(), 'shoal-bench-lmdb-'));
    // Defaults otherwise, as a user of lmdb-js would start: overlappingSync on (Linux), no noSync, msgpack values.
    return new RawLmdb(directory, open<Buffer, Buffer>({ path: directory, keyEncoding: 'binary' }));
  }

  /**
   * Puts `payloads[i % n]` under a fresh 32-byte hash key (keys spread like block addresses, so inserts land all
   * over the B-tree). Each put resolves only after `db.flushed`: with overlappingSync the commit comes before the fsync.
   */
  put(name: string, payloads: readonly Buffer[], options: LoadOptions): Promise<Measurement> {
    const size = payloadSize(payloads);
    const stored = this.#storedOf(size);
    return measureLoad(name, size, async (index) => {
      const key = sha256(Buffer.from(`raw-lmdb/${this.#nextKey++}`));
      await this.#db.put(key, payloads[index % payloads.length] as Buffer);
      await this.#db.flushed;
      stored.push(key);
    }, options);
  }

  /** Gets of uniformly random keys among those `put` stored at this size; every value is checked for its length. */
  get(name: string, size: number, random: Random, options: LoadOptions): Promise<Measurement> {
    const stored = this.#storedOf(size);
    if (stored.length === 0) throw new Error(`raw LMDB get ${size}: nothing stored at that size yet`);
    return measureLoad(name, size, async () => {
      const value = this.#db.get(stored[random.int(stored.length)] as Buffer);
      if (!Buffer.isBuffer(value) || value.length !== size) throw new Error(`raw LMDB get ${size}: got ${String(value)}`);
    }, options);
  }

  async close(): Promise<void> {
    await this.#db.close();
    await rm(this.#directory, { recursive: true, force: true });
  }

  #storedOf(size: number): Buffer[] {
    let stored = this.#stored.get(size);
    if (!stored) this.#stored.set(size, (stored = []));
    return stored;
  }
}

function payloadSize(payloads: readonly Buffer[]): number {
  const size = payloads[0]?.length;
  if (size === undefined || payloads.some((p) => p.length !== size)) throw new Error('payloads must be non-empty and of one size');
  return size;
}
