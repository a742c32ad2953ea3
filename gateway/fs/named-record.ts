// A small record kept in a mutable block that a name points at (the volume catalogue, NFS exports, S3 keys): made
// on first use, shared by every gateway, and read through a cache that revalidates by version.
import type { Clock } from '../../storage-node/base/clock.js';
import { isShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import type { FsBlocks, MutableValue } from './fs-blocks.js';

/** The block `name` points at, or undefined when there is none yet. */
export async function findNamedBlock(blocks: FsBlocks, name: string): Promise<Address | undefined> {
  try {
    return await blocks.resolveNamed(name);
  } catch (err) {
    if (!isShoalError(err, 'NotFound')) throw err;
    return undefined;
  }
}

/** The block `name` points at, made holding `initial` on first use; two makers at once agree through the name. */
export async function namedBlock(blocks: FsBlocks, name: string, initial: Buffer): Promise<Address> {
  const found = await findNamedBlock(blocks, name);
  if (found !== undefined) return found;
  const made = await blocks.createMutable(initial);
  try {
    await blocks.createNamed(name, made.address);
    return made.address;
  } catch (err) {
    if (!isShoalError(err, 'Exists')) throw err;
    return blocks.resolveNamed(name);
  }
}

export interface NamedRecordCacheOptions<T> {
  readonly blocks: FsBlocks;
  readonly name: string;
  readonly clock: Clock;
  /** How long a read is used before the block is asked again (a change applies within that). */
  readonly refreshMs: number;
  readonly decode: (content: Buffer) => T;
  /** The record while no block exists. */
  readonly empty: T;
}

/** The decoded record, re-read at most every `refreshMs` (or when forced) with a conditional read; one read at a time. */
export class NamedRecordCache<T> {
  readonly #options: NamedRecordCacheOptions<T>;
  #cached: { value: MutableValue | undefined; record: T; fetchedMs: number } | undefined;
  #refreshing: Promise<T> | undefined;

  constructor(options: NamedRecordCacheOptions<T>) {
    this.#options = options;
  }

  get(force = false): Promise<T> {
    const cached = this.#cached;
    if (!force && cached !== undefined && this.#options.clock.now() - cached.fetchedMs < this.#options.refreshMs) return Promise.resolve(cached.record);
    this.#refreshing ??= this.#fetch().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** After a write by this gateway: the next get reads the block again. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #fetch(): Promise<T> {
    const { blocks, name, decode, empty, clock } = this.#options;
    const previous = this.#cached;
    const address = previous?.value?.address ?? (await findNamedBlock(blocks, name));
    let value: MutableValue | undefined;
    let record: T;
    if (address === undefined) {
      record = empty;
    } else if (previous?.value !== undefined) {
      const read = await blocks.readMutableIfNewer(address, previous.value.version);
      value = 'notModified' in read ? previous.value : read;
      record = 'notModified' in read ? previous.record : decode(read.content);
    } else {
      value = await blocks.readMutable(address);
      record = decode(value.content);
    }
    this.#cached = { value, record, fetchedMs: clock.now() };
    return record;
  }
}
