// A token bucket over bytes and blocks per second: how long repair must wait before it may move the next block.
// Pure: the caller passes the time, so the same bucket runs in tests without a clock.

export interface RateLimits {
  readonly bytesPerSecond: number;
  readonly blocksPerSecond: number;
}

/** Allows bursts of up to one second's worth, so that a large block never waits for more than a second's budget. */
export class RateLimit {
  readonly #limits: RateLimits;
  #bytes: number;
  #blocks: number;
  #lastMs: number;

  constructor(limits: RateLimits, nowMs: number) {
    this.#limits = limits;
    this.#bytes = limits.bytesPerSecond;
    this.#blocks = limits.blocksPerSecond;
    this.#lastMs = nowMs;
  }

  /** Milliseconds to wait before moving `blocks` blocks of `bytes` in all; 0 when they may go now (the budget is then taken). */
  take(bytes: number, nowMs: number, blocks = 1): number {
    this.#refill(nowMs);
    // A batch larger than a second's budget goes once the bucket is full, else it would never go; the debt it
    // leaves delays what follows.
    const neededBytes = Math.min(bytes, this.#limits.bytesPerSecond);
    const neededBlocks = Math.min(blocks, this.#limits.blocksPerSecond);
    if (this.#bytes >= neededBytes && this.#blocks >= neededBlocks) {
      this.#bytes -= bytes;
      this.#blocks -= blocks;
      return 0;
    }
    const waitBytes = ((neededBytes - this.#bytes) / this.#limits.bytesPerSecond) * 1000;
    const waitBlocks = ((neededBlocks - this.#blocks) / this.#limits.blocksPerSecond) * 1000;
    return Math.max(1, Math.ceil(Math.max(waitBytes, waitBlocks)));
  }

  #refill(nowMs: number): void {
    const elapsedS = Math.max(0, nowMs - this.#lastMs) / 1000;
    this.#lastMs = nowMs;
    this.#bytes = Math.min(this.#limits.bytesPerSecond, this.#bytes + elapsedS * this.#limits.bytesPerSecond);
    this.#blocks = Math.min(this.#limits.blocksPerSecond, this.#blocks + elapsedS * this.#limits.blocksPerSecond);
  }
}

/** Bytes per second over a sliding window of recent transfers: the rate `shoal status` shows. */
export class RateMeter {
  readonly #windowMs: number;
  readonly #samples: { atMs: number; bytes: number }[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  record(bytes: number, nowMs: number): void {
    this.#samples.push({ atMs: nowMs, bytes });
    this.#trim(nowMs);
  }

  bytesPerSecond(nowMs: number): number {
    this.#trim(nowMs);
    const total = this.#samples.reduce((sum, s) => sum + s.bytes, 0);
    return total / (this.#windowMs / 1000);
  }

  #trim(nowMs: number): void {
    while (this.#samples.length > 0 && nowMs - (this.#samples[0]?.atMs ?? nowMs) > this.#windowMs) this.#samples.shift();
  }
}
