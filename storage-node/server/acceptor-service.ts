// The Paxos acceptors of one node, over the wire: each request frame carries consensus messages for many blocks;
// they are stepped at once, their states written in one transaction and one flush (group commit), and the replies
// go back in the response only once everything they report is durable.
import { isShoalError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { versionValidator, type ValidateOptions } from '../blocks/validate-version.js';
import { parseVersionRecord, type VersionRecord } from '../blocks/version-record.js';
import { acceptorStep, type AcceptorBlockState, type AcceptorContext } from '../consensus/acceptor.js';
import { isAcceptorRequest, parseConsensusMessage, type AcceptorReply } from '../consensus/messages.js';
import type { AcceptorStore } from '../store/acceptor-store.js';
import { parseConsensusBatch } from '../wire/operations.js';
import type { RequestContext } from '../wire/wire-server.js';

type State = AcceptorBlockState<VersionRecord>;

/** How long states that no reply depends on (learned confirms) may wait for a transaction of their own. */
const DEFERRED_WRITE_MS = 20;

/** Flushed states kept in memory beyond this are dropped from the cache (they are read back from LMDB). */
const CACHE_ENTRIES_MAX = 50_000;

export class AcceptorService {
  readonly #context: AcceptorContext<VersionRecord>;
  readonly #store: AcceptorStore<State>;
  readonly #log: Logger;
  /** Every state this node has stepped to, flushed or not: the next step must see unflushed state too. */
  readonly #cache = new Map<string, State>();
  /** States stepped to but not yet handed to a transaction. */
  #unwritten = new Map<string, State>();
  /** Resolves when everything handed to a transaction so far is durable (LMDB flushes in commit order). */
  #durable: Promise<void> = Promise.resolve();
  #writeScheduled = false;
  #deferredWrite: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  readonly #onFatal: (err: unknown) => void;

  constructor(options: { nodeId: string; store: AcceptorStore<State>; log: Logger; onFatal?: (err: unknown) => void; validate?: ValidateOptions }) {
    this.#context = { self: options.nodeId, validate: versionValidator(options.validate) };
    this.#store = options.store;
    this.#log = options.log;
    // State already stepped to (and cached) could not be made durable: answering from it would be unsafe, so the
    // node stops and restarts from what is on disk.
    this.#onFatal = options.onFatal ?? ((err) => {
      this.#log.error({ err: String((err as Error)?.stack ?? err) }, 'consensus.persist_failed');
      process.exit(70);
    });
  }

  async handle(body: unknown, request: RequestContext): Promise<{ messages: AcceptorReply<VersionRecord>[] }> {
    const replies: AcceptorReply<VersionRecord>[] = [];
    for (const raw of parseConsensusBatch(body)) {
      let message;
      try {
        message = parseConsensusMessage(raw, parseVersionRecord);
      } catch (err) {
        if (!isShoalError(err)) throw err;
        this.#log.debug({ peer: request.peerId, err: err.message }, 'consensus.message_dropped');
        continue;
      }
      // A request must come from the proposer it names: replies (and ballots) are bound to the TLS identity.
      if (!isAcceptorRequest(message) || message.from !== request.peerId) continue;
      const result = acceptorStep(this.#context, this.#state(message.block), message);
      for (const effect of result.effects) {
        if (effect.kind === 'persist') this.#remember(effect.block, effect.state);
        else replies.push(effect.message as AcceptorReply<VersionRecord>);
      }
    }
    // A batch with nothing to answer (confirms) need not be durable now: its states are written with the next
    // batch that answers, whose reply waits for them too, or after a short delay. This keeps a second fsync per
    // write off the path of the next write.
    if (replies.length === 0) this.#writeSoon();
    else await this.#writeAll();
    return { messages: replies };
  }

  /**
   * After the server stopped taking requests: writes the states still waiting for a deferred write (no timer is left
   * to fire on a closed store) and resolves once everything stepped to is durable.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#deferredWrite !== undefined) clearTimeout(this.#deferredWrite);
    this.#deferredWrite = undefined;
    await this.#writeAll();
  }

  #writeSoon(): void {
    if (this.#closed || this.#deferredWrite !== undefined || this.#unwritten.size === 0) return;
    this.#deferredWrite = setTimeout(() => {
      this.#deferredWrite = undefined;
      void this.#writeAll().catch(() => {});
    }, DEFERRED_WRITE_MS);
  }

  #state(block: string): State | undefined {
    const cached = this.#cache.get(block);
    if (cached !== undefined) return cached;
    const stored = this.#store.load(block);
    if (stored !== undefined) this.#cache.set(block, stored);
    return stored;
  }

  #remember(block: string, state: State): void {
    this.#cache.set(block, state);
    this.#unwritten.set(block, state);
  }

  /**
   * Hands what is unwritten to one transaction (shared by every batch stepped in this loop turn) and resolves once all
   * state stepped so far is durable: even a reply that persisted nothing may report state another batch wrote.
   */
  #writeAll(): Promise<void> {
    if (!this.#writeScheduled && this.#unwritten.size > 0) {
      this.#writeScheduled = true;
      if (this.#deferredWrite !== undefined) clearTimeout(this.#deferredWrite);
      this.#deferredWrite = undefined;
      const previous = this.#durable;
      const written: Promise<void> = new Promise<void>((resolve, reject) => {
        // After the poll phase of this loop turn: every frame read in it shares the transaction and its fsync (a
        // microtask would run after each frame's callback and give each its own).
        setImmediate(() => {
          this.#writeScheduled = false;
          const entries = this.#unwritten;
          this.#unwritten = new Map();
          Promise.all([previous, this.#store.persist(entries)]).then(() => {
            // Only with no group commit behind this one may cached states be dropped: the store has them all.
            if (this.#durable === written) this.#trimCache();
            resolve();
          }, (err: unknown) => {
            this.#onFatal(err);
            reject(err);
          });
        });
      });
      this.#durable = written;
    }
    return this.#durable;
  }

  #trimCache(): void {
    if (this.#cache.size <= CACHE_ENTRIES_MAX) return;
    for (const block of this.#cache.keys()) {
      if (this.#cache.size <= CACHE_ENTRIES_MAX / 2) break;
      if (!this.#unwritten.has(block)) this.#cache.delete(block);
    }
  }
}
