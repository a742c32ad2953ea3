// Where a node's Paxos acceptor states live: one record per block, written in group commits that resolve only
// once they are on disk (an acceptor answers nothing it has not made durable): first to a log, then into LMDB.
import { open, type Database, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { assert } from '../base/assert.js';
import { ShoalError } from '../base/errors.js';
import { AcceptorLog } from './acceptor-log.js';
import { lmdbCommitted } from './lmdb-commit.js';

/** `S` is the acceptor state; the store keeps it opaque (the consensus core owns its shape). */
export interface AcceptorStore<S> {
  load(block: string): S | undefined;
  /** Writes every entry in one transaction; resolves once it is durable (flushed, not just committed). */
  persist(entries: ReadonlyMap<string, S>): Promise<void>;
  /** Blocks with a state here, in key order, from `after` (exclusive): a resumable walk for repair. */
  listBlocks(options: { after?: string; limit: number }): string[];
  close(): Promise<void>;
}

// Plain msgpack: a record decodes on its own, with no shared structure definitions kept in the database.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface LmdbAcceptorStoreOptions {
  /** Size of the log made beside a new store (an existing log keeps its size). */
  readonly logBytes?: number;
  /** How long states may stay in the log alone before they are checkpointed into LMDB. */
  readonly checkpointMs?: number;
  /**
   * A background checkpoint failed (its states stay in the log and are tried again with the next one). Nothing is
   * lost, but a log that cannot be checkpointed cannot be reused: persists then wait, so an operator must hear of it.
   */
  readonly onCheckpointFailed?: (err: unknown) => void;
}

/** 16 MiB: thousands of group commits between two passes, while checkpoints come every fraction of a second. */
export const ACCEPTOR_LOG_BYTES_DEFAULT = 16 * 1024 * 1024;
const CHECKPOINT_MS_DEFAULT = 200;
/** In the `log` database: the LSN up to which every logged state is in LMDB (written with those states). */
const APPLIED_KEY = 'applied';

type Encoded = readonly (readonly [string, Buffer])[];

/**
 * The states live in LMDB (`<path>`), and each group commit is first one record of the log beside it
 * (`<path>.log`, see acceptor-log.ts), which is what `persist` waits for. Opening replays into LMDB what the log
 * holds beyond the last checkpoint.
 */
export async function openLmdbAcceptorStore<S>(path: string, options: LmdbAcceptorStoreOptions = {}): Promise<AcceptorStore<S>> {
  // Never noSync. Without overlappingSync, LMDB syncs inside the commit itself, so a commit that returns is on disk:
  // a checkpoint that resolves may let the log pass over what it wrote.
  const root: RootDatabase = open({ path, maxDbs: 2, overlappingSync: false });
  try {
    const db: Database<Buffer, string> = root.openDB({ name: 'acceptor', encoding: 'binary' });
    const logDb: Database<Buffer, string> = root.openDB({ name: 'log', encoding: 'binary' });
    const applied = readAppliedLsn(logDb);
    const { log, records } = AcceptorLog.open(`${path}.log`, options.logBytes ?? ACCEPTOR_LOG_BYTES_DEFAULT, applied);
    try {
      const replay = records.filter((record) => record.lsn > applied);
      const last = records.reduce((max, record) => Math.max(max, record.lsn), applied);
      if (replay.length > 0) {
        // Decoded first: what the catch below reports is the write alone.
        const entries = replay.flatMap((record) => decodeEntries(record.payload));
        try {
          db.transactionSync(() => {
            for (const [block, value] of entries) db.putSync(block, value);
            logDb.putSync(APPLIED_KEY, lsnBytes(last));
          });
        } catch (cause) {
          throw new ShoalError('Unavailable', `acceptor store ${path}: the ${replay.length} group commits its log holds beyond the last checkpoint `
            + `could not be written into LMDB (${cause instanceof Error ? cause.message : String(cause)}); is the disk full or failing? The log `
            + 'still holds them: start the node again once there is room.', { subject: 'node', cause });
        }
      }
      log.rewind(last + 1);
      return new LoggedAcceptorStore<S>(root, db, logDb, log, options.checkpointMs ?? CHECKPOINT_MS_DEFAULT, options.onCheckpointFailed ?? (() => {}));
    } catch (err) {
      log.close();
      throw err;
    }
  } catch (err) {
    await root.close();
    throw err;
  }
}

class LoggedAcceptorStore<S> implements AcceptorStore<S> {
  readonly #root: RootDatabase;
  readonly #db: Database<Buffer, string>;
  readonly #logDb: Database<Buffer, string>;
  readonly #log: AcceptorLog;
  readonly #checkpointMs: number;
  readonly #onCheckpointFailed: (err: unknown) => void;
  /** Logged, not yet handed to LMDB. */
  #pending = new Map<string, Buffer>();
  /** In the checkpoint under way, until it is durable. */
  #applying = new Map<string, Buffer>();
  #checkpointing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Persists that wait for a checkpoint (the log is full): every later one queues behind them, in order. */
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #closed = false;

  constructor(root: RootDatabase, db: Database<Buffer, string>, logDb: Database<Buffer, string>, log: AcceptorLog, checkpointMs: number, onCheckpointFailed: (err: unknown) => void) {
    this.#root = root;
    this.#db = db;
    this.#logDb = logDb;
    this.#log = log;
    this.#checkpointMs = checkpointMs;
    this.#onCheckpointFailed = onCheckpointFailed;
  }

