// Sealed content blocks for chunks and FAT index blocks: each sealed with its own data key (AES-256-GCM), which is
// kept only in the reference to it, so storage nodes hold ciphertext they cannot open. Loads go through the chunk
// cache, and concurrent loads of one block (a reader and the read-ahead) share one fetch.
import type { Address } from '../../storage-node/blocks/address.js';
import { newDataKey, openData, sealData } from '../../storage-node/blocks/seal.js';
import { ChunkCache } from './chunk-cache.js';
import type { SealedRef } from './fat-record.js';
import type { FsBlocks } from './fs-blocks.js';

export class ChunkStore {
  readonly #blocks: FsBlocks;
  readonly cache: ChunkCache;
  readonly #loading = new Map<string, Promise<Buffer>>();

  constructor(blocks: FsBlocks, options: { cacheBytesMax: number }) {
    this.#blocks = blocks;
    this.cache = new ChunkCache({ bytesMax: options.cacheBytesMax });
  }

  async store(plaintext: Buffer): Promise<SealedRef> {
    const key = newDataKey(this.#blocks.entropy);
    const address = await this.#blocks.putContent(sealData(key, plaintext, this.#blocks.entropy));
    // Written data is often read back soon (read-your-writes, a reader right behind a writer).
    this.cache.set(address, plaintext);
    return { address, key };
  }

  /** The plaintext, shared with the cache: read it, never write into it. */
  load(ref: SealedRef): Promise<Buffer> {
    const cached = this.cache.get(ref.address);
    if (cached !== undefined) return Promise.resolve(cached);
    const key = ref.address.toString('hex');
    const inFlight = this.#loading.get(key);
    if (inFlight !== undefined) return inFlight;
    const loading = this.#blocks.getContent(ref.address).then((sealed) => {
      const plain = openData(ref.key, sealed);
      this.cache.set(ref.address, plain);
      return plain;
    }).finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  /** Starts loads without waiting (read-ahead); a failure here is the later reader's to see. */
  prefetch(refs: readonly SealedRef[]): void {
    for (const ref of refs) {
      if (this.cache.has(ref.address) || this.#loading.has(ref.address.toString('hex'))) continue;
      this.load(ref).catch(() => undefined);
    }
  }

  /** Frees blocks nothing references any more (signed removes); a failure leaves them to the background collector. */
  async remove(addresses: readonly Address[]): Promise<number> {
    const unique = new Map(addresses.map((a) => [a.toString('hex'), a]));
    const results = await Promise.allSettled([...unique.values()].map(async (address) => {
      this.cache.delete(address);
      await this.#blocks.removeContent(address);
    }));
    return results.filter((r) => r.status === 'fulfilled').length;
  }
}
