// PutObject (and the write half of CopyObject and CompleteMultipartUpload): the body streams into a hidden file in the
// key's directory (several chunks stored at once through the filesystem's write gathering), is committed, gets its
// ETag and headers, and is renamed over the key: readers see the old object or the new one, never a part. The conditions
// (If-None-Match: *, If-Match) are checked early, to fail fast, and again exactly at the rename, inside the directory's
// consensus change: of many concurrent conditional PUTs to one key, exactly one can win.
import { createHash } from 'node:crypto';
import { isShoalError } from '../../../storage-node/base/errors.js';
import { isExpectationFailure, type Attributes, type CreateOptions, type FileSystem, type TargetExpectation } from '../../fs/filesystem.js';
import { ETAG_XATTR } from '../../fs/inode.js';
import { ROOT_CALLER, type Caller } from '../../fs/permissions.js';
import { S3Error, s3Errors } from '../errors.js';
import { HEADERS_XATTR, MARKER_XATTR, parseKey, resolveDir, statObject, UPLOAD_NAME_PREFIX } from '../key-path.js';
import type { Address } from '../key-path.js';
import { etagXattrValue } from '../object-etag.js';
import { WriteWindow } from '../write-window.js';

/** AWS's limit on one PutObject. */
export const PUT_OBJECT_BYTES_MAX = 5 * 1024 ** 3;
/** A directory removed under us by a concurrent delete (it pruned the empty parent): start the path again. */
const PATH_RETRIES_MAX = 3;
const RENAME_RETRIES_MAX = 5;
/** Body bytes being stored at once: a few chunks, so the nodes store in parallel while the socket is read. */
const WRITE_BYTES_IN_FLIGHT_MAX = 8 * 1024 * 1024;

export interface WriteConditions {
  /** If-None-Match: * — fail with PreconditionFailed when the key exists. */
  readonly exclusive: boolean;
  /** If-Match: the current object's ETag must be this, and the object must still be that one at the rename. */
  readonly ifMatch?: string;
}

export interface StoreOptions extends WriteConditions {
  readonly headers: Readonly<Record<string, string>>;
  /** Content-MD5 in base64, checked before anything is published. */
  readonly contentMd5?: string;
  readonly uploadId: string;
  /** The ETag to store instead of the body's MD5 (a completed multipart upload's). */
  readonly etag?: string;
  /** Instead of PutObject's 5 GiB (a completed multipart upload may hold up to 5 TiB). */
  readonly bytesMax?: number;
  /** Files whose content, in order, is the object (a multipart upload's parts): spliced if they can be, else `body` is read. */
  readonly spliceFrom?: readonly Address[];
  /** Who writes (the request's key): owner of the new file and directories, checked against the mode bits. Default root. */
  readonly caller?: Caller;
}

export interface Stored {
  readonly etag: string;
  readonly attrs: Attributes;
}

export async function storeObject(fs: FileSystem, key: string, body: AsyncIterable<Buffer>, options: StoreOptions): Promise<Stored> {
  const path = parseKey(key);
  const caller = options.caller ?? ROOT_CALLER;
  if (options.contentMd5 !== undefined && Buffer.from(options.contentMd5, 'base64').length !== 16) throw s3Errors.invalidDigest();
  if (path.name === undefined) {
    if (options.ifMatch !== undefined) await expectationFor(fs, key, options, caller);
    return storeMarker(fs, path.dirs, body, options, caller);
  }
  const name = path.name;
  // Before the body is read: a PUT that cannot win fails at once.
  const expect = await expectationFor(fs, key, options, caller);
  const tempName = `${UPLOAD_NAME_PREFIX}${options.uploadId}`;
  const target = { tempName, name, key };
  // A body that fits in an inode is born with the file, its ETag and headers: one inode version instead of four.
  const head = options.spliceFrom === undefined ? await readHead(body, fs.inlineBytesMax) : undefined;
  if (head?.whole !== undefined) return storeSmall(fs, path.dirs, target, head.whole, options, caller, expect);

  const { dir: parent, file: created } = await createTemp(fs, path.dirs, target, caller);
  try {
    // A multipart upload's parts hand their chunks over when they line up with chunk boundaries; else they are copied.
    const spliced = options.spliceFrom === undefined ? undefined : await fs.splice(caller, created.address, options.spliceFrom);
    let etag = options.etag;
    if (spliced === undefined) {
      const digest = await writeBody(fs, caller, created.address, head?.rest ?? body, options.bytesMax ?? PUT_OBJECT_BYTES_MAX);
      checkContentMd5(digest, options);
      etag ??= digest.toString('hex');
    }
    if (etag === undefined) throw new Error('a spliced object is given its ETag');
    const committed = await fs.commit(created.address);
    const attrs = await fs.setattr(caller, created.address, { xattrs: objectXattrs(etag, committed, options.headers) });
    await renameOver(fs, caller, { dir: parent, ...target }, expect);
    return { etag, attrs };
  } catch (err) {
    // Nothing of a failed PUT stays visible: the hidden file goes (as root: the caller may lack the right by now).
    await fs.remove(ROOT_CALLER, parent, tempName).catch(() => undefined);
    throw err;
  }
}

