// The in-memory block store for simulation: the LMDB store's semantics without a disk, held to the same contract.
import { assert } from '../base/assert.js';
import type { Address } from '../blocks/address.js';
import type { ContentBlock } from '../blocks/immutable.js';
import {
  chargedBytes, checkCapacityBytes, checkListOptions, checkStoreAddress, putRefusedError, refuseForSpace, storeClosedError,
  type BlockStore, type PutOutcome, type StoreItem, type StoreUsage,
} from './block-store.js';

/**
 * What survives a simulated restart: a store opened on the same disk finds the blocks the last one held.
 * Everything a put has resolved is on it: a memory store has no window between commit and flush.
 */
export class MemoryBlockDisk {
  /** Lower-case hex address → block. */
  readonly blocks = new Map<string, ContentBlock>();
  /** Lower-case hex address → the replica count stored with the block. */
  readonly replicas = new Map<string, number>();
}

export interface MemoryBlockStoreOptions {
  capacityBytes: number;
  disk?: MemoryBlockDisk;
}

export class MemoryBlockStore implements BlockStore {
  readonly #disk: MemoryBlockDisk;
  readonly #capacityBytes: number;
  /** Hex addresses in ascending order: for equal-length lower-case hex, string order is byte order. */
  readonly #sorted: string[];
  #usedBytes = 0;
  #closed = false;

  constructor(options: MemoryBlockStoreOptions) {
    checkCapacityBytes(options.capacityBytes);
    this.#capacityBytes = options.capacityBytes;
    this.#disk = options.disk ?? new MemoryBlockDisk();
    // Recounted on open, as the LMDB store does when its usage record is missing.
    for (const block of this.#disk.blocks.values()) this.#usedBytes += chargedBytes(block);
    this.#sorted = [...this.#disk.blocks.keys()].sort();
  }

  async putContent(address: Address, block: ContentBlock): Promise<void> {
    const [outcome] = await this.putContentMany([{ address, block }]);
    assert(outcome !== undefined, 'one outcome per item');
    if (!outcome.ok) throw putRefusedError(outcome);
  }

  async putContentMany(items: readonly StoreItem[]): Promise<PutOutcome[]> {
    this.#checkOpen();
    for (const item of items) checkStoreAddress(item.address);
    // Checked and charged before the first await, so racing puts see each other's bytes.
    return items.map((item) => this.#put(item));
  }

  replicasOf(address: Address): number | undefined {
    this.#checkOpen();
    checkStoreAddress(address);
    return this.#disk.replicas.get(hexOf(address));
  }

  getContent(address: Address): ContentBlock | undefined {
    this.#checkOpen();
    checkStoreAddress(address);
    const block = this.#disk.blocks.get(hexOf(address));
    return block === undefined ? undefined : copyBlock(block);
  }

  hasContent(address: Address): boolean {
    this.#checkOpen();
    checkStoreAddress(address);
    return this.#disk.blocks.has(hexOf(address));
  }

  async durable(): Promise<void> {
    // Nothing is between commit and disk here.
    this.#checkOpen();
  }

  async removeContent(address: Address): Promise<boolean> {
    this.#checkOpen();
    checkStoreAddress(address);
    const hex = hexOf(address);
    const block = this.#disk.blocks.get(hex);
    if (block === undefined) return false;
    this.#disk.blocks.delete(hex);
    this.#disk.replicas.delete(hex);
    const { index, found } = this.#find(hex);
    assert(found, 'every held block is in the sorted index');
    this.#sorted.splice(index, 1);
    this.#usedBytes -= chargedBytes(block);
    assert(this.#usedBytes >= 0, 'usage never goes below zero');
    return true;
  }

  listContent(options: { after?: Address; limit: number }): Address[] {
    this.#checkOpen();
    checkListOptions(options);
    let start = 0;
    if (options.after !== undefined) {
      const { index, found } = this.#find(hexOf(options.after));
      start = found ? index + 1 : index;
    }
    return this.#sorted.slice(start, start + options.limit).map((hex) => Buffer.from(hex, 'hex'));
  }

  usage(): StoreUsage {
    this.#checkOpen();
    return { blocks: this.#disk.blocks.size, usedBytes: this.#usedBytes, capacityBytes: this.#capacityBytes };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #put({ address, block, replicas }: StoreItem): PutOutcome {
    const hex = hexOf(address);
    if (this.#disk.blocks.has(hex)) return { ok: true };
    const bytes = chargedBytes(block);
    if (this.#usedBytes + bytes > this.#capacityBytes) {
      return refuseForSpace(address, bytes, this.#usedBytes, this.#capacityBytes);
    }
    // A copy, as LMDB makes one: the caller may reuse its buffers once the put resolves.
    this.#disk.blocks.set(hex, copyBlock(block));
    if (replicas !== undefined) this.#disk.replicas.set(hex, replicas);
    this.#sorted.splice(this.#find(hex).index, 0, hex);
    this.#usedBytes += bytes;
    return { ok: true };
  }

  /** Binary search: where `hex` is, or where it would go. */
  #find(hex: string): { index: number; found: boolean } {
    let low = 0;
    let high = this.#sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#sorted[middle] as string) < hex) low = middle + 1;
      else high = middle;
    }
    return { index: low, found: this.#sorted[low] === hex };
  }

  #checkOpen(): void {
    if (this.#closed) throw storeClosedError();
  }
}

function hexOf(address: Address): string {
  return address.toString('hex');
}

function copyBlock(block: ContentBlock): ContentBlock {
  return { owner: Buffer.from(block.owner), salt: Buffer.from(block.salt), data: Buffer.from(block.data) };
}
