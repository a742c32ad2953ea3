// Inodes as mutable blocks: create, read and update as a function of the current inode (replayed when another gateway
// won the version), with a missing block reported as a missing inode.
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

  constructor(blocks: FsBlocks) {
    this.#blocks = blocks;
  }

  async create(inode: Inode): Promise<InodeVersion> {
    const { address, version } = await this.#blocks.createMutable(encodeInode(inode));
    return { address, version, inode };
  }

  async read(address: Address): Promise<InodeVersion> {
    try {
      const { version, content } = await this.#blocks.readMutable(address);
      return { address, version, inode: decodeInodeAt(address, content) };
    } catch (err) {
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
        const next = apply(decodeInodeAt(address, current));
        return isShoalError(next) ? next : encodeInode(next);
      });
      return { address, version, inode: decodeInodeAt(address, content) };
    } catch (err) {
      throw asInodeError(err, `inode ${address.toString('hex')}`);
    }
  }
}
