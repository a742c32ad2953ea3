// PutObject (and the write half of CopyObject): the body streams into a hidden file in the key's directory, chunk by
// chunk through the filesystem's write gathering, is committed, gets its ETag and headers, and is renamed over the
// key: readers see the old object or the new one, never a part. If-None-Match: * creates the key exclusively instead.
import { createHash } from 'node:crypto';
import { isShoalError } from '../../../storage-node/base/errors.js';
import type { Attributes, FileSystem } from '../../fs/filesystem.js';
import { ETAG_XATTR } from '../../fs/inode.js';
import { ROOT_CALLER } from '../../fs/permissions.js';
import { s3Errors } from '../errors.js';
import { HEADERS_XATTR, MARKER_XATTR, parseKey, resolveDir, statObject, UPLOAD_NAME_PREFIX } from '../key-path.js';
import type { Address } from '../key-path.js';

/** AWS's limit on one PutObject. */
export const PUT_OBJECT_BYTES_MAX = 5 * 1024 ** 3;
/** A directory removed under us by a concurrent delete (it pruned the empty parent): start the path again. */
const PATH_RETRIES_MAX = 3;
const RENAME_RETRIES_MAX = 5;

export interface StoreOptions {
  readonly headers: Readonly<Record<string, string>>;
  /** If-None-Match: * — fail with PreconditionFailed when the key exists. */
  readonly exclusive: boolean;
  /** If-Match: the current object's ETag must be this. */
  readonly ifMatch?: string;
  /** Content-MD5 in base64, checked before anything is published. */
  readonly contentMd5?: string;
  readonly uploadId: string;
  /** The ETag to store instead of the body's MD5 (a completed multipart upload's). */
  readonly etag?: string;
  /** Instead of PutObject's 5 GiB (a completed multipart upload may hold up to 5 TiB). */
  readonly bytesMax?: number;
}

export interface Stored {
  readonly etag: string;
  readonly attrs: Attributes;
}

export async function storeObject(fs: FileSystem, key: string, body: AsyncIterable<Buffer>, options: StoreOptions): Promise<Stored> {
  const path = parseKey(key);
  if (options.contentMd5 !== undefined && Buffer.from(options.contentMd5, 'base64').length !== 16) throw s3Errors.invalidDigest();
  if (options.ifMatch !== undefined) await checkIfMatch(fs, key, options.ifMatch);
  if (path.name === undefined) return storeMarker(fs, path.dirs, body, options);
  const name = path.name;
  let dir: Address | undefined;
  let file: Attributes | undefined;
  for (let attempt = 0; file === undefined; attempt++) {
    try {
      dir = await resolveDir(fs, path.dirs, { create: true });
      file = await fs.create(ROOT_CALLER, dir, options.exclusive ? name : `${UPLOAD_NAME_PREFIX}${options.uploadId}`, { mode: 0o644, exclusive: true });
    } catch (err) {
      if (isShoalError(err, 'Exists') && options.exclusive) throw s3Errors.preconditionFailed();
      if (isShoalError(err, 'IsDir')) throw s3Errors.keyConflict(`"${key}" is a prefix of other keys, so it cannot also be an object`);
      if (!isShoalError(err, 'NotFound') || attempt >= PATH_RETRIES_MAX) throw err;
    }
  }
  const tempName = options.exclusive ? name : `${UPLOAD_NAME_PREFIX}${options.uploadId}`;
  const created = file;
  const parent = dir as Address;
  try {
    const md5 = createHash('md5');
    let offset = 0;
    for await (const piece of body) {
      if (offset + piece.length > (options.bytesMax ?? PUT_OBJECT_BYTES_MAX)) throw s3Errors.entityTooLarge();
      md5.update(piece);
      // Awaited one at a time: the socket is not read faster than the cluster stores (backpressure).
      await fs.write(ROOT_CALLER, created.address, offset, piece);
      offset += piece.length;
    }
    const digest = md5.digest();
    if (options.contentMd5 !== undefined && !digest.equals(Buffer.from(options.contentMd5, 'base64'))) throw s3Errors.badDigest();
    const etag = options.etag ?? digest.toString('hex');
    await fs.commit(created.address);
    const attrs = await fs.setattr(ROOT_CALLER, created.address, { xattrs: metadataXattrs(etag, options.headers) });
    if (!options.exclusive) await renameOver(fs, parent, tempName, name, key);
    return { etag, attrs };
  } catch (err) {
    // Nothing of a failed PUT stays visible: the hidden file (or the exclusive create) goes.
    await fs.remove(ROOT_CALLER, parent, tempName).catch(() => undefined);
    throw err;
  }
}

async function renameOver(fs: FileSystem, dir: Address, tempName: string, name: string, key: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(ROOT_CALLER, dir, tempName, dir, name);
      return;
    } catch (err) {
      // Another PUT to the key replaced it between our look and our rename: the later rename wins, as in S3.
      if (isShoalError(err, 'Conflict') && attempt < RENAME_RETRIES_MAX) continue;
      if (isShoalError(err, 'IsDir') || isShoalError(err, 'NotEmpty') || isShoalError(err, 'Exists')) {
        throw s3Errors.keyConflict(`"${key}" is a prefix of other keys, so it cannot also be an object`);
      }
      throw err;
    }
  }
}

/** A key ending in '/': the directory itself, flagged as an object (its body must be empty). */
async function storeMarker(fs: FileSystem, dirs: readonly string[], body: AsyncIterable<Buffer>, options: StoreOptions): Promise<Stored> {
  const md5 = createHash('md5');
  for await (const piece of body) {
    if (piece.length > 0) throw s3Errors.invalidArgument('Shoal stores a key ending in "/" as a directory, which holds no bytes');
  }
  const dir = await resolveDir(fs, dirs, { create: true });
  if (options.exclusive && (await fs.getattr(dir)).xattrs.has(MARKER_XATTR)) throw s3Errors.preconditionFailed();
  const etag = md5.digest('hex');
  const xattrs = new Map(metadataXattrs(etag, options.headers));
  xattrs.set(MARKER_XATTR, Buffer.from('1'));
  return { etag, attrs: await fs.setattr(ROOT_CALLER, dir, { xattrs }) };
}

function metadataXattrs(etag: string, headers: Readonly<Record<string, string>>): Map<string, Buffer | null> {
  return new Map([[ETAG_XATTR, Buffer.from(etag)], [HEADERS_XATTR, Buffer.from(JSON.stringify(headers))]]);
}

/** If-Match on a write: checked before the write (not yet exact: the rename does not compare the version). */
async function checkIfMatch(fs: FileSystem, key: string, ifMatch: string): Promise<void> {
  let etag: string;
  try {
    etag = (await statObject(fs, key)).etag;
  } catch (err) {
    if (err instanceof Error && (err as { code?: string }).code === 'NoSuchKey') throw s3Errors.noSuchKey();
    throw err;
  }
  if (!etagMatches(ifMatch, etag)) throw s3Errors.preconditionFailed();
}

/** An If-Match / If-None-Match list ("a", "b" or *) against an ETag (hex, unquoted). */
export function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').some((c) => {
    const t = c.trim().replace(/^W\//, '');
    return t === '*' || t.replace(/^"|"$/g, '') === etag;
  });
}
