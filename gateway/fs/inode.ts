// The inode record (a mutable block's content): type, attributes, xattrs and content, in a compact versioned msgpack
// map with strict decode checks.
//
// Times are integer milliseconds since the Unix epoch: the unit of Clock.wallMs() and of S3 (Last-Modified); NFS's
// nanoseconds are kept to the millisecond (setattr rounds down), which keeps every time a safe integer in msgpack.
import { ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { decodeEntries, decodePageRefs, encodeEntries, encodePageRefs, typeCode, typeOfCode, type DirEntry, type InodeType, type PageRef } from './directory.js';
import { decodeFat, encodeFat, type Fat } from './fat-record.js';
import { checkBytes, checkString, checkTuple, packRecord, RecordReader } from './record-packer.js';

export const INODE_FORMAT_VERSION = 1;
/** The xattr that holds a file's ETag (S3 metadata lives in xattrs); listings copy it into the directory entry. */
export const ETAG_XATTR = 's3.etag';
export const MODE_PERMISSION_BITS = 0o7777;

export type FileData = { readonly kind: 'inline'; readonly bytes: Buffer } | { readonly kind: 'fat'; readonly fat: Fat };
export type DirData = { readonly kind: 'entries'; readonly entries: readonly DirEntry[] } | { readonly kind: 'pages'; readonly pages: readonly PageRef[] };

export interface InodeAttrs {
  /** Permission bits only (0o7777); the type is `type`. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Links to a file or symlink; a directory's is computed (2 + subdirectories) and this stays 2. */
  readonly nlink: number;
  readonly size: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /**
   * A directory's parent (`..`; the root's is itself). A file's or symlink's is the directory of the link it was made
   * or last renamed under, with `parentName`: a hint, used to refresh that entry's listing attributes.
   */
  readonly parent?: Address;
  readonly parentName?: string;
  /** A removed directory: set by rmdir in the same version that proves it empty, so no entry is added afterwards. */
  readonly removed?: true;
}

export type FileInode = InodeAttrs & { readonly type: 'file'; readonly data: FileData };
export type DirInode = InodeAttrs & { readonly type: 'dir'; readonly dir: DirData };
export type SymlinkInode = InodeAttrs & { readonly type: 'symlink'; readonly target: string };
export type Inode = FileInode | DirInode | SymlinkInode;

export function encodeInode(inode: Inode): Buffer {
  const record: Record<string, unknown> = {
    v: INODE_FORMAT_VERSION, t: typeCode(inode.type), m: inode.mode, u: inode.uid, g: inode.gid, n: inode.nlink,
    s: inode.size, a: inode.atimeMs, mt: inode.mtimeMs, c: inode.ctimeMs,
  };
  if (inode.xattrs.size > 0) record['x'] = [...inode.xattrs].sort(([a], [b]) => (a < b ? -1 : 1));
  if (inode.parent !== undefined) record['p'] = inode.parent;
  if (inode.parentName !== undefined) record['pn'] = inode.parentName;
  if (inode.removed) record['rm'] = true;
  switch (inode.type) {
    case 'file':
      if (inode.data.kind === 'inline') record['d'] = inode.data.bytes;
      else record['f'] = encodeFat(inode.data.fat);
      break;
    case 'dir':
      if (inode.dir.kind === 'entries') record['e'] = encodeEntries(inode.dir.entries);
      else record['pg'] = encodePageRefs(inode.dir.pages);
      break;
    case 'symlink':
      record['l'] = inode.target;
      break;
  }
  return packRecord(record);
}

export function decodeInode(bytes: Buffer): Inode {
  const r = new RecordReader('inode', bytes);
  r.formatVersion(INODE_FORMAT_VERSION);
  const type: InodeType = typeOfCode(r.raw('t'), () => r.fail('t', 'an inode type'));
  const mode = r.uint('m');
  if ((mode & ~MODE_PERMISSION_BITS) !== 0) throw r.fail('m', 'permission bits only');
  const attrs: InodeAttrs = {
    mode, uid: r.uint('u'), gid: r.uint('g'), nlink: r.uint('n'), size: r.uint('s'),
    atimeMs: r.uint('a'), mtimeMs: r.uint('mt'), ctimeMs: r.uint('c'), xattrs: decodeXattrs(r),
    ...(r.has('p') ? { parent: r.address('p') } : {}),
    ...(r.has('pn') ? { parentName: r.string('pn') } : {}),
    ...(r.has('rm') ? { removed: removedFlag(r) } : {}),
  };
  switch (type) {
    case 'file': {
      if (r.has('d') === r.has('f')) throw r.fail('d', 'present exactly when there is no FAT ("f")');
      const data: FileData = r.has('d') ? { kind: 'inline', bytes: r.bytes('d') } : { kind: 'fat', fat: decodeFat(r.raw('f'), 'inode FAT') };
      if (data.kind === 'inline' && data.bytes.length > attrs.size) throw r.fail('d', 'no longer than the size');
      return { ...attrs, type, data };
    }
    case 'dir': {
      if (r.has('e') === r.has('pg')) throw r.fail('e', 'present exactly when there are no pages ("pg")');
      const dir: DirData = r.has('e') ? { kind: 'entries', entries: decodeEntries(r.raw('e'), 'inode entries') } : { kind: 'pages', pages: decodePageRefs(r.raw('pg'), 'inode pages') };
      return { ...attrs, type, dir };
    }
    case 'symlink':
      return { ...attrs, type, target: r.string('l') };
  }
}

function decodeXattrs(r: RecordReader): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  if (!r.has('x')) return xattrs;
  const fail = () => r.fail('x', 'a list of [name, bytes] pairs, names unique');
  for (const pair of r.array('x')) {
    const [name, value] = checkTuple(pair, 2, fail);
    const key = checkString(name, fail);
    if (xattrs.has(key)) throw fail();
    xattrs.set(key, checkBytes(value, fail));
  }
  return xattrs;
}

function removedFlag(r: RecordReader): true {
  if (r.raw('rm') !== true) throw r.fail('rm', 'true when present');
  return true;
}

/** A decode failure of a block that should be an inode is the inode's, not the caller's. */
export function decodeInodeAt(address: Address, bytes: Buffer): Inode {
  try {
    return decodeInode(bytes);
  } catch (cause) {
    throw new ShoalError('Invalid', `block ${address.toString('hex')} is not an inode`, { subject: 'inode', cause });
  }
}
