// Gathers the operations bound for one node during a tick into one request per kind: many small puts
// share a frame, and on the node one transaction and one flush.
import { ShoalError } from '../base/errors.js';
import { BATCH_BYTES_MAX, BATCH_ITEMS_MAX } from '../base/limits.js';
import type { ContentBlock } from '../blocks/immutable.js';
import type { Member } from '../overlay/membership.js';
import type { ConnectionPool } from '../wire/connection-pool.js';
import { NOT_SENT, OP, type PutContentOutcome } from '../wire/operations.js';

interface Queued<I, R> {
  readonly item: I;
  readonly bytes: number;
  resolve(result: R): void;
  reject(err: unknown): void;
}

type Sender<I, R> = (items: I[]) => Promise<(R | typeof RETRY)[]>;
const RETRY = Symbol('retry');

class BatchQueue<I, R> {
  #queue: Queued<I, R>[] = [];
  #scheduled = false;
  readonly #send: Sender<I, R>;

  constructor(send: Sender<I, R>) {
    this.#send = send;
  }

  add(item: I, bytes: number): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, bytes, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < this.#queue.length && count < BATCH_ITEMS_MAX) {
        const next = this.#queue[count] as Queued<I, R>;
        if (count > 0 && bytes + next.bytes > BATCH_BYTES_MAX) break;
        bytes += next.bytes;
        count++;
      }
      void this.#dispatch(this.#queue.splice(0, count));
    }
  }

  async #dispatch(batch: Queued<I, R>[]): Promise<void> {
    try {
      const results = await this.#send(batch.map((q) => q.item));
      batch.forEach((queued, i) => {
        const result = results[i];
        if (result === RETRY) void this.add(queued.item, queued.bytes).then(queued.resolve, queued.reject);
        else if (i >= results.length) queued.reject(new ShoalError('Unavailable', 'node answered a batch with too few results', { subject: 'node' }));
        else queued.resolve(result as R);
      });
    } catch (err) {
      for (const queued of batch) queued.reject(err);
    }
  }
}

export interface BatchOptions {
  readonly timeoutMs: number;
}

/** Batched content operations against one member. */
export class NodeBatcher {
  readonly member: Member;
  readonly #puts: BatchQueue<{ address: Buffer; block: ContentBlock; replicas: number }, PutContentOutcome>;
  readonly #gets: BatchQueue<Buffer, ContentBlock | null>;
  readonly #has: BatchQueue<Buffer, boolean>;

  constructor(pool: ConnectionPool, member: Member, options: BatchOptions) {
    this.member = member;
    const target = { address: member.address, id: member.id };
    const request = { timeoutMs: options.timeoutMs };
    this.#puts = new BatchQueue(async (items) => asArray(await pool.request(target, OP.putContent, { items }, request), items.length) as PutContentOutcome[]);
    this.#gets = new BatchQueue(async (addresses) => {
      const reply = asArray(await pool.request(target, OP.getContent, { addresses }, request), addresses.length);
      return reply.map((entry) => (entry === NOT_SENT ? RETRY : (entry as ContentBlock | null)));
    });
    this.#has = new BatchQueue(async (addresses) => asArray(await pool.request(target, OP.hasContent, { addresses }, request), addresses.length) as boolean[]);
  }

  /** `replicas`: the block's R, stored with it so that repair keeps that many copies. */
  async put(address: Buffer, block: ContentBlock, replicas: number): Promise<void> {
    const outcome = await this.#puts.add({ address, block, replicas }, block.data.length + block.salt.length + 96);
    if (!outcome.ok) {
      const kind = outcome.kind === 'NoSpace' || outcome.kind === 'Invalid' || outcome.kind === 'TooLarge' ? outcome.kind : 'Unavailable';
      throw new ShoalError(kind, outcome.message, { subject: 'block', detail: { nodeId: this.member.id } });
    }
  }

  get(address: Buffer): Promise<ContentBlock | null> {
    return this.#gets.add(address, 40);
  }

  has(address: Buffer): Promise<boolean> {
    return this.#has.add(address, 40);
  }
}

function asArray(reply: unknown, length: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== length) {
    throw new ShoalError('Unavailable', `node answered a batch of ${length} with ${Array.isArray(reply) ? reply.length : 'no list'}`, { subject: 'node' });
  }
  return reply;
}
