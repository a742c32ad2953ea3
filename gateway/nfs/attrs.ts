// Converts the filesystem's protocol-neutral Attributes into fattr3 and wcc_attr (RFC 1813 §2.5–2.6).
import { unreachable } from '../../storage-node/base/assert.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import type { Attributes, SetAttributes, TimeChange } from '../fs/filesystem.js';
import { fileidOf } from './file-handle.js';
import { ftype3, type fattr3, type nfstime3, type sattr3, type wcc_attr } from './types.js';

const BLOCK_BYTES = 4096n;
const UINT32_MAX = 0xffffffff;

export function nfstimeOf(ms: number): nfstime3 {
  const whole = Math.max(0, Math.floor(ms));
  return { seconds: Math.min(UINT32_MAX, Math.floor(whole / 1000)), nseconds: (whole % 1000) * 1_000_000 };
}

export function msOf(t: nfstime3): number {
  return t.seconds * 1000 + Math.floor(t.nseconds / 1_000_000);
}

function ftypeOf(type: Attributes['type']): ftype3 {
  switch (type) {
    case 'file': return ftype3.NF3REG;
    case 'dir': return ftype3.NF3DIR;
    case 'symlink': return ftype3.NF3LNK;
    default: return unreachable(type);
  }
}

/** fsid is the volume id, so each export is its own filesystem to the client (RFC 1813 §2.5: fsid). */
export function fattrOf(a: Attributes, fsid: bigint): fattr3 {
  const size = BigInt(a.size);
  return {
    type: ftypeOf(a.type),
    mode: a.mode & 0o7777,
    nlink: Math.min(a.nlink, UINT32_MAX),
    uid: a.uid,
    gid: a.gid,
    size,
    // "used": bytes of disk space the file uses; we round up to 4 KiB blocks as du expects.
    used: ((size + BLOCK_BYTES - 1n) / BLOCK_BYTES) * BLOCK_BYTES,
    rdev: { specdata1: 0, specdata2: 0 },
    fsid,
    fileid: fileidOf(a.address),
    atime: nfstimeOf(a.atimeMs),
    mtime: nfstimeOf(a.mtimeMs),
    ctime: nfstimeOf(a.ctimeMs),
  };
}

export function wccAttrOf(a: fattr3): wcc_attr {
  return { size: a.size, mtime: a.mtime, ctime: a.ctime };
}

/** sattr3 as the filesystem's changes; a size past what a safe integer holds is refused (NFS3ERR_FBIG). */
export function setAttributesOf(s: sattr3): SetAttributes {
  let size: number | undefined;
  if (s.size !== undefined) {
    if (s.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new ShoalError('TooLarge', `a size of ${s.size} bytes`, { subject: 'inode' });
    size = Number(s.size);
  }
  const time = (t: sattr3['atime']): TimeChange | undefined => (t === undefined ? undefined : t === 'server' ? 'now' : msOf(t));
  const atimeMs = time(s.atime);
  const mtimeMs = time(s.mtime);
  return {
    ...(s.mode === undefined ? {} : { mode: s.mode & 0o7777 }), ...(s.uid === undefined ? {} : { uid: s.uid }),
    ...(s.gid === undefined ? {} : { gid: s.gid }), ...(size === undefined ? {} : { size }),
    ...(atimeMs === undefined ? {} : { atimeMs }), ...(mtimeMs === undefined ? {} : { mtimeMs }),
  };
}

export function isEmptyChange(c: SetAttributes): boolean {
  return Object.keys(c).length === 0;
}
