// Decodes XDR (RFC 4506) from one buffer; every length and count is checked against the bytes left and a limit before use.
import { assert } from '../../storage-node/base/assert.js';
import { xdrError } from './rpc-errors.js';

const UNIT = 4; // RFC 4506 §3: every item is a multiple of four bytes.

/** Bytes of zero padding after `length` bytes of opaque data (RFC 4506 §4.9, §4.10). */
export function xdrPadding(length: number): number {
  return (UNIT - (length % UNIT)) % UNIT;
}

/**
 * A cursor over one XDR-encoded buffer. Every read throws the XDR error (isXdrError) on truncation,
 * on a count over the caller's limit or on a value outside its type; nothing is allocated from a
 * length that was not checked first. Opaque data comes back as a view of the input, not a copy.
 */
export class XdrReader {
  readonly #bytes: Buffer;
  #offset = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /** Throws the XDR error when bytes are left over: arguments must be exactly what the procedure takes. */
  finish(): void {
    if (this.remaining !== 0) throw xdrError(`${this.remaining} bytes left after the arguments`, { offset: this.#offset });
  }

  /** RFC 4506 §4.1: a 32-bit two's-complement integer, big-endian. */
  readInt(): number {
    this.#need(UNIT, 'int');
    const value = this.#bytes.readInt32BE(this.#offset);
    this.#offset += UNIT;
    return value;
  }

  /** RFC 4506 §4.2: a 32-bit unsigned integer. */
  readUint(): number {
    this.#need(UNIT, 'unsigned int');
    const value = this.#bytes.readUInt32BE(this.#offset);
    this.#offset += UNIT;
    return value;
  }

  /** RFC 4506 §4.5: a 64-bit hyper integer. */
  readHyper(): bigint {
    this.#need(8, 'hyper');
    const value = this.#bytes.readBigInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  /** RFC 4506 §4.5: a 64-bit unsigned hyper integer. */
  readUhyper(): bigint {
    this.#need(8, 'unsigned hyper');
    const value = this.#bytes.readBigUInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  /** RFC 4506 §4.4: an enum of FALSE = 0, TRUE = 1; anything else is not a bool. */
  readBool(): boolean {
    const value = this.readInt();
    if (value !== 0 && value !== 1) throw xdrError(`bool of ${value}`, { offset: this.#offset - UNIT });
    return value === 1;
  }

  /** RFC 4506 §4.3: "It is an error to encode as an enum any integer other than those that have been given assignments." */
  readEnum<E extends number>(values: ReadonlySet<E>, name: string): E {
    const value = this.readInt();
    if (!values.has(value as E)) throw xdrError(`${name} of ${value}`, { offset: this.#offset - UNIT });
    return value as E;
  }

  /** RFC 4506 §4.9: `opaque x[n]`, n bytes then padding to four. */
  readFixedOpaque(length: number): Buffer {
    assert(Number.isInteger(length) && length >= 0, `fixed opaque of ${length} bytes`);
    const padded = length + xdrPadding(length);
    this.#need(padded, `opaque[${length}]`);
    const view = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += padded;
    return view;
  }

  /** RFC 4506 §4.10: `opaque x<max>`, a length, the bytes, padding. The length is checked before anything else. */
  readOpaque(bytesMax: number): Buffer {
    const length = this.#readCount(bytesMax, 1, 'opaque');
    return this.readFixedOpaque(length);
  }

  /** RFC 4506 §4.11: `string x<max>`, encoded as variable opaque; decoded as UTF-8 (invalid bytes become U+FFFD). */
  readString(bytesMax: number): string {
    return this.readOpaque(bytesMax).toString('utf8');
  }

  /** RFC 4506 §4.12: `T x[n]`, a fixed count of items with no count on the wire. */
  readFixedArray<T>(count: number, readItem: (reader: XdrReader) => T): T[] {
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(readItem(this));
    return items;
  }

  /**
   * RFC 4506 §4.13: `T x<max>`, a count then the items. The count must be within countMax and within
   * what the bytes left could hold at itemBytesMin each, so a lying count cannot make us loop or allocate.
   */
  readArray<T>(countMax: number, readItem: (reader: XdrReader) => T, itemBytesMin = UNIT): T[] {
    const count = this.#readCount(countMax, itemBytesMin, 'array');
    return this.readFixedArray(count, readItem);
  }

  /** RFC 4506 §4.19: `T *x`, a bool then the item when TRUE. */
  readOptional<T>(readItem: (reader: XdrReader) => T): T | undefined {
    return this.readBool() ? readItem(this) : undefined;
  }

  /** A linked list written as optional-data (`struct *list { T item; list next; }`), at most countMax items. */
  readList<T>(countMax: number, readItem: (reader: XdrReader) => T): T[] {
    const items: T[] = [];
    while (this.readBool()) {
      if (items.length >= countMax) throw xdrError(`list over ${countMax} items`, { offset: this.#offset });
      items.push(readItem(this));
    }
    return items;
  }

  #readCount(countMax: number, itemBytesMin: number, what: string): number {
    const count = this.readUint();
    if (count > countMax) throw xdrError(`${what} of ${count} over its limit of ${countMax}`, { offset: this.#offset - UNIT });
    if (count * itemBytesMin > this.remaining) {
      throw xdrError(`${what} of ${count} is longer than the ${this.remaining} bytes left`, { offset: this.#offset - UNIT });
    }
    return count;
  }

  #need(bytes: number, what: string): void {
    if (bytes > this.remaining) {
      throw xdrError(`truncated ${what}: ${bytes} bytes needed, ${this.remaining} left`, { offset: this.#offset });
    }
  }
}
