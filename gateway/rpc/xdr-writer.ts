// Encodes XDR (RFC 4506) into a growing buffer; values outside their type are programmer errors and fail an assertion.
import { assert } from '../../storage-node/base/assert.js';
import { xdrPadding } from './xdr-reader.js';

const UNIT = 4;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const HYPER_MIN = -(2n ** 63n);
const HYPER_MAX = 2n ** 63n - 1n;
const UHYPER_MAX = 2n ** 64n - 1n;
const INITIAL_CAPACITY_BYTES = 256;

/** Writes XDR items in order; `finish()` returns the bytes written (a view, not a copy). */
export class XdrWriter {
  #bytes: Buffer;
  #offset = 0;

  constructor(capacityBytes = INITIAL_CAPACITY_BYTES) {
    this.#bytes = Buffer.allocUnsafe(Math.max(UNIT, capacityBytes));
  }

  get length(): number {
    return this.#offset;
  }

  finish(): Buffer {
    return this.#bytes.subarray(0, this.#offset);
  }

  /** RFC 4506 §4.1. */
  writeInt(value: number): this {
    assert(Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX, `int out of range: ${value}`);
    this.#reserve(UNIT).writeInt32BE(value, this.#offset);
    this.#offset += UNIT;
    return this;
  }

  /** RFC 4506 §4.2. */
  writeUint(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= UINT32_MAX, `unsigned int out of range: ${value}`);
    this.#reserve(UNIT).writeUInt32BE(value, this.#offset);
    this.#offset += UNIT;
    return this;
  }

  /** RFC 4506 §4.5. */
  writeHyper(value: bigint): this {
    assert(value >= HYPER_MIN && value <= HYPER_MAX, `hyper out of range: ${value}`);
    this.#reserve(8).writeBigInt64BE(value, this.#offset);
    this.#offset += 8;
    return this;
  }

  /** RFC 4506 §4.5. */
  writeUhyper(value: bigint): this {
    assert(value >= 0n && value <= UHYPER_MAX, `unsigned hyper out of range: ${value}`);
    this.#reserve(8).writeBigUInt64BE(value, this.#offset);
    this.#offset += 8;
    return this;
  }

  /** RFC 4506 §4.4. */
  writeBool(value: boolean): this {
    return this.writeInt(value ? 1 : 0);
  }

  /** RFC 4506 §4.3: the caller passes a value of its enum type. */
  writeEnum(value: number): this {
    return this.writeInt(value);
  }

  /** RFC 4506 §4.9: exactly `length` bytes then zero padding to four. */
  writeFixedOpaque(bytes: Uint8Array, length: number = bytes.length): this {
    assert(bytes.length === length, `fixed opaque of ${bytes.length} bytes where ${length} are declared`);
    const padding = xdrPadding(length);
    const target = this.#reserve(length + padding);
    target.set(bytes, this.#offset);
    target.fill(0, this.#offset + length, this.#offset + length + padding);
    this.#offset += length + padding;
    return this;
  }

  /** RFC 4506 §4.10: the length, the bytes, zero padding. */
  writeOpaque(bytes: Uint8Array, bytesMax: number = UINT32_MAX): this {
    assert(bytes.length <= bytesMax, `opaque of ${bytes.length} bytes over its limit of ${bytesMax}`);
    this.writeUint(bytes.length);
    return this.writeFixedOpaque(bytes);
  }

  /** RFC 4506 §4.11: a string is its UTF-8 bytes as variable opaque; the limit counts bytes. */
  writeString(value: string, bytesMax: number = UINT32_MAX): this {
    return this.writeOpaque(Buffer.from(value, 'utf8'), bytesMax);
  }

  /** RFC 4506 §4.12: the items with no count. */
  writeFixedArray<T>(items: readonly T[], writeItem: (writer: XdrWriter, item: T) => void): this {
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** RFC 4506 §4.13: the count then the items. */
  writeArray<T>(items: readonly T[], writeItem: (writer: XdrWriter, item: T) => void, countMax: number = UINT32_MAX): this {
    assert(items.length <= countMax, `array of ${items.length} over its limit of ${countMax}`);
    this.writeUint(items.length);
    return this.writeFixedArray(items, writeItem);
  }

  /** RFC 4506 §4.19: FALSE, or TRUE then the item. */
  writeOptional<T>(item: T | undefined, writeItem: (writer: XdrWriter, item: T) => void): this {
    this.writeBool(item !== undefined);
    if (item !== undefined) writeItem(this, item);
    return this;
  }

  /** A linked list as optional-data (`struct *list`): TRUE and an item for each, then FALSE. */
  writeList<T>(items: readonly T[], writeItem: (writer: XdrWriter, item: T) => void): this {
    for (const item of items) {
      this.writeBool(true);
      writeItem(this, item);
    }
    return this.writeBool(false);
  }

  /** Already-encoded XDR (a multiple of four bytes), e.g. a procedure's cached result. */
  writeRaw(bytes: Uint8Array): this {
    assert(bytes.length % UNIT === 0, `raw XDR of ${bytes.length} bytes is not a multiple of four`);
    this.#reserve(bytes.length).set(bytes, this.#offset);
    this.#offset += bytes.length;
    return this;
  }

  /** Overwrites a 32-bit word already written, e.g. a length known only at the end (record marking). */
  patchUint(offset: number, value: number): this {
    assert(offset % UNIT === 0 && offset + UNIT <= this.#offset, `patch at ${offset} outside the ${this.#offset} bytes written`);
    assert(Number.isInteger(value) && value >= 0 && value <= UINT32_MAX, `unsigned int out of range: ${value}`);
    this.#bytes.writeUInt32BE(value, offset);
    return this;
  }

  #reserve(bytes: number): Buffer {
    const needed = this.#offset + bytes;
    if (needed > this.#bytes.length) {
      let capacity = this.#bytes.length * 2;
      while (capacity < needed) capacity *= 2;
      const grown = Buffer.allocUnsafe(capacity);
      this.#bytes.copy(grown, 0, 0, this.#offset);
      this.#bytes = grown;
    }
    return this.#bytes;
  }
}
