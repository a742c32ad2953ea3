// The production block store: content blocks in LMDB, each put or remove acknowledged only once it is on disk.
import { open, type Database, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { assert } from '../base/assert.js';
import { isShoalError } from '../base/errors.js';
import { silentLogger, type Logger } from '../base/log.js';
import type { Address } from '../blocks/address.js';
import type { ContentBlock } from '../blocks/immutable.js';
import {
  chargedBytes, checkCapacityBytes, checkListOptions, checkStoreAddress, putRefusedError, refuseForSpace, storeClosedError,
  type BlockStore, type PutOutcome, type StoreItem, type StoreUsage,
} from './block-store.js';
import { lmdbCommitted } from './lmdb-commit.js';

/** Where things live in the environment. Exported for tests and offline tools only. */
export const LMDB_BLOCK_STORE_LAYOUT = {
  /** address (32 bytes) → msgpack [format, owner, salt, data] */
  contentDb: 'content',
  /** usageKey → msgpack { usedBytes, blocks }, changed in the same transaction as every put and remove */
  metaDb: 'meta',
  usageKey: 'usage',
  blockFormat: 1,
} as const;
const { contentDb, metaDb, usageKey, blockFormat } = LMDB_BLOCK_STORE_LAYOUT;

export interface LmdbBlockStoreOptions {
  path: string;
  capacityBytes: number;
  log?: Logger;
}

export interface LmdbBlockStore extends BlockStore {
  /** Id of the last committed LMDB transaction: a commit counter, for metrics and for tests of batching. */
  lastTransactionId(): number;
}

/** The two lmdb-js facilities a durable write needs, narrowed so that a test can stand in for them. */
export interface TransactionalDb {
  childTransaction<T>(action: () => T): Promise<T>;
  readonly flushed: PromiseLike<unknown>;
}

/**
 * Runs `action` in a write transaction and resolves once that transaction is on disk.
 * lmdb-js promises only that a transaction's promise resolves when it commits; with overlappingSync (the default on
 * Linux) the fsync may come afterwards, and `db.flushed` is the promise for it. (Traced with lmdb 3.5.6, the commit
 * promise happened to resolve after the fdatasync; nothing promises that, so we await the flush.) `flushed` is looked up when its `then` is called and names
 * the flush of the transaction being filled at that moment, so we call `then` right after enqueuing, in the same
 * turn, before anything else can start a newer transaction. Transactions enqueued in one event turn share one
 * commit and one flush, so concurrent puts do not each pay for an fsync. Without overlappingSync (Windows), a commit
 * is already on disk and `flushed` falls back to the commit.
 * A child transaction, so that an exception in `action` rolls back its writes and only its writes.
 */
export async function durableTransaction<T>(db: TransactionalDb, action: () => T): Promise<T> {
  const committed = db.childTransaction(action);
  const flushed = db.flushed.then(() => undefined);
  const [result] = await lmdbCommitted(Promise.all([committed, flushed]), 'blocks');
  return result;
}

interface Usage {
  usedBytes: number;
  blocks: number;
}

// Plain msgpack (no record structures): a value decodes on its own, with no shared state kept in the database.
const packr = new Packr({ useRecords: false });

export async function openLmdbBlockStore(options: LmdbBlockStoreOptions): Promise<LmdbBlockStore> {
  checkCapacityBytes(options.capacityBytes);
  // overlappingSync stays at its default and noSync is never set: durability comes from awaiting the flush.
  // (Garage's LMDB corruption after power loss came from running without sync.)
  const root = open({ path: options.path, maxDbs: 4 });
  try {
    const content = root.openDB<Buffer, Buffer>({ name: contentDb, keyEncoding: 'binary', encoding: 'binary' });
    const meta = root.openDB<Buffer, string>({ name: metaDb, encoding: 'binary' });
    const log = options.log ?? silentLogger;
    await checkUsage(content, meta, log);
    return new LmdbStore(root, content, meta, options.capacityBytes, log);
  } catch (err) {
    await root.close();
    throw err;
  }
}

/**
 * The usage record changes in the same transaction as the blocks, so it should never drift; still, a store whose
 * record is missing (a new store) or whose block count disagrees with LMDB's own count is recounted from the blocks.
 * Comparing counts is O(1); a full recount reads every block, so it is kept for when the cheap check fails.
 */
async function checkUsage(content: Database<Buffer, Buffer>, meta: Database<Buffer, string>, log: Logger): Promise<void> {
  const stored = readUsage(meta);
  const { entryCount } = content.getStats() as { entryCount: number };
  if (stored !== undefined && stored.blocks === entryCount) return;
  const usage = await durableTransaction(content, () => {
    const counted: Usage = { usedBytes: 0, blocks: 0 };
    for (const { key, value } of content.getRange({})) {
      counted.usedBytes += storedBlockBytes(key, value);
      counted.blocks++;
    }
    meta.putSync(usageKey, packr.pack(counted));
    return counted;
  });
  if (stored !== undefined || usage.blocks > 0) {
    log.warn({ stored: stored ?? null, counted: usage }, 'block_store_usage_recounted');
  }
}

class LmdbStore implements LmdbBlockStore {
  readonly #root: RootDatabase;
  readonly #content: Database<Buffer, Buffer>;
  readonly #meta: Database<Buffer, string>;
  readonly #capacityBytes: number;
  readonly #log: Logger;
  /** How the last write begun ends: on disk, or refused (see durable). Replaced by each write, so it always settles. */
  #lastWrite: Promise<'durable' | 'refused'> = Promise.resolve('durable');
  /** Writes refused since the last one that was not: the log tells when refusals start and when they stop. */
  #refusedInARow = 0;
  #closed = false;

  constructor(root: RootDatabase, content: Database<Buffer, Buffer>, meta: Database<Buffer, string>, capacityBytes: number, log: Logger) {
    this.#root = root;
    this.#content = content;
    this.#meta = meta;
    this.#capacityBytes = capacityBytes;
    this.#log = log;
  }

  async putContent(address: Address, block: ContentBlock): Promise<void> {
    const [outcome] = await this.putContentMany([{ address, block }]);
    assert(outcome !== undefined, 'one outcome per item');
    if (!outcome.ok) throw putRefusedError(outcome);
  }

  async putContentMany(items: readonly StoreItem[]): Promise<PutOutcome[]> {
    this.#checkOpen();
    for (const item of items) checkStoreAddress(item.address);
    if (items.length === 0) return [];
    // Encode before the transaction: the write lock is held while the callback runs.
    const values = items.map((item) => encodeBlock(item.block, item.replicas));
    return this.#durably(() => {
      // Read inside the write transaction, after every earlier one: this is the reservation. Racing puts are
      // serialised here, each seeing the bytes the ones before it took, so together they cannot overcommit.
      const usage = this.#usage();
      const outcomes = items.map((item, index): PutOutcome => {
        if (this.#content.doesExist(item.address)) return { ok: true };
        const bytes = chargedBytes(item.block);
        if (usage.usedBytes + bytes > this.#capacityBytes) {
          return refuseForSpace(item.address, bytes, usage.usedBytes, this.#capacityBytes);
        }
        assert(this.#content.putSync(item.address, values[index] as Buffer), 'an unconditional put succeeds');
        usage.usedBytes += bytes;
        usage.blocks++;
        return { ok: true };
      });
      this.#writeUsage(usage);
      return outcomes;
    });
  }

  async durable(): Promise<void> {
    this.#checkOpen();
    // LMDB flushes in commit order, so the last write begun being on disk means every earlier one is. lmdb-js never
    // settles the flush of a commit the disk refused, hence this rather than its `flushed`; after a refusal, a commit
    // of our own (of the usage record alone) flushes everything before it, or is refused in turn.
    if ((await this.#lastWrite) === 'refused') await this.#durably(() => this.#writeUsage(this.#usage()));
  }

  replicasOf(address: Address): number | undefined {
    this.#checkOpen();
    checkStoreAddress(address);
    const stored = this.#content.getBinary(address);
    return stored === undefined ? undefined : decodeStored(address, stored).replicas;
  }

  getContent(address: Address): ContentBlock | undefined {
    this.#checkOpen();
    checkStoreAddress(address);
    // getBinary copies out of the map, so the decoded buffers (views of that copy) are the caller's.
    const stored = this.#content.getBinary(address);
    return stored === undefined ? undefined : decodeBlock(address, stored);
  }

  hasContent(address: Address): boolean {
    this.#checkOpen();
    checkStoreAddress(address);
    return this.#content.doesExist(address);
  }

  async removeContent(address: Address): Promise<boolean> {
    this.#checkOpen();
    checkStoreAddress(address);
    return this.#durably(() => {
      const usage = this.#usage();
      // A temporary view is enough: only the lengths are read, before the next get.
      const stored = this.#content.getBinaryFast(address);
      const held = stored !== undefined;
      if (held) {
        const bytes = storedBlockBytes(address, stored);
        assert(this.#content.removeSync(address), 'a held block can be removed');
        usage.usedBytes -= bytes;
        usage.blocks--;
        assert(usage.usedBytes >= 0 && usage.blocks >= 0, 'usage never goes below zero');
      }
      this.#writeUsage(usage);
      return held;
    });
  }

  listContent(options: { after?: Address; limit: number }): Address[] {
    this.#checkOpen();
    checkListOptions(options);
    if (options.limit === 0) return [];
    const range = options.after === undefined
      ? { limit: options.limit }
      : { start: options.after, exclusiveStart: true, limit: options.limit };
    return [...this.#content.getKeys(range)];
  }

  usage(): StoreUsage {
    this.#checkOpen();
    return { ...this.#usage(), capacityBytes: this.#capacityBytes };
  }

  lastTransactionId(): number {
    this.#checkOpen();
    return (this.#root.getStats() as { lastTxnId: number }).lastTxnId;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#root.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw storeClosedError();
  }

  /** A write the disk refused (full, failing) fails to its caller, and the node's log says so. */
  async #durably<T>(action: () => T): Promise<T> {
    const write = durableTransaction(this.#content, action);
    this.#lastWrite = write.then(() => 'durable', () => 'refused');
    try {
      const result = await write;
      if (this.#refusedInARow > 0) this.#log.info({ refused: this.#refusedInARow }, 'store.writes_resumed');
      this.#refusedInARow = 0;
      return result;
    } catch (err) {
      if (isShoalError(err, 'Unavailable') && this.#refusedInARow++ === 0) this.#log.error({ err: err.message }, 'store.write_failed');
      throw err;
    }
  }

  #usage(): Usage {
    const usage = readUsage(this.#meta);
    assert(usage !== undefined, 'the usage record is written when the store opens');
    return usage;
  }

  /**
   * Written by every write transaction, even when nothing changed. A transaction that writes nothing commits as
   * empty, and lmdb-js then resolves its `flushed` at once, without an fsync: a put of a block that an earlier,
   * committed but not yet flushed transaction stored would be acknowledged before that block is on disk.
   */
  #writeUsage(usage: Usage): void {
    assert(this.#meta.putSync(usageKey, packr.pack(usage)), 'an unconditional put succeeds');
  }
}

function readUsage(meta: Database<Buffer, string>): Usage | undefined {
  const stored = meta.getBinary(usageKey);
  if (stored === undefined) return undefined;
  const usage: unknown = packr.unpack(stored);
  const { usedBytes, blocks } = (usage ?? {}) as Partial<Usage>;
  assert(Number.isSafeInteger(usedBytes) && Number.isSafeInteger(blocks), 'the usage record holds two whole numbers');
  return { usedBytes: usedBytes as number, blocks: blocks as number };
}

/** [format, owner, salt, data] and, when the writer gave one, the replica count. */
function encodeBlock(block: ContentBlock, replicas: number | undefined): Buffer {
  const fields = [blockFormat, block.owner, block.salt, block.data];
  return packr.pack(replicas === undefined ? fields : [...fields, replicas]);
}

function decodeStored(address: Address, stored: Buffer): { block: ContentBlock; replicas: number | undefined } {
  const decoded: unknown = packr.unpack(stored);
  const valid = Array.isArray(decoded) && (decoded.length === 4 || (decoded.length === 5 && Number.isInteger(decoded[4]))) &&
    decoded[0] === blockFormat && Buffer.isBuffer(decoded[1]) && Buffer.isBuffer(decoded[2]) && Buffer.isBuffer(decoded[3]);
  // Only this module writes these values: anything else is corruption, not bad input.
  assert(valid, `block ${address.toString('hex')}: stored value is not a format ${blockFormat} content block`);
  const [, owner, salt, data, replicas] = decoded as [number, Buffer, Buffer, Buffer, number | undefined];
  return { block: { owner, salt, data }, replicas };
}

function decodeBlock(address: Address, stored: Buffer): ContentBlock {
  return decodeStored(address, stored).block;
}

function storedBlockBytes(address: Address, stored: Buffer): number {
  return chargedBytes(decodeBlock(address, stored));
}
