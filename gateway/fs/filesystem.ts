// The protocol-neutral API over one volume (NFS and S3 both call it): every operation takes the caller and inode
// addresses, checks permissions once, and changes blocks only as functions of their current value, so concurrent
// gateways replay each other correctly.
import type { Clock } from '../../storage-node/base/clock.js';
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { liveDir } from './directory-pages.js';
import type { DirCookie, DirEntry } from './directory.js';
import { asFile, FsContext, missingEntry, type Attributes } from './fs-context.js';
import type { FsBlocks } from './fs-blocks.js';
import type { FsLimits } from './fs-limits.js';
import { MODE_PERMISSION_BITS, type Inode } from './inode.js';
import { create, hardLink, mkdir, remove, rmdir, symlink, type CreateOptions } from './namespace.js';
import { ACCESS_EXECUTE, ACCESS_READ, ACCESS_WRITE, checkAccess, checkOwner, inGroup, type Caller } from './permissions.js';
import { splice } from './splice.js';
import { rename, type TargetExpectation } from './rename.js';

export type { Attributes } from './fs-context.js';
export type { CreateOptions } from './namespace.js';
export { isExpectationFailure, type TargetExpectation } from './rename.js';

/** Times a read starts again when a chunk it needs was freed under it by a newer version. */
const READ_RETRIES_MAX = 3;

/** 'now' sets the gateway's time (allowed with write permission); a number sets that time (owner only). */
export type TimeChange = number | 'now';

export interface SetAttributes {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  readonly atimeMs?: TimeChange;
  readonly mtimeMs?: TimeChange;
  /** Extended attributes to set (bytes) or remove (null): S3 metadata lives here. */
  readonly xattrs?: ReadonlyMap<string, Buffer | null>;
  /**
   * Apply only while the file's committed size and mtime are these (else Conflict): for a value derived from the content
   * (an ETag computed from the bytes), which must not land on a newer version.
   */
  readonly ifContent?: { readonly size: number; readonly mtimeMs: number };
}

export interface ReaddirResult {
  readonly entries: readonly DirEntry[];
  /** Pass back to continue after the last entry; valid while the directory changes. */
  readonly cookie: DirCookie | undefined;
  readonly eof: boolean;
}

export interface StatFs {
  readonly totalBytes: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
}

export interface FsStats {
  readonly chunkCacheBytes: number;
  readonly chunkCacheHits: number;
  readonly chunkCacheMisses: number;
  /** Inode reads answered from the cache after the cluster said not-modified. */
  readonly inodeRevalidations: number;
  /** Written bytes held in memory, not yet in stored chunks. */
  readonly gatheredBytes: number;
}

export class FileSystem {
  readonly #cx: FsContext;

  constructor(options: { blocks: FsBlocks; clock: Clock; limits: FsLimits; root: Address }) {
    this.#cx = new FsContext(options);
  }

  get root(): Address {
    return this.#cx.root;
  }

  async getattr(address: Address): Promise<Attributes> {
    const { version, inode } = await this.#cx.inodes.read(address);
    if (inode.type === 'dir' && inode.removed) throw new ShoalError('NotFound', 'the directory was removed', { subject: 'inode' });
    return this.#cx.attributes(address, version, inode);
  }

