// Operations that add or remove names: create (exclusive too), mkdir, symlink, link, remove, rmdir.
//
// A create costs two consensus writes (DESIGN §6): the new inode, then its entry; an entry is never written before
// its inode exists. A name's removal goes first and the inode's link count after, so a crash leaves at worst an
// unreferenced inode (for the collector), never an entry without an inode.
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { liveDir } from './directory-pages.js';
import type { DirEntry } from './directory.js';
import { entryFor, missingEntry, type Attributes, type FsContext } from './fs-context.js';
import { MODE_PERMISSION_BITS, type DirInode, type FileData, type Inode, type InodeAttrs } from './inode.js';
import { ACCESS_EXECUTE, ACCESS_WRITE, checkAccess, type Caller } from './permissions.js';

/** The directory, checked live and writable by the caller. */
async function writableDir(cx: FsContext, caller: Caller, dir: Address): Promise<DirInode> {
  const inode = liveDir(dir, (await cx.inodes.read(dir)).inode);
  checkAccess(inode, caller, ACCESS_WRITE | ACCESS_EXECUTE, `directory ${dir.toString('hex')}`);
  return inode;
}

function newAttrs(cx: FsContext, caller: Caller, mode: number, parent: Address, name: string | undefined): InodeAttrs {
  const now = cx.nowMs();
  return {
    mode: mode & MODE_PERMISSION_BITS, uid: caller.uid, gid: caller.gid, nlink: 1, size: 0,
    atimeMs: now, mtimeMs: now, ctimeMs: now, xattrs: new Map(), parent, ...(name === undefined ? {} : { parentName: name }),
  };
}

/** Writes the inode, then adds its entry; a name taken meanwhile fails with Exists (the inode is left to the collector). */
async function link(cx: FsContext, dir: Address, name: string, inode: Inode, root?: DirInode): Promise<Attributes> {
  const created = await cx.inodes.create(inode);
  const entry = entryFor(name, created.address, inode);
  await cx.dirs.change(dir, [name], (current) => (current.get(name) ? exists(name) : new Map([[name, entry]])), cx.nowMs(), root);
  return cx.attributes(created.address, created.version, inode);
}

export interface CreateOptions {
  readonly mode: number;
  /** Fail with Exists when the name is taken (NFS EXCLUSIVE/GUARDED, S3 If-None-Match: *); else return the existing file. */
  readonly exclusive?: boolean;
  /**
   * Content and extended attributes the new file is born with, in the create's one inode version (a small S3 object:
   * no write, commit or setattr after it). `data` must fit inline; the xattrs may depend on the size and mtime.
   */
  readonly initial?: { readonly data: Buffer; readonly xattrs: (stamp: { size: number; mtimeMs: number }) => ReadonlyMap<string, Buffer> };
}

export async function create(cx: FsContext, caller: Caller, dir: Address, name: string, options: CreateOptions): Promise<Attributes> {
  cx.checkName(name);
  for (;;) {
    const root = await writableDir(cx, caller, dir);
    const existing = await cx.dirs.lookup(dir, name, root);
    if (existing !== undefined) {
      if (options.exclusive) throw exists(name);
      if (existing.type === 'dir') throw new ShoalError('IsDir', `"${name}" is a directory`, { subject: 'entry' });
      const { version, inode } = await cx.inodes.read(existing.inode);
      return cx.attributes(existing.inode, version, inode);
    }
    try {
      return await link(cx, dir, name, newFile(cx, caller, dir, name, options), root);
    } catch (err) {
      // Another writer created the name first: an unchecked create returns theirs.
      if (!isShoalError(err, 'Exists') || options.exclusive) throw err;
    }
  }
}

function newFile(cx: FsContext, caller: Caller, dir: Address, name: string, options: CreateOptions): Inode {
  const attrs = newAttrs(cx, caller, options.mode, dir, name);
  const initial = options.initial;
  if (initial === undefined) return { ...attrs, type: 'file', data: { kind: 'inline', bytes: Buffer.alloc(0) } };
  if (initial.data.length > cx.limits.inlineBytesMax) throw new ShoalError('Invalid', `a file is born with at most ${cx.limits.inlineBytesMax} bytes`, { subject: 'entry' });
  const size = initial.data.length;
  return { ...attrs, size, xattrs: new Map(initial.xattrs({ size, mtimeMs: attrs.mtimeMs })), type: 'file', data: { kind: 'inline', bytes: Buffer.from(initial.data) } };
}

export async function mkdir(cx: FsContext, caller: Caller, dir: Address, name: string, mode: number): Promise<Attributes> {
  cx.checkName(name);
  const root = await writableDir(cx, caller, dir);
  if (await cx.dirs.lookup(dir, name, root)) throw exists(name);
  const attrs = newAttrs(cx, caller, mode, dir, undefined);
  return link(cx, dir, name, { ...attrs, nlink: 2, type: 'dir', dir: { kind: 'entries', entries: [] } }, root);
}

export async function symlink(cx: FsContext, caller: Caller, dir: Address, name: string, target: string): Promise<Attributes> {
  cx.checkName(name);
  const bytes = Buffer.byteLength(target, 'utf8');
  if (bytes === 0 || bytes > cx.limits.symlinkBytesMax) throw new ShoalError('Invalid', `a symlink target is 1 to ${cx.limits.symlinkBytesMax} bytes`, { subject: 'entry' });
  await writableDir(cx, caller, dir);
  if (await cx.dirs.lookup(dir, name)) throw exists(name);
  return link(cx, dir, name, { ...newAttrs(cx, caller, 0o777, dir, name), size: bytes, type: 'symlink', target });
}

