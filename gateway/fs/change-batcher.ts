// Changes to one block that arrive while a write of that block is in flight are applied together in its next write:
// one decode, one encode and one consensus instance for a whole burst (64 creates in one directory cost one page
// rewrite, not 64). Each change still gets its own outcome: the value it saw, or the error it returned, taken from
// the last time the batch was applied (a write is replayed on newer content when another gateway won a version).
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';

/** One change: the next value and what to report to its caller, or a ShoalError when it does not apply. */
export type BatchedStep<V, R> = (value: V) => { readonly next: V; readonly result: R } | ShoalError;

/** Writes `apply` to the block (through consensus); `apply` may run several times and must be pure. */
export type BatchWriter<V> = (key: string, apply: (value: V) => V | ShoalError) => Promise<V>;

interface Queued<V, R> {
  readonly kind: 'change';
  readonly step: BatchedStep<V, R>;
  readonly resolve: (outcome: { result: R; written: V }) => void;
  readonly reject: (error: unknown) => void;
}

/** Work that must see the block hold still (as far as this gateway goes): a split of a directory page. */
interface Exclusive {
  readonly kind: 'exclusive';
  readonly run: () => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type Outcome<R> = { readonly result: R } | { readonly error: ShoalError };

const UNCHANGED = 'nothing in the batch changes the block';

export class ChangeBatcher<V, R> {
  readonly #write: BatchWriter<V>;
  readonly #batchMax: number;
  readonly #queues = new Map<string, (Queued<V, R> | Exclusive)[]>();
  readonly #inFlight = new Set<string>();

  constructor(write: BatchWriter<V>, options: { batchMax?: number } = {}) {
    this.#write = write;
    this.#batchMax = options.batchMax ?? 256;
  }

  /** Applies `step` in the next write of block `key`; resolves with its result and the value that write stored. */
  submit(key: string, step: BatchedStep<V, R>): Promise<{ result: R; written: V }> {
    return new Promise((resolve, reject) => this.#enqueue(key, { kind: 'change', step, resolve, reject }));
  }

  /**
   * Runs `run` once the writes queued before it are done, and holds back the changes queued after it until it is:
   * no change of this gateway lands on the block meanwhile.
   */
  exclusive(key: string, run: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue(key, { kind: 'exclusive', run, resolve, reject }));
  }

  #enqueue(key: string, entry: Queued<V, R> | Exclusive): void {
    const queue = this.#queues.get(key) ?? [];
    queue.push(entry);
    this.#queues.set(key, queue);
    if (!this.#inFlight.has(key)) void this.#flush(key);
  }

  async #flush(key: string): Promise<void> {
    this.#inFlight.add(key);
    try {
      for (;;) {
        const queue = this.#queues.get(key) ?? [];
        const head = queue[0];
        if (head === undefined) break;
        if (head.kind === 'exclusive') {
          queue.shift();
          await head.run().then(head.resolve, head.reject);
          continue;
        }
        const barrier = queue.findIndex((entry) => entry.kind === 'exclusive');
        const batch = queue.splice(0, Math.min(barrier === -1 ? queue.length : barrier, this.#batchMax)) as Queued<V, R>[];
        await this.#writeBatch(key, batch);
      }
    } finally {
      this.#queues.delete(key);
      this.#inFlight.delete(key);
    }
  }

  async #writeBatch(key: string, batch: readonly Queued<V, R>[]): Promise<void> {
    let outcomes: Outcome<R>[] = [];
    let last: V | undefined;
    try {
      const written = await this.#write(key, (value) => {
        outcomes = [];
        let current = value;
        for (const { step } of batch) {
          const applied = stepSafely(step, current);
          if (isShoalError(applied)) outcomes.push({ error: applied });
          else {
            outcomes.push({ result: applied.result });
            current = applied.next;
          }
        }
        last = current;
        return current === value ? new ShoalError('Conflict', UNCHANGED) : current;
      });
      last = written;
    } catch (err) {
      // Nothing to write is a success for every change that applied (it changed nothing either).
      if (!(isShoalError(err, 'Conflict') && err.message === UNCHANGED && outcomes.length === batch.length)) {
        for (const queued of batch) queued.reject(err);
        return;
      }
    }
    batch.forEach((queued, i) => {
      const outcome = outcomes[i] as Outcome<R>;
      if ('error' in outcome) queued.reject(outcome.error);
      else queued.resolve({ result: outcome.result, written: last as V });
    });
  }
}

/** A step that throws a ShoalError (a check it made) fails alone rather than failing the whole batch. */
function stepSafely<V, R>(step: BatchedStep<V, R>, value: V): ReturnType<BatchedStep<V, R>> {
  try {
    return step(value);
  } catch (err) {
    if (isShoalError(err)) return err;
    throw err;
  }
}
