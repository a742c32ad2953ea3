// Time as a parameter: the simulator drives a virtual clock, production the system one.

export type TimerId = number;

export interface Clock {
  /** Monotonic milliseconds, for timeouts and intervals. */
  now(): number;
  /** Milliseconds since the Unix epoch, for timestamps shown to people and protocols. */
  wallMs(): number;
  setTimer(delayMs: number, callback: () => void): TimerId;
  clearTimer(id: TimerId): void;
}

export class SystemClock implements Clock {
  readonly #timers = new Map<TimerId, ReturnType<typeof setTimeout>>();
  #nextId = 1;

  now(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerId {
    const id = this.#nextId++;
    const handle = setTimeout(() => {
      this.#timers.delete(id);
      callback();
    }, delayMs);
    handle.unref?.();
    this.#timers.set(id, handle);
    return id;
  }

  clearTimer(id: TimerId): void {
    const handle = this.#timers.get(id);
    if (handle !== undefined) clearTimeout(handle);
    this.#timers.delete(id);
  }
}