  load(block: string): S | undefined {
    const stored = this.#pending.get(block) ?? this.#applying.get(block) ?? this.#db.getBinary(block);
    return stored === undefined ? undefined : (packr.unpack(stored) as S);
  }

  async persist(entries: ReadonlyMap<string, S>): Promise<void> {
    if (this.#closed) throw new Error('the acceptor store is closed');
    if (entries.size === 0) return;
    const encoded: Encoded = [...entries].map(([block, state]) => [block, packr.pack(state)] as const);
    const payload = packr.pack(encoded);
    // The fast path: written (and flushed) before this returns, as every reply waiting on it needs.
    if (this.#queued === 0 && this.#log.fits(payload.length)) return this.#append(encoded, payload);
    this.#queued++;
    const turn = this.#queue.then(async () => {
      if (this.#log.fits(payload.length)) return this.#append(encoded, payload);
      if (!this.#log.fitsEmpty(payload.length)) {
        // Larger than the whole log: straight into LMDB, after everything logged before it (a replay after a crash
        // must not put older states over it). Not in #pending: load() shows it only once LMDB has it on disk.
        await this.#checkpoint();
        await lmdbCommitted(this.#db.transaction(() => {
          for (const [block, value] of encoded) this.#db.putSync(block, value);
        }), 'acceptor states');
        return;
      }
      await this.#checkpoint();
      this.#log.rewind();
      this.#append(encoded, payload);
    }).finally(() => this.#queued--);
    this.#queue = turn.catch(() => {});
    return turn;
  }

  listBlocks(options: { after?: string; limit: number }): string[] {
    const range = options.after === undefined ? { limit: options.limit } : { start: options.after, exclusiveStart: true, limit: options.limit };
    const stored = [...this.#db.getKeys(range)];
    const { after } = options;
    const unstored = [...this.#pending.keys(), ...this.#applying.keys()].filter((key) => after === undefined || byUtf8(key, after) > 0);
    if (unstored.length === 0) return stored;
    // In LMDB's order (bytes of the UTF-8 key), which the next walk's `after` resumes from.
    return [...new Set([...stored, ...unstored])].sort(byUtf8).slice(0, options.limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      await this.#queue;
      await this.#checkpoint();
    } finally {
      this.#log.close();
      await this.#root.close();
    }
  }

  #append(encoded: Encoded, payload: Buffer): void {
    this.#log.append(payload);
    for (const [block, value] of encoded) this.#pending.set(block, value);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        // A failed checkpoint leaves its states pending: the next one (or the next pass) tries again.
        void this.#checkpoint().catch((err: unknown) => this.#onCheckpointFailed(err));
      }, this.#checkpointMs);
      this.#timer.unref();
    }
  }

  /** Writes every state logged so far into LMDB and resolves once that is durable (one at a time). */
  #checkpoint(): Promise<void> {
    const run = this.#checkpointing.catch(() => {}).then(async () => {
      if (this.#pending.size === 0) return;
      const batch = this.#pending;
      const lsn = this.#log.lastLsn;
      this.#pending = new Map();
      this.#applying = batch;
      try {
        await lmdbCommitted(this.#db.transaction(() => {
          for (const [block, value] of batch) this.#db.putSync(block, value);
          this.#logDb.putSync(APPLIED_KEY, lsnBytes(lsn));
        }), 'acceptor states');
      } catch (err) {
        for (const [block, value] of batch) if (!this.#pending.has(block)) this.#pending.set(block, value);
        throw err;
      } finally {
        this.#applying = new Map();
      }
    });
    this.#checkpointing = run;
    return run;
  }
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function readAppliedLsn(logDb: Database<Buffer, string>): number {
  const stored = logDb.getBinary(APPLIED_KEY);
  if (stored === undefined) return 0;
  assert(stored.length === 8, 'the checkpoint LSN is 8 bytes');
  return Number(stored.readBigUInt64LE(0));
}

function lsnBytes(lsn: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(lsn));
  return bytes;
}

function decodeEntries(payload: Buffer): Encoded {
  const entries: unknown = packr.unpack(payload);
  const valid = Array.isArray(entries) && entries.every((entry) => Array.isArray(entry) && entry.length === 2
    && typeof entry[0] === 'string' && entry[1] instanceof Uint8Array);
  // The record's checksum held, and only this module writes records: anything else is a bug, not bad input.
  assert(valid, 'an acceptor log record holds [block, state] pairs');
  return (entries as [string, Uint8Array][]).map(([block, value]) => [block, Buffer.from(value.buffer, value.byteOffset, value.byteLength)] as const);
}

/** The in-memory twin, for in-process tests; states are copied through msgpack as the LMDB store would. */
export class MemoryAcceptorStore<S> implements AcceptorStore<S> {
  readonly #states = new Map<string, Buffer>();

  load(block: string): S | undefined {
    const stored = this.#states.get(block);
    return stored === undefined ? undefined : (packr.unpack(stored) as S);
  }

  async persist(entries: ReadonlyMap<string, S>): Promise<void> {
    for (const [block, state] of entries) this.#states.set(block, Buffer.from(packr.pack(state)));
  }

  listBlocks(options: { after?: string; limit: number }): string[] {
    return [...this.#states.keys()].sort().filter((key) => options.after === undefined || key > options.after).slice(0, options.limit);
  }

  async close(): Promise<void> {}
}
