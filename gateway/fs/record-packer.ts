// msgpack for the filesystem's records (inodes, pages, index blocks) and the strict field readers their decoders share.
import { Packr } from 'msgpackr';
import { ShoalError } from '../../storage-node/base/errors.js';
import { BLOCK_ADDRESS_BYTES } from '../../storage-node/base/limits.js';

// Plain maps and arrays only: records (useRecords) would let stored bytes define types.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

export function packRecord(value: unknown): Buffer {
  return packr.pack(value);
}

/** A field reader that names the record and field in every refusal. */
export class RecordReader {
  readonly #what: string;
  readonly #fields: Record<string, unknown>;

  constructor(what: string, bytes: Buffer) {
    this.#what = what;
    let value: unknown;
    try {
      value = packr.unpack(bytes);
    } catch (cause) {
      throw new ShoalError('Invalid', `${what} is not msgpack`, { subject: 'block', cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.fail('', 'a map');
    this.#fields = value as Record<string, unknown>;
  }

  fail(field: string, expected: string): ShoalError {
    return new ShoalError('Invalid', `${this.#what}: field "${field}" should be ${expected}`, { subject: 'block' });
  }

  has(field: string): boolean {
    return this.#fields[field] !== undefined;
  }

  raw(field: string): unknown {
    return this.#fields[field];
  }

  uint(field: string): number {
    return checkUint(this.#fields[field], () => this.fail(field, 'a non-negative integer'));
  }

  string(field: string): string {
    const value = this.#fields[field];
    if (typeof value !== 'string') throw this.fail(field, 'a string');
    return value;
  }

  bytes(field: string): Buffer {
    return checkBytes(this.#fields[field], () => this.fail(field, 'bytes'));
  }

  address(field: string): Buffer {
    return checkAddress(this.#fields[field], () => this.fail(field, `a ${BLOCK_ADDRESS_BYTES}-byte address`));
  }

  array(field: string): unknown[] {
    const value = this.#fields[field];
    if (!Array.isArray(value)) throw this.fail(field, 'an array');
    return value;
  }

  /** Checks the format version before anything else is read. */
  formatVersion(expected: number): void {
    if (this.#fields['v'] !== expected) throw this.fail('v', `format version ${expected}`);
  }
}

export function checkUint(value: unknown, fail: () => Error): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail();
  return value;
}

export function checkBytes(value: unknown, fail: () => Error): Buffer {
  if (!(value instanceof Uint8Array)) throw fail();
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function checkAddress(value: unknown, fail: () => Error): Buffer {
  const bytes = checkBytes(value, fail);
  if (bytes.length !== BLOCK_ADDRESS_BYTES) throw fail();
  return bytes;
}

export function checkString(value: unknown, fail: () => Error): string {
  if (typeof value !== 'string') throw fail();
  return value;
}

export function checkTuple(value: unknown, length: number, fail: () => Error): unknown[] {
  if (!Array.isArray(value) || value.length !== length) throw fail();
  return value;
}
