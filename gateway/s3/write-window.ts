// Writes of one object body kept in flight together, up to a byte bound: the next piece of the body is read from the
// socket while earlier chunks are still being stored, so chunks reach the nodes in parallel; past the bound the
// socket waits (backpressure), so a body is never held whole in memory.
export class WriteWindow {
  readonly #bytesMax: number;
  readonly #inFlight = new Map<Promise<void>, number>();
  #bytes = 0;
  #failure: { readonly error: unknown } | undefined;

  constructor(bytesMax: number) {
    this.#bytesMax = bytesMax;
  }

  /** Adds a started write of `bytes`; waits while the window is over its bound; throws the first failed write. */
  async add(bytes: number, write: Promise<unknown>): Promise<void> {
    this.#throwIfFailed();
    const tracked: Promise<void> = write.then(() => undefined, (error: unknown) => {
      this.#failure ??= { error };
    }).finally(() => {
      this.#bytes -= this.#inFlight.get(tracked) ?? 0;
      this.#inFlight.delete(tracked);
    });
    this.#inFlight.set(tracked, bytes);
    this.#bytes += bytes;
    while (this.#bytes > this.#bytesMax && this.#failure === undefined) await Promise.race(this.#inFlight.keys());
    this.#throwIfFailed();
  }

  /** Waits for every write; throws the first that failed. */
  async drain(): Promise<void> {
    await Promise.all(this.#inFlight.keys());
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}
