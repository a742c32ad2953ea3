// Sequential-read detection per file: a read that starts where the previous one ended (or at offset 0) continues a
// stream, whose window of chunks fetched ahead doubles up to a bound; any other read resets it. Pure bookkeeping: the
// caller fetches the chunks it is told to.

const STREAMS_MAX = 1024;

interface Stream {
  /** Where the next sequential read would start. */
  next: number;
  /** Chunks fetched ahead on the last read. */
  window: number;
  /** The highest chunk index already asked for, so each chunk is fetched ahead once. */
  aheadUntil: number;
}

export class ReadAhead {
  readonly #chunksMax: number;
  // Insertion order is recency: a file read again moves to the end, the oldest stream is forgotten first.
  readonly #streams = new Map<string, Stream>();

  constructor(options: { chunksMax: number }) {
    this.#chunksMax = options.chunksMax;
  }

  /** Records a read of [offset, offset + length); returns the chunk range to fetch ahead, if the read is sequential. */
  observe(address: Buffer, offset: number, length: number, chunkBytes: number, lastChunk: number): { first: number; last: number } | undefined {
    const key = address.toString('hex');
    const previous = this.#streams.get(key);
    this.#streams.delete(key);
    const sequential = previous !== undefined ? previous.next === offset : offset === 0;
    const window = !sequential || this.#chunksMax === 0 ? 0 : Math.min(this.#chunksMax, Math.max(1, (previous?.window ?? 0) * 2));
    const nextChunk = Math.floor((offset + length) / chunkBytes);
    const stream: Stream = { next: offset + length, window, aheadUntil: sequential ? (previous?.aheadUntil ?? -1) : -1 };
    this.#streams.set(key, stream);
    if (this.#streams.size > STREAMS_MAX) this.#streams.delete(this.#streams.keys().next().value as string);
    if (window === 0) return undefined;
    // The chunk the read ended in is being fetched by the read itself when it is partial; start after it.
    const first = Math.max(nextChunk + ((offset + length) % chunkBytes === 0 ? 0 : 1), stream.aheadUntil + 1);
    const last = Math.min(lastChunk, nextChunk + window);
    if (first > last) return undefined;
    stream.aheadUntil = last;
    return { first, last };
  }
}
