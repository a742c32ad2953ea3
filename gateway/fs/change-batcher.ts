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
  readonly step: BatchedStep<V, R>;
  readonly resolve: (outcome: { result: R; written: V }) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome<R> = { readonly result: R } | { readonly error: ShoalError };

const UNCHANGED = 'nothing in the batch changes the block';

export class ChangeBatcher<V, R> {
  readonly #write: BatchWriter<V>;
  readonly #batchMax: number;
  readonly #queues = new Map<string, Queued<V, R>[]>();
  readonly #inFlight = new Set<string>();

  constructor(write: BatchWriter<V>, options: { batchMax?: number } = {}) {
    this.#write = write;
    this.#batchMax = options.batchMax ?? 256;
  }

  /** Applies `step` in the next write of block `key`; resolves with its result and the value that write stored. */
  submit(key: string, step: BatchedStep<V, R>): Promise<{ result: R; written: V }> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(key) ?? [];
      queue.push({ step, resolve, reject });
      this.#queues.set(key, queue);
      if (!this.#inFlight.has(key)) void this.#flush(key);
    });
  }

  async #flush(key: string): Promise<void> {
    this.#inFlight.add(key);
    try {
      for (;;) {
        const queue = this.#queues.get(key) ?? [];
        if (queue.length === 0) break;
        const batch = queue.splice(0, this.#batchMax);
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