/** A hard link: the link count goes up first, so that a crash leaves it too high (a leak), never too low (a loss). */
export async function hardLink(cx: FsContext, caller: Caller, target: Address, dir: Address, name: string): Promise<Attributes> {
  cx.checkName(name);
  await writableDir(cx, caller, dir);
  const now = cx.nowMs();
  const raised = await cx.inodes.update(target, (inode) => {
    if (inode.type === 'dir') return new ShoalError('IsDir', 'directories cannot be hard-linked', { subject: 'inode' });
    if (inode.nlink === 0) return new ShoalError('NotFound', 'the inode has no links left', { subject: 'inode' });
    return { ...inode, nlink: inode.nlink + 1, ctimeMs: now };
  });
  const entry = entryFor(name, target, raised.inode);
  try {
    await cx.dirs.change(dir, [name], (current) => (current.get(name) ? exists(name) : new Map([[name, entry]])), now);
  } catch (err) {
    await dropLink(cx, target);
    throw err;
  }
  const { version, inode } = await cx.inodes.read(target);
  return cx.attributes(target, version, inode);
}

export async function remove(cx: FsContext, caller: Caller, dir: Address, name: string): Promise<void> {
  cx.checkName(name);
  await writableDir(cx, caller, dir);
  const before = await cx.dirs.change(dir, [name], (current) => {
    const entry = current.get(name);
    if (entry === undefined) return missingEntry(name);
    if (entry.type === 'dir') return new ShoalError('IsDir', `"${name}" is a directory: use rmdir`, { subject: 'entry' });
    return new Map([[name, null]]);
  }, cx.nowMs());
  const removed = before.get(name);
  if (removed !== undefined) await dropLink(cx, removed.inode);
}

/**
 * One link fewer. A file losing its last link drops its content in the same version, and its chunks and index blocks
 * are freed once that version is published; its gathered writes are dropped. (The inode block itself stays, empty,
 * for the background collector: mutable blocks are not removed yet.)
 */
export async function dropLink(cx: FsContext, address: Address): Promise<void> {
  const now = cx.nowMs();
  let dropped: FileData | undefined;
  const done = await cx.inodes.update(address, (inode) => {
    dropped = undefined;
    if (inode.type === 'dir') return { ...inode, removed: true as const, ctimeMs: now };
    const nlink = Math.max(0, inode.nlink - 1);
    if (nlink > 0 || inode.type !== 'file') return { ...inode, nlink, ctimeMs: now };
    dropped = inode.data;
    return { ...inode, nlink, size: 0, data: { kind: 'inline', bytes: Buffer.alloc(0) }, ctimeMs: now };
  }).catch((err: unknown) => {
    if (!isShoalError(err, 'NotFound')) throw err;
    return undefined;
  });
  if (done === undefined || done.inode.type !== 'file' || done.inode.nlink > 0) return;
  await cx.writes.discard(address);
  // Best effort: the name is gone either way, and what is not freed here is the background collector's.
  if (dropped !== undefined) await cx.free(await cx.content.blocksOf(dropped)).catch(() => undefined);
}

/**
 * rmdir: the directory is marked removed in the same version that proves it empty, then its entry goes. An inline
 * directory is checked and marked atomically; a paged one is checked page by page first (a create racing into a
 * page in that window can be lost with the directory: a known gap until pages carry the mark).
 */
export async function rmdir(cx: FsContext, caller: Caller, dir: Address, name: string): Promise<void> {
  cx.checkName(name);
  await writableDir(cx, caller, dir);
  const entry = await cx.dirs.lookup(dir, name);
  if (entry === undefined) throw missingEntry(name);
  if (entry.type !== 'dir') throw new ShoalError('NotDir', `"${name}" is not a directory`, { subject: 'entry' });
  await markRemoved(cx, entry);
  try {
    await cx.dirs.change(dir, [name], (current) => (current.get(name)?.inode.equals(entry.inode) ? new Map([[name, null]]) : missingEntry(name)), cx.nowMs());
  } catch (err) {
    await cx.inodes.update(entry.inode, (inode) => {
      const { removed: _removed, ...rest } = inode;
      return rest as Inode;
    }).catch(() => undefined);
    throw err;
  }
}

/** Marks an empty directory removed; NotEmpty otherwise. */
export async function markRemoved(cx: FsContext, entry: DirEntry): Promise<void> {
  const target = liveDir(entry.inode, (await cx.inodes.read(entry.inode)).inode);
  if (target.dir.kind === 'pages' && (await cx.dirs.stats(entry.inode, target)).count > 0) throw notEmpty(entry.name);
  const now = cx.nowMs();
  await cx.inodes.update(entry.inode, (inode) => {
    const current = liveDir(entry.inode, inode);
    if (current.dir.kind === 'entries' && current.dir.entries.length > 0) return notEmpty(entry.name);
    return { ...current, removed: true, ctimeMs: now };
  });
}

export function exists(name: string): ShoalError {
  return new ShoalError('Exists', `"${name}" already exists`, { subject: 'entry' });
}

export function notEmpty(name: string): ShoalError {
  return new ShoalError('NotEmpty', `directory "${name}" is not empty`, { subject: 'entry' });
}
