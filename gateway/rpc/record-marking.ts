// RFC 5531 §11 record marking over TCP: splits a byte stream into records of fragments, and frames replies.
import { assert } from '../../storage-node/base/assert.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import type { XdrWriter } from './xdr-writer.js';

/**
 * RFC 5531 §11: "The number encodes two values -- a boolean that indicates whether the fragment is the
 * last fragment of the record (bit value 1 implies the fragment is the last fragment) and a 31-bit
 * unsigned binary value that is the length in bytes of the fragment's data."
 */
export const LAST_FRAGMENT = 0x8000_0000;
export const FRAGMENT_BYTES_MASK = 0x7fff_ffff;
export const FRAGMENT_HEADER_BYTES = 4;

/**
 * Reassembles records from any split of the stream. Each fragment header is checked against the record
 * limit before its data is awaited or anything is allocated; a record over the limit throws
 * ShoalError('TooLarge') and the caller closes the connection (the stream cannot be resynchronised).
 */
export class RecordDecoder {
  readonly #recordBytesMax: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Data length of the fragment being read, or -1 while waiting for its header. */
  #fragmentBytes = -1;
  #fragmentIsLast = false;
  #fragments: Buffer[] = [];
  #recordBytes = 0;

  constructor(recordBytesMax: number) {
    assert(recordBytesMax > 0 && recordBytesMax <= FRAGMENT_BYTES_MASK, `record limit of ${recordBytesMax} bytes`);
    this.#recordBytesMax = recordBytesMax;
  }

  /** Bytes received that are not yet part of a whole record: non-zero at end of stream means a truncated record. */
  get pendingBytes(): number {
    return this.#buffered + this.#recordBytes + (this.#fragmentBytes >= 0 ? FRAGMENT_HEADER_BYTES : 0);
  }

  /** Feeds bytes from the stream; returns the records they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const records: Buffer[] = [];
    for (;;) {
      if (this.#fragmentBytes < 0 && !this.#readHeader()) break;
      if (this.#buffered < this.#fragmentBytes) break;
      // Empty fragments are legal (0 to 2**31 - 1 bytes) but are not kept, so a stream of them costs no memory.
      if (this.#fragmentBytes > 0) this.#fragments.push(this.#take(this.#fragmentBytes));
      this.#recordBytes += this.#fragmentBytes;
      this.#fragmentBytes = -1;
      if (this.#fragmentIsLast) records.push(this.#completeRecord());
    }
    return records;
  }

  /** Reads a fragment header if four bytes are there; refuses it before its data arrives if the record would be too large. */
  #readHeader(): boolean {
    if (this.#buffered < FRAGMENT_HEADER_BYTES) return false;
    const header = this.#take(FRAGMENT_HEADER_BYTES).readUInt32BE(0);
    const fragmentBytes = header & FRAGMENT_BYTES_MASK;
    if (this.#recordBytes + fragmentBytes > this.#recordBytesMax) {
      throw new ShoalError(
        'TooLarge',
        `RPC record of at least ${this.#recordBytes + fragmentBytes} bytes is over the ${this.#recordBytesMax}-byte limit`,
        { subject: 'frame', detail: { fragmentBytes, recordBytes: this.#recordBytes } },
      );
    }
    this.#fragmentBytes = fragmentBytes;
    this.#fragmentIsLast = (header & LAST_FRAGMENT) !== 0;
    return true;
  }

  #completeRecord(): Buffer {
    const fragments = this.#fragments;
    const record = fragments.length === 1 ? (fragments[0] as Buffer) : Buffer.concat(fragments, this.#recordBytes);
    this.#fragments = [];
    this.#recordBytes = 0;
    return record;
  }

  /** The next `length` buffered bytes: a view when one chunk holds them, else one copy of exactly that size. */
  #take(length: number): Buffer {
    const first = this.#chunks[0];
    assert(first !== undefined && length <= this.#buffered, 'take within the buffered bytes');
    this.#buffered -= length;
    if (first.length >= length) {
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.#chunks[0] as Buffer;
      const used = Math.min(chunk.length, length - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

/** Frames a whole record as fragments of at most fragmentBytesMax bytes, the last one flagged (RFC 5531 §11). */
export function encodeRecord(payload: Uint8Array, fragmentBytesMax: number = FRAGMENT_BYTES_MASK): Buffer {
  assert(fragmentBytesMax > 0 && fragmentBytesMax <= FRAGMENT_BYTES_MASK, `fragment limit of ${fragmentBytesMax} bytes`);
  const parts: Uint8Array[] = [];
  let offset = 0;
  do {
    const length = Math.min(fragmentBytesMax, payload.length - offset);
    const isLast = offset + length === payload.length;
    const header = Buffer.allocUnsafe(FRAGMENT_HEADER_BYTES);
    header.writeUInt32BE((isLast ? LAST_FRAGMENT : 0) + length, 0);
    parts.push(header, payload.subarray(offset, offset + length));
    offset += length;
  } while (offset < payload.length);
  return Buffer.concat(parts);
}

/** Starts a one-fragment record in an empty writer by leaving room for its header, so a reply is framed without a copy. */
export function beginRecord(writer: XdrWriter): void {
  assert(writer.length === 0, 'a record starts in an empty writer');
  writer.writeUint(0);
}

/** Ends a record begun with beginRecord: writes the header as the single, last fragment and returns the bytes to send. */
export function endRecord(writer: XdrWriter): Buffer {
  const fragmentBytes = writer.length - FRAGMENT_HEADER_BYTES;
  assert(fragmentBytes >= 0 && fragmentBytes <= FRAGMENT_BYTES_MASK, `record of ${fragmentBytes} bytes`);
  writer.patchUint(0, LAST_FRAGMENT + fragmentBytes);
  return writer.finish();
}
