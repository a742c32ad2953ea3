// Length-prefixed frames: a 4-byte big-endian length, then the payload. A header over the limit is refused
// before any payload buffer is allocated, so a peer claiming 100 MiB costs us nothing.
import { ShoalError } from '../base/errors.js';

export const FRAME_HEADER_BYTES = 4;

export function encodeFrame(payload: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Reassembles frames from a byte stream; throws ShoalError('TooLarge') on an oversized header. */
export class FrameDecoder {
  readonly #frameBytesMax: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #expected = -1;

  constructor(frameBytesMax: number) {
    this.#frameBytesMax = frameBytesMax;
  }

  /** Bytes received but not yet part of a whole frame: non-zero at close means a truncated frame. */
  get pendingBytes(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#expected < 0) {
        if (this.#buffered < FRAME_HEADER_BYTES) break;
        const length = this.#take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.#frameBytesMax) {
          throw new ShoalError('TooLarge', `frame of ${length} bytes is over the ${this.#frameBytesMax}-byte limit`, { subject: 'frame' });
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      frames.push(this.#take(this.#expected));
      this.#expected = -1;
    }
    return frames;
  }

  #take(length: number): Buffer {
    const joined = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#buffered);
    const out = joined.subarray(0, length);
    const rest = joined.subarray(length);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }
}