  /** A directory's parent (for `..`); the root is its own parent. */
  async parentOf(dir: Address): Promise<Address> {
    const inode = liveDir(dir, (await this.#cx.inodes.read(dir)).inode);
    return inode.parent ?? dir;
  }

  async lookup(caller: Caller, dir: Address, name: string): Promise<Attributes> {
    this.#cx.checkName(name);
    const parent = liveDir(dir, (await this.#cx.inodes.read(dir)).inode);
    checkAccess(parent, caller, ACCESS_EXECUTE, `directory ${dir.toString('hex')}`);
    const entry = await this.#cx.dirs.lookup(dir, name);
    if (entry === undefined) throw missingEntry(name);
    return this.getattr(entry.inode);
  }

  create(caller: Caller, dir: Address, name: string, options: CreateOptions): Promise<Attributes> {
    return create(this.#cx, caller, dir, name, options);
  }

  mkdir(caller: Caller, dir: Address, name: string, mode: number): Promise<Attributes> {
    return mkdir(this.#cx, caller, dir, name, mode);
  }

  symlink(caller: Caller, dir: Address, name: string, target: string): Promise<Attributes> {
    return symlink(this.#cx, caller, dir, name, target);
  }

  link(caller: Caller, target: Address, dir: Address, name: string): Promise<Attributes> {
    return hardLink(this.#cx, caller, target, dir, name);
  }

  remove(caller: Caller, dir: Address, name: string): Promise<void> {
    return remove(this.#cx, caller, dir, name);
  }

  rmdir(caller: Caller, dir: Address, name: string): Promise<void> {
    return rmdir(this.#cx, caller, dir, name);
  }

  /** `expect`: what the target name must hold at the moment of the change (an exact conditional replace). */
  rename(caller: Caller, sourceDir: Address, sourceName: string, targetDir: Address, targetName: string, expect?: TargetExpectation): Promise<void> {
    return rename(this.#cx, caller, sourceDir, sourceName, targetDir, targetName, expect);
  }

  async readlink(address: Address): Promise<string> {
    const { inode } = await this.#cx.inodes.read(address);
    if (inode.type !== 'symlink') throw new ShoalError('Invalid', 'not a symlink', { subject: 'inode' });
    return inode.target;
  }

  async readdir(caller: Caller, dir: Address, options: { cookie?: DirCookie; count: number }): Promise<ReaddirResult> {
    const inode = liveDir(dir, (await this.#cx.inodes.read(dir)).inode);
    checkAccess(inode, caller, ACCESS_READ, `directory ${dir.toString('hex')}`);
    if (options.count < 1) throw new ShoalError('Invalid', 'a listing asks for at least one entry', { subject: 'entry' });
    const { entries, eof } = await this.#cx.dirs.list(dir, options.cookie, options.count);
    return { entries, eof, cookie: entries[entries.length - 1]?.name ?? options.cookie };
  }

  /**
   * Reads committed bytes with this gateway's gathered writes over them. A chunk freed under the read (another gateway
   * overwrote it and published) means the inode moved on: the read starts again from the new version.
   */
  async read(caller: Caller, address: Address, offset: number, length: number): Promise<{ data: Buffer; eof: boolean }> {
    checkRange(offset, length);
    for (let attempt = 0; ; attempt++) {
      const file = asFile(address, (await this.#cx.inodes.read(address)).inode);
      checkAccess(file, caller, ACCESS_READ, `file ${address.toString('hex')}`);
      const size = Math.max(file.size, this.#cx.writes.view(address)?.end ?? 0);
      const data = Buffer.alloc(Math.max(0, Math.min(size, offset + length) - offset));
      try {
        await this.#cx.content.readInto(address, file, offset, data);
      } catch (err) {
        if (isShoalError(err, 'NotFound') && err.subject === 'block' && attempt < READ_RETRIES_MAX) continue;
        throw err;
      }
      await this.#cx.writes.overlay(address, offset, data);
      return { data, eof: offset + data.length >= size };
    }
  }

  /**
   * Writes at any offset (past the end leaves a hole). The bytes are gathered in this gateway: its own reads and
   * attributes show them at once, other gateways after `commit` (or after the gateway commits on its own, past its
   * memory bounds).
   */
  async write(caller: Caller, address: Address, offset: number, data: Buffer): Promise<Attributes> {
    checkRange(offset, data.length);
    const { version, inode } = await this.#cx.inodes.read(address);
    const file = asFile(address, inode);
    checkAccess(file, caller, ACCESS_WRITE, `file ${address.toString('hex')}`);
    if (data.length === 0) return this.#cx.attributes(address, version, file);
    const chunkBytes = file.data.kind === 'fat' ? file.data.fat.chunkBytes : this.#cx.limits.chunkBytes;
    await this.#cx.writes.write(address, offset, data, { chunkBytes, mtimeMs: this.#cx.nowMs() });
    // Still gathered: the inode read above plus the gathered size is the answer. Committed on its own: read it again.
    if (this.#cx.writes.view(address) !== undefined) return this.#cx.attributes(address, version, file);
    const current = await this.#cx.inodes.read(address);
    return this.#cx.attributes(address, current.version, current.inode);
  }

  /** Stores what is gathered for the file and publishes it as one inode version (NFS COMMIT, the end of an S3 PUT, close). */
  async commit(address: Address): Promise<Attributes> {
    await this.#cx.writes.commit(address);
    return this.getattr(address);
  }

  /** The most bytes a file holds in its inode: what `create` accepts as initial content. */
  get inlineBytesMax(): number {
    return this.#cx.limits.inlineBytesMax;
  }

  /**
   * Gives the empty file `target` the content of `sources` in order, by reference (their chunks move; the sources are
   * left empty). Undefined, with nothing changed, when they cannot be spliced: the caller copies instead.
   */
  splice(caller: Caller, target: Address, sources: readonly Address[]): Promise<Attributes | undefined> {
    return splice(this.#cx, caller, target, sources);
  }

  /** Commits every file with gathered writes (a gateway shutting down). */
  commitAll(): Promise<void> {
    return this.#cx.writes.commitAll();
  }

  async setattr(caller: Caller, address: Address, changes: SetAttributes): Promise<Attributes> {
    const now = this.#cx.nowMs();
    const what = `inode ${address.toString('hex')}`;
    if (changes.size !== undefined) {
      checkRange(changes.size, 0);
      // Gathered writes go first, so that the truncate cuts them like the bytes they were written before.
      await this.#cx.writes.commit(address);
      const published = await this.#cx.content.truncate(address, changes.size, now, (inode) => {
        const file = asFile(address, inode);
        checkAccess(file, caller, ACCESS_WRITE, what);
        return file;
      });
      await this.#cx.free(published.garbage);
    }
    const done = await this.#cx.inodes.update(address, (inode) => applyAttributes(inode, caller, changes, now, what));
    await this.#cx.refreshEntry(address, done.inode);
    return this.#cx.attributes(address, done.version, done.inode);
  }

  /** Cache and gathering figures, for metrics and tests. */
  stats(): FsStats {
    const cache = this.#cx.chunks.cache;
    return {
      chunkCacheBytes: cache.bytes, chunkCacheHits: cache.hits, chunkCacheMisses: cache.misses,
      inodeRevalidations: this.#cx.inodes.revalidated, gatheredBytes: this.#cx.writes.bytes,
    };
  }

  statfs(): StatFs {
    const { totalBytes, usedBytes } = this.#cx.blocks.capacity();
    return { totalBytes, usedBytes, freeBytes: Math.max(0, totalBytes - usedBytes) };
  }
}

/** The attribute changes as a function of the current inode (checked against it, so a replay re-checks). */
function applyAttributes(inode: Inode, caller: Caller, changes: SetAttributes, now: number, what: string): Inode {
  if (inode.type === 'dir' && inode.removed) throw new ShoalError('NotFound', 'the directory was removed', { subject: 'inode' });
  if (changes.ifContent !== undefined && (inode.size !== changes.ifContent.size || inode.mtimeMs !== changes.ifContent.mtimeMs)) {
    throw new ShoalError('Conflict', 'the file changed since its content was read', { subject: 'inode' });
  }
  let next: Inode = { ...inode, ctimeMs: now };
  if (changes.mode !== undefined) {
    checkOwner(inode, caller, what);
    next = { ...next, mode: changes.mode & MODE_PERMISSION_BITS };
  }
  if (changes.uid !== undefined && changes.uid !== inode.uid) {
    if (caller.uid !== 0) throw new ShoalError('Forbidden', 'only root changes an owner', { subject: 'inode' });
    next = { ...next, uid: changes.uid };
  }
  if (changes.gid !== undefined && changes.gid !== inode.gid) {
    checkOwner(inode, caller, what);
    if (caller.uid !== 0 && !inGroup(caller, changes.gid)) throw new ShoalError('Forbidden', `uid ${caller.uid} is not in group ${changes.gid}`, { subject: 'inode' });
    next = { ...next, gid: changes.gid };
  }
  for (const [field, change] of [['atimeMs', changes.atimeMs], ['mtimeMs', changes.mtimeMs]] as const) {
    if (change === undefined) continue;
    if (change === 'now') {
      if (caller.uid !== inode.uid) checkAccess(inode, caller, ACCESS_WRITE, what);
      next = { ...next, [field]: now };
    } else {
      checkOwner(inode, caller, what);
      checkRange(change, 0);
      next = { ...next, [field]: Math.floor(change) };
    }
  }
  if (changes.xattrs !== undefined) {
    checkOwner(inode, caller, what);
    const xattrs = new Map(inode.xattrs);
    for (const [key, value] of changes.xattrs) {
      if (value === null) xattrs.delete(key);
      else xattrs.set(key, value);
    }
    next = { ...next, xattrs };
  }
  return next;
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > Number.MAX_SAFE_INTEGER) {
    throw new ShoalError('Invalid', `offset ${offset} and length ${length} are out of range`, { subject: 'inode' });
  }
}
