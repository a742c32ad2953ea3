// What the operations of one volume share: its stores, caches, write gatherer, clock and limits, and the conversions
// between inodes, directory entries and the protocol-neutral attributes (which show this gateway's gathered writes).
import type { Clock } from '../../storage-node/base/clock.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { ChunkStore } from './chunk-store.js';
import { Directories } from './directory-pages.js';
import { checkName, type DirEntry, type InodeType } from './directory.js';
import { FileContent, type GatheredWrites, type Published } from './file-content.js';
import type { SealedRef } from './fat-record.js';
import type { FsBlocks } from './fs-blocks.js';
import type { FsLimits } from './fs-limits.js';
import { ETAG_XATTR, type FileInode, type Inode } from './inode.js';
import { InodeStore } from './inode-store.js';
import { WriteGather } from './write-gather.js';

export interface Attributes {
  readonly address: Address;
  /** The inode block's version: changes with every change of the inode (NFS change attribute, cache revalidation). */
  readonly version: number;
  readonly type: InodeType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  /** Bytes for a file, the target's length for a symlink, the number of entries for a directory. */
  readonly size: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

export class FsContext {
  readonly blocks: FsBlocks;
  readonly clock: Clock;
  readonly limits: FsLimits;
  readonly inodes: InodeStore;
  readonly dirs: Directories;
  readonly content: FileContent;
  readonly chunks: ChunkStore;
  readonly writes: WriteGather;
  readonly root: Address;

  constructor(options: { blocks: FsBlocks; clock: Clock; limits: FsLimits; root: Address }) {
    this.blocks = options.blocks;
    this.clock = options.clock;
    this.limits = options.limits;
    this.root = options.root;
    this.inodes = new InodeStore(this.blocks, { cacheEntriesMax: this.limits.inodeCacheEntriesMax });
    this.dirs = new Directories(this.blocks, this.inodes, this.limits);
    this.chunks = new ChunkStore(this.blocks, { cacheBytesMax: this.limits.chunkCacheBytesMax });
    this.content = new FileContent(this.chunks, this.inodes, this.limits);
    this.writes = new WriteGather({ chunks: this.chunks, limits: this.limits, publish: (address, writes) => this.#publishWrites(address, writes) });
  }

  /** One inode version for the gathered writes, then the entry's listing attributes, then the blocks they replaced. */
  async #publishWrites(address: Address, writes: GatheredWrites): Promise<void> {
    const published = await this.content.commit(address, writes, (inode) => {
      const file = asFile(address, inode);
      if (file.nlink === 0) throw new ShoalError('NotFound', `file ${address.toString('hex')} was removed`, { subject: 'inode' });
      return file;
    });
    await this.afterPublish(address, published);
  }

  /** What follows every published content change: the entry's listing attributes refreshed and the replaced blocks freed. */
  async afterPublish(address: Address, published: Published): Promise<void> {
    await this.refreshEntry(address, published.done.inode);
    await this.free(published.garbage);
  }

  /** Frees blocks the published inode versions no longer reference (signed removes). */
  async free(refs: readonly SealedRef[]): Promise<void> {
    if (refs.length > 0) await this.chunks.remove(refs.map((r) => r.address));
  }

  /** Wall time in whole milliseconds (inode times are integers). */
  nowMs(): number {
    return Math.floor(this.clock.wallMs());
  }

  checkName(name: string): void {
    checkName(name, this.limits.nameBytesMax);
  }

  async attributes(address: Address, version: number, inode: Inode): Promise<Attributes> {
    const common = {
      address, version, type: inode.type, mode: inode.mode, uid: inode.uid, gid: inode.gid,
      atimeMs: inode.atimeMs, ctimeMs: inode.ctimeMs, xattrs: inode.xattrs,
    };
    if (inode.type !== 'dir') {
      // This gateway's gathered writes show in its answers before they are committed (read-your-writes).
      const gathered = inode.type === 'file' ? this.writes.view(address) : undefined;
      if (gathered !== undefined) return { ...common, nlink: inode.nlink, size: Math.max(inode.size, gathered.end), mtimeMs: Math.max(inode.mtimeMs, gathered.mtimeMs) };
      return { ...common, nlink: inode.nlink, size: inode.size, mtimeMs: inode.mtimeMs };
    }
    const stats = await this.dirs.stats(address, inode);
    return { ...common, nlink: 2 + stats.subdirs, size: stats.count, mtimeMs: stats.mtimeMs };
  }

  /** Refreshes the listing attributes in the entry the inode's parent hint names, if it still points at this inode. */
  async refreshEntry(address: Address, inode: Inode): Promise<void> {
    if (inode.type === 'dir' || inode.parent === undefined || inode.parentName === undefined) return;
    const name = inode.parentName;
    const fresh = entryFor(name, address, inode);
    await this.dirs.change(inode.parent, [name], (current) => {
      const entry = current.get(name);
      if (entry === undefined || !entry.inode.equals(address) || sameListing(entry, fresh)) return new Map();
      return new Map([[name, fresh]]);
    }, undefined).catch(() => undefined); // a hint: a missing or changed entry is not this write's failure
  }
}

export function entryFor(name: string, address: Address, inode: Inode): DirEntry {
  const etag = inode.xattrs.get(ETAG_XATTR)?.toString('utf8');
  return {
    name, inode: address, type: inode.type, size: inode.type === 'dir' ? 0 : inode.size, mode: inode.mode,
    mtimeMs: inode.mtimeMs, ...(etag === undefined ? {} : { etag }),
  };
}

function sameListing(a: DirEntry, b: DirEntry): boolean {
  return a.size === b.size && a.mode === b.mode && a.mtimeMs === b.mtimeMs && a.etag === b.etag && a.type === b.type;
}

export function asFile(address: Address, inode: Inode): FileInode {
  if (inode.type === 'dir') throw new ShoalError('IsDir', `inode ${address.toString('hex')} is a directory`, { subject: 'inode' });
  if (inode.type !== 'file') throw new ShoalError('Invalid', `inode ${address.toString('hex')} is a symlink, not a file`, { subject: 'inode' });
  return inode;
}

export function missingEntry(name: string): ShoalError {
  return new ShoalError('NotFound', `no entry named "${name}"`, { subject: 'entry' });
}
