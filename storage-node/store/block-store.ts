// The block store contract: LMDB in production, memory in simulation; both pass test/contract/block-store.contract.ts.
import type { Address } from '../blocks/address.js';
import type { ContentBlock } from '../blocks/immutable.js';

export interface StoreUsage {
  readonly blocks: number;
  /** Bytes charged against capacity: owner + salt + data of every block held. */
  readonly usedBytes: number;
  readonly capacityBytes: number;
}

export interface BlockStore {
  /**
   * Stores a content block; resolves only once it is durable (on disk, flushed).
   * Idempotent: storing a block already held resolves without charging capacity again.
   * Throws ShoalError('NoSpace') when the block would take the store past its capacity.
   * The caller has verified the block against its address.
   */
  putContent(address: Address, block: ContentBlock): Promise<void>;
  /** Stores many blocks in one transaction and one flush; each item settles on its own (NoSpace per item). */
  putContentMany(items: readonly { address: Address; block: ContentBlock }[]): Promise<PutOutcome[]>;
  getContent(address: Address): ContentBlock | undefined;
  hasContent(address: Address): boolean;
  /** Removes a block and releases its bytes; resolves once durable. Returns false when it was not held. */
  removeContent(address: Address): Promise<boolean>;
  /** Addresses in ascending order, from `after` (exclusive), at most `limit`: a resumable walk for repair. */
  listContent(options: { after?: Address; limit: number }): Address[];
  usage(): StoreUsage;
  close(): Promise<void>;
}

export type PutOutcome = { ok: true } | { ok: false; kind: 'NoSpace'; message: string };
