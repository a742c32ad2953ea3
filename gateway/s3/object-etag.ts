// An object's ETag, right whichever protocol wrote the file. S3 stores the ETag in the inode's ETag xattr together
// with the content version it was computed for (size and mtime): NFS writes change the content without touching the
// xattr, so a stored ETag whose version is not the file's current one is stale. A stale or missing ETag is computed
// (the MD5 of the bytes, streamed) and cached back on the inode, conditionally, so it never lands on newer content.
import { createHash } from 'node:crypto';
import { isShoalError } from '../../storage-node/base/errors.js';
import type { Attributes, FileSystem } from '../fs/filesystem.js';
import { ETAG_XATTR } from '../fs/inode.js';
import { ROOT_CALLER } from '../fs/permissions.js';

/** What a file's ETag was computed for: its size and mtime at that moment. */
export interface ContentVersion {
  readonly size: number;
  readonly mtimeMs: number;
}

const READ_PIECE_BYTES = 1024 * 1024;

/** The xattr value: `<etag> <size>:<mtimeMs>` (an ETag holds no space). */
export function etagXattrValue(etag: string, version: ContentVersion): Buffer {
  return Buffer.from(`${etag} ${version.size}:${version.mtimeMs}`);
}

/**
 * The ETag stored in an xattr value (or a directory entry's copy of it) if it is valid for `version`. A value without
 * a version (a directory marker's, or one stored before versions were kept) is taken as valid.
 */
export function validStoredEtag(stored: string | undefined, version: ContentVersion): string | undefined {
  if (stored === undefined || stored === '') return undefined;
  const space = stored.indexOf(' ');
  if (space < 0) return stored;
  return stored.slice(space + 1) === `${version.size}:${version.mtimeMs}` ? stored.slice(0, space) : undefined;
}

/** The stored ETag with any version stripped (for directory markers, whose ETag does not follow their entries). */
export function storedEtagText(attrs: Pick<Attributes, 'xattrs'>): string | undefined {
  const stored = attrs.xattrs.get(ETAG_XATTR)?.toString('utf8');
  return stored?.split(' ')[0];
}

/** The file's ETag: the stored one when it is valid for the file's current content, else computed and cached. */
export async function objectEtag(fs: FileSystem, attrs: Attributes): Promise<string> {
  const version = { size: attrs.size, mtimeMs: attrs.mtimeMs };
  const valid = validStoredEtag(attrs.xattrs.get(ETAG_XATTR)?.toString('utf8'), version);
  if (valid !== undefined) return valid;
  const md5 = createHash('md5');
  for (let offset = 0; offset < attrs.size;) {
    const { data } = await fs.read(ROOT_CALLER, attrs.address, offset, Math.min(READ_PIECE_BYTES, attrs.size - offset));
    if (data.length === 0) break; // truncated under us: this ETag is for what was read, and is not cached below
    md5.update(data);
    offset += data.length;
  }
  const etag = md5.digest('hex');
  try {
    // Only while the file still holds the content just read: a newer version keeps its own (or no) ETag.
    await fs.setattr(ROOT_CALLER, attrs.address, { xattrs: new Map([[ETAG_XATTR, etagXattrValue(etag, version)]]), ifContent: version });
  } catch (err) {
    if (!isShoalError(err, 'Conflict') && !isShoalError(err, 'NotFound')) throw err;
  }
  return etag;
}