interface TempTarget {
  readonly tempName: string;
  readonly name: string;
  readonly key: string;
}

/** The hidden file in the key's directory (made with the path; a directory pruned under us is made again). */
async function createTemp(fs: FileSystem, dirs: readonly string[], target: TempTarget, caller: Caller, initial?: CreateOptions['initial']): Promise<{ dir: Address; file: Attributes }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const dir = await resolveDir(fs, dirs, { create: true, caller });
      const file = await fs.create(caller, dir, target.tempName, { mode: 0o644, exclusive: true, ...(initial === undefined ? {} : { initial }) });
      return { dir, file };
    } catch (err) {
      if (isShoalError(err, 'IsDir')) throw s3Errors.keyConflict(`"${target.key}" is a prefix of other keys, so it cannot also be an object`);
      if (!isShoalError(err, 'NotFound') || attempt >= PATH_RETRIES_MAX) throw err;
    }
  }
}

async function storeSmall(
  fs: FileSystem, dirs: readonly string[], target: TempTarget, data: Buffer, options: StoreOptions, caller: Caller, expect: TargetExpectation | undefined,
): Promise<Stored> {
  const digest = createHash('md5').update(data).digest();
  checkContentMd5(digest, options);
  const etag = options.etag ?? digest.toString('hex');
  const { dir, file } = await createTemp(fs, dirs, target, caller, { data, xattrs: (stamp) => objectXattrs(etag, stamp, options.headers) });
  try {
    await renameOver(fs, caller, { dir, ...target }, expect);
    return { etag, attrs: file };
  } catch (err) {
    await fs.remove(ROOT_CALLER, dir, target.tempName).catch(() => undefined);
    throw err;
  }
}

