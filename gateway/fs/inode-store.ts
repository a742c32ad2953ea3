// Inodes as mutable blocks: create, read and update as a function of the current inode (replayed when another gateway
// won the version), with a missing block reported as a missing inode. Decoded inodes are kept in a bounded cache and
// revalidated by version on every read: a conditional read still asks a majority (so reads stay linearizable and
// another gateway's change is seen at once), but an unchanged inode costs no content transfer and no decoding.
import { isShoalError, type ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { asInodeError, type FsBlocks } from './fs-blocks.js';
import { decodeInodeAt, encodeInode, type Inode } from './inode.js';

export interface InodeVersion<I extends Inode = Inode> {
  readonly address: Address;
  readonly version: number;
  readonly inode: I;
}

export class InodeStore {
  readonly #blocks: FsBlocks;
  readonly #entriesMax: number;
  // Insertion order is recency (re-inserted on every use): the first key is the least recently used.
  readonly #cache = new Map<string, InodeVersion>();
  /** Reads answered from the cache after a not-modified revalidation, for tests and metrics. */
  revalidated = 0;

  constructor(blocks: FsBlocks, options: { cacheEntriesMax?: number } = {}) {
    this.#blocks = blocks;
    this.#entriesMax = options.cacheEntriesMax ?? 0;
  }

  async create(inode: Inode): Promise<InodeVersion> {
    const { address, version } = await this.#blocks.createMutable(encodeInode(inode));
    return this.#remember({ address, version, inode });
  }

  async read(address: Address): Promise<InodeVersion> {
    const key = address.toString('hex');
    const cached = this.#cache.get(key);
    try {
      if (cached !== undefined) {
        const value = await this.#blocks.readMutableIfNewer(address, cached.version);
        if ('notModified' in value) {
          this.revalidated++;
          return this.#remember(cached);
        }
        return this.#remember({ address, version: value.version, inode: this.#decodeAt(address, value.version, value.content) });
      }
      const { version, content } = await this.#blocks.readMutable(address);
      return this.#remember({ address, version, inode: this.#decodeAt(address, version, content) });
    } catch (err) {
      this.#cache.delete(key);
      throw asInodeError(err, `inode ${address.toString('hex')}`);
    }
  }

  /**
   * `apply` gets the current inode and returns the next one, or a ShoalError when the operation no longer applies.
   * It may run several times and must be pure; the inode returned is decoded from the chosen version.
   */
  async update(address: Address, apply: (inode: Inode) => Inode | ShoalError): Promise<InodeVersion> {
    try {
      const { version, content } = await this.#blocks.updateMutable(address, (current) => {
        const next = apply(decodeOnce(address, current));
        if (isShoalError(next)) return next;
        const bytes = encodeInode(next);
        inodesByContent.set(bytes, next);
        return bytes;
      });
      return this.#remember({ address, version, inode: decodeOnce(address, content) });
    } catch (err) {
      throw asInodeError(err, `inode ${address.toString('hex')}`);
    }
  }

  /** Concurrent reads that bring back the same new version decode it once. */
  #decodeAt(address: Address, version: number, content: Buffer): Inode {
    const cached = this.#cache.get(address.toString('hex'));
    return cached !== undefined && cached.version === version ? cached.inode : decodeOnce(address, content);
  }

  #remember(value: InodeVersion): InodeVersion {
    if (this.#entriesMax === 0) return value;
    const key = value.address.toString('hex');
    const cached = this.#cache.get(key);
    // Concurrent operations finish in any order: never replace a newer version with an older one.
    if (cached !== undefined && cached.version > value.version) return value;
    this.#cache.delete(key);
    this.#cache.set(key, value);
    if (this.#cache.size > this.#entriesMax) this.#cache.delete(this.#cache.keys().next().value as string);
    return value;
  }
}

// Inodes by the bytes they were encoded to or decoded from (identity): in a burst of updates of one hot inode (a
// directory with inline entries) each update starts from the previous one's object instead of decoding it again.
const inodesByContent = new WeakMap<Buffer, Inode>();

function decodeOnce(address: Address, content: Buffer): Inode {
  const known = inodesByContent.get(content);
  if (known !== undefined) return known;
  const inode = decodeInodeAt(address, content);
  inodesByContent.set(content, inode);
  return inode;
}
