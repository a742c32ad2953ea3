// A bounded LRU of plaintext chunks and FAT index blocks by content address: immutable blocks, so an entry never needs
// revalidating and stays until memory pressure evicts it (DESIGN §6: "chunks are cached forever, by address").
import type { Address } from '../../storage-node/blocks/address.js';

export class ChunkCache {
  readonly #bytesMax: number;
  // A Map iterates in insertion order: re-inserting on every hit makes the first key the least recently used.
  readonly #entries = new Map<string, Buffer>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(options: { bytesMax: number }) {
    this.#bytesMax = options.bytesMax;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether the block is cached, without counting a hit or refreshing its place. */
  has(address: Address): boolean {
    return this.#entries.has(address.toString('hex'));
  }

  /** The plaintext, shared: callers read it and never write into it. */
  get(address: Address): Buffer | undefined {
    const key = address.toString('hex');
    const plain = this.#entries.get(key);
    if (plain === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#entries.delete(key);
    this.#entries.set(key, plain);
    return plain;
  }

  set(address: Address, plain: Buffer): void {
    // A chunk larger than an eighth of the cache would evict most of it for one reader: not worth keeping.
    if (plain.length * 8 > this.#bytesMax) return;
    const key = address.toString('hex');
    this.delete(address);
    this.#entries.set(key, plain);
    this.#bytes += plain.length;
    for (const [oldest, bytes] of this.#entries) {
      if (this.#bytes <= this.#bytesMax) break;
      this.#entries.delete(oldest);
      this.#bytes -= bytes.length;
    }
  }

  delete(address: Address): void {
    const key = address.toString('hex');
    const plain = this.#entries.get(key);
    if (plain === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= plain.length;
  }
}
