// A virtual Clock for simulations: a binary heap of events ordered by (time, sequence number) that jumps from one to the next.
// Ties run in the order they were scheduled, so a run depends only on its seed (STYLE C.3).
import type { Clock, TimerId } from '../../../storage-node/base/clock.js';

interface Event {
  readonly timeMs: number;
  readonly seq: number;
  /** Undefined once cleared: cleared events stay in the heap and are skipped when they come up. */
  callback: (() => void) | undefined;
}

export class SimClock implements Clock {
  readonly #epochMs: number;
  #nowMs = 0;
  #seq = 0;
  readonly #heap: Event[] = [];
  /** Only cancellable timers are indexed; deliveries scheduled with schedule() are not. */
  readonly #timers = new Map<TimerId, Event>();
  #nextTimerId = 1;
  #ran = 0;

  /** `epochMs` is what wallMs() reads at time 0: a fixed date, so that wall times replay too. */
  constructor(options: { epochMs?: number } = {}) {
    this.#epochMs = options.epochMs ?? Date.UTC(2025, 0, 1);
  }

  now(): number {
    return this.#nowMs;
  }

  wallMs(): number {
    return this.#epochMs + this.#nowMs;
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.#ran;
  }

  get pending(): number {
    return this.#heap.length;
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id = this.#nextTimerId++;
    const event = this.#push(delayMs, () => {
      this.#timers.delete(id);
      callback();
    });
    this.#timers.set(id, event);
    return id;
  }

  clearTimer(id: TimerId): void {
    const event = this.#timers.get(id);
    if (event) event.callback = undefined;
    this.#timers.delete(id);
  }

  /** An event that is never cancelled (a message delivery): cheaper than setTimer. */
  schedule(delayMs: number, callback: () => void): void {
    this.#push(delayMs, callback);
  }

  /** Runs the next event, moving time to it; false when nothing is scheduled. */
  step(): boolean {
    for (;;) {
      const event = this.#pop();
      if (event === undefined) return false;
      if (event.callback === undefined) continue;
      this.#nowMs = event.timeMs;
      this.#ran++;
      event.callback();
      return true;
    }
  }

  /** Runs every event due up to `timeMs`, then sets the time to `timeMs`. */
  runUntil(timeMs: number): void {
    for (;;) {
      const next = this.#heap[0];
      if (next === undefined || next.timeMs > timeMs) break;
      this.step();
    }
    if (timeMs > this.#nowMs) this.#nowMs = timeMs;
  }

  runFor(durationMs: number): void {
    this.runUntil(this.#nowMs + durationMs);
  }

  #push(delayMs: number, callback: () => void): Event {
    const event: Event = { timeMs: this.#nowMs + Math.max(0, delayMs), seq: this.#seq++, callback };
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent] as Event;
      if (!before(event, above)) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = event;
    return event;
  }

  #pop(): Event | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const size = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && before(heap[right] as Event, heap[left] as Event) ? right : left;
      const smaller = heap[child] as Event;
      if (!before(smaller, last)) break;
      heap[i] = smaller;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}
