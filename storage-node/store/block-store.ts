// The block store contract: LMDB in production, memory in simulation; both pass test/contract/block-store.contract.ts.
import { BLOCK_ADDRESS_BYTES } from '../base/limits.js';
import { ShoalError } from '../base/errors.js';
import { formatBytes } from '../base/units.js';
import type { Address } from '../blocks/address.js';
import type { ContentBlock } from '../blocks/immutable.js';

export interface StoreUsage {
  readonly blocks: number;
  /** Bytes charged against capacity: owner + salt + data of every block held. */
  readonly usedBytes: number;
  readonly capacityBytes: number;
}

/**
 * Holds content blocks for one storage node. The caller has verified each block against its address
 * (verifyContentBlock) and checked removal signatures; the store itself checks only that an address is 32 bytes.
 * The store keeps its own copies: buffers passed in may be reused by the caller, and buffers handed out are the caller's.
 * After close(), every call throws ShoalError('Unavailable').
 */
export interface BlockStore {
  /**
   * Stores a content block; resolves only once it is durable (on disk, flushed).
   * Idempotent: storing a block already held resolves (also only once it is durable) without charging capacity again.
   * Throws ShoalError('NoSpace') when the block would take the store past its capacity; puts in flight count,
   * so racing puts never overcommit.
   */
  putContent(address: Address, block: ContentBlock): Promise<void>;
  /**
   * Stores many blocks in one transaction and one flush; each item settles on its own (NoSpace per item), in order.
   * `replicas`: how many copies the block's writer asked for (its volume's R), kept with the block for repair.
   */
  putContentMany(items: readonly StoreItem[]): Promise<PutOutcome[]>;
  /** The replica count stored with a block, undefined when it was stored without one (or is not held). */
  replicasOf(address: Address): number | undefined;
  /** Sees committed writes, which may be a moment from durable: only a resolved put or remove promises the disk. */
  getContent(address: Address): ContentBlock | undefined;
  hasContent(address: Address): boolean;
  /** Resolves once every write committed so far is on disk: what hasContent and getContent saw is then durable. */
  durable(): Promise<void>;
  /** Removes a block and releases its bytes; resolves once durable. Returns false when it was not held. */
  removeContent(address: Address): Promise<boolean>;
  /** Addresses in ascending byte order, from `after` (exclusive), at most `limit`: a resumable walk for repair. */
  listContent(options: { after?: Address; limit: number }): Address[];
  usage(): StoreUsage;
  /** Waits for writes in flight, then releases the store; calling it again does nothing. */
  close(): Promise<void>;
}

export interface StoreItem {
  readonly address: Address;
  readonly block: ContentBlock;
  readonly replicas?: number | undefined;
}

export type PutOutcome = { ok: true } | PutRefused;
export type PutRefused = { ok: false; kind: 'NoSpace'; message: string };

// The helpers below are shared by every store so that they charge, and refuse, alike.

/** What a block costs against capacity (see StoreUsage.usedBytes). */
export function chargedBytes(block: ContentBlock): number {
  return block.owner.length + block.salt.length + block.data.length;
}

/** The outcome of a put refused for space, with the numbers an operator needs to act on it. */
export function refuseForSpace(address: Address, blockBytes: number, usedBytes: number, capacityBytes: number): PutRefused {
  const message =
    `block ${address.toString('hex')}: no space: storing its ${blockBytes} bytes would take usage from ${usedBytes} ` +
    `to ${usedBytes + blockBytes} bytes, past the capacity of ${capacityBytes} bytes ` +
    `(${formatBytes(usedBytes)} used of ${formatBytes(capacityBytes)})`;
  return { ok: false, kind: 'NoSpace', message };
}

/** What putContent throws when its one item was refused. */
export function putRefusedError(outcome: PutRefused): ShoalError {
  return new ShoalError(outcome.kind, outcome.message, { subject: 'block' });
}

export function checkCapacityBytes(capacityBytes: number): void {
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
    throw new ShoalError('Invalid', `block store capacity must be a whole number of bytes, at least 0; got ${capacityBytes}`, { subject: 'config' });
  }
}

/** Blocks arrive from the wire; a wrong-sized address is bad input, not a broken invariant. */
export function checkStoreAddress(address: Address): void {
  if (!Buffer.isBuffer(address) || address.length !== BLOCK_ADDRESS_BYTES) {
    throw new ShoalError('Invalid', `a block address is ${BLOCK_ADDRESS_BYTES} bytes`, { subject: 'block' });
  }
}

export function checkListOptions(options: { after?: Address; limit: number }): void {
  if (!Number.isSafeInteger(options.limit) || options.limit < 0) {
    throw new ShoalError('Invalid', `a listing limit is a whole number, at least 0; got ${options.limit}`, { subject: 'block' });
  }
  if (options.after !== undefined) checkStoreAddress(options.after);
}

export function storeClosedError(): ShoalError {
  return new ShoalError('Unavailable', 'the block store is closed', { subject: 'node' });
}