/** The body whole if it is at most `bytesMax` long; else what was read of it and the rest, as one stream again. */
async function readHead(body: AsyncIterable<Buffer>, bytesMax: number): Promise<{ whole?: Buffer; rest?: AsyncIterable<Buffer> }> {
  const iterator = body[Symbol.asyncIterator]();
  const pieces: Buffer[] = [];
  let bytes = 0;
  while (bytes <= bytesMax) {
    const next = await iterator.next();
    if (next.done === true) return { whole: Buffer.concat(pieces) };
    pieces.push(next.value);
    bytes += next.value.length;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* pieces;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { rest: rest() };
}

function checkContentMd5(digest: Buffer, options: StoreOptions): void {
  if (options.contentMd5 !== undefined && !digest.equals(Buffer.from(options.contentMd5, 'base64'))) throw s3Errors.badDigest();
}

function objectXattrs(etag: string, version: { size: number; mtimeMs: number }, headers: Readonly<Record<string, string>>): Map<string, Buffer> {
  return new Map([[ETAG_XATTR, etagXattrValue(etag, version)], [HEADERS_XATTR, Buffer.from(JSON.stringify(headers))]]);
}

/** Streams the body into the file with several writes in flight; its MD5. */
export async function writeBody(fs: FileSystem, caller: Caller, file: Address, body: AsyncIterable<Buffer>, bytesMax: number): Promise<Buffer> {
  const md5 = createHash('md5');
  let offset = 0;
  const writes = new WriteWindow(WRITE_BYTES_IN_FLIGHT_MAX);
  try {
    for await (const piece of body) {
      if (offset + piece.length > bytesMax) throw s3Errors.entityTooLarge();
      md5.update(piece);
      await writes.add(piece.length, fs.write(caller, file, offset, piece));
      offset += piece.length;
    }
  } finally {
    // Before the file is committed or removed, nothing of the body may still be on its way.
    await writes.drain().catch(() => undefined);
  }
  await writes.drain();
  return md5.digest();
}

/** The conditional-write headers of PutObject, CopyObject and CompleteMultipartUpload. */
export function writeConditions(header: (name: string) => string | undefined): WriteConditions {
  const ifNoneMatch = header('if-none-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw s3Errors.notImplemented('If-None-Match other than * on a write');
  const ifMatch = header('if-match');
  return { exclusive: ifNoneMatch !== undefined, ...(ifMatch === undefined ? {} : { ifMatch }) };
}

/**
 * The conditions as what the key's entry must hold at the rename. If-None-Match: * — no entry; If-Match — the inode
 * whose ETag matched now (every PUT makes a new inode, so the same inode at the rename means no PUT came between).
 */
async function expectationFor(fs: FileSystem, key: string, conditions: WriteConditions, caller: Caller): Promise<TargetExpectation | undefined> {
  if (conditions.ifMatch !== undefined) {
    // A missing key fails If-Match with NoSuchKey, as AWS answers.
    const info = await statObject(fs, key, caller);
    if (!etagMatches(conditions.ifMatch, info.etag)) throw s3Errors.preconditionFailed();
    return { inode: info.attrs.address };
  }
  if (!conditions.exclusive) return undefined;
  try {
    await statObject(fs, key, caller);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NoSuchKey') return { absent: true };
    throw err;
  }
  throw s3Errors.preconditionFailed();
}

interface RenameTarget {
  readonly dir: Address;
  readonly tempName: string;
  readonly name: string;
  readonly key: string;
}

async function renameOver(fs: FileSystem, caller: Caller, target: RenameTarget, expect: TargetExpectation | undefined): Promise<void> {
  const { dir, tempName, name, key } = target;
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(caller, dir, tempName, dir, name, expect);
      return;
    } catch (err) {
      if (isExpectationFailure(err)) throw s3Errors.preconditionFailed();
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
async function storeMarker(fs: FileSystem, dirs: readonly string[], body: AsyncIterable<Buffer>, options: StoreOptions, caller: Caller): Promise<Stored> {
  const md5 = createHash('md5');
  for await (const piece of body) {
    if (piece.length > 0) throw s3Errors.invalidArgument('Shoal stores a key ending in "/" as a directory, which holds no bytes');
  }
  const dir = await resolveDir(fs, dirs, { create: true, caller });
  if (options.exclusive && (await fs.getattr(dir)).xattrs.has(MARKER_XATTR)) throw s3Errors.preconditionFailed();
  const etag = md5.digest('hex');
  const xattrs = new Map(metadataXattrs(etag, options.headers));
  xattrs.set(MARKER_XATTR, Buffer.from('1'));
  return { etag, attrs: await fs.setattr(caller, dir, { xattrs }) };
}

function metadataXattrs(etag: string, headers: Readonly<Record<string, string>>): Map<string, Buffer | null> {
  return new Map([[ETAG_XATTR, Buffer.from(etag)], [HEADERS_XATTR, Buffer.from(JSON.stringify(headers))]]);
}

/** An If-Match / If-None-Match list ("a", "b" or *) against an ETag (hex, unquoted). */
export function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').some((c) => {
    const t = c.trim().replace(/^W\//, '');
    return t === '*' || t.replace(/^"|"$/g, '') === etag;
  });
}
