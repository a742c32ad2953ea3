// Object keys as paths (DESIGN §7): key a/b/c is the file c in directory a/b; a key ending in '/' is a directory
// marker (the directory itself, flagged); keys that cannot be paths are refused with an error that says why.
import { createHash } from 'node:crypto';
import { isShoalError } from '../../storage-node/base/errors.js';
import type { Attributes, FileSystem } from '../fs/filesystem.js';
import { ROOT_CALLER, type Caller } from '../fs/permissions.js';
import { s3Errors } from './errors.js';
import { objectEtag, storedEtagText } from './object-etag.js';

/** An inode address, named through gateway/fs (gateway/s3 may not import storage-node/blocks). */
export type Address = FileSystem['root'];

/** AWS's limit on a key. */
export const KEY_BYTES_MAX = 1024;
/** Names of in-flight PUTs: hidden from listings, refused as key segments. */
export const UPLOAD_NAME_PREFIX = '.shoal-put-';
/** The volume's root directory holding multipart uploads in progress (one directory per upload): hidden, reserved. */
export const UPLOADS_DIR = '.shoal-uploads';
/** On a directory: it is also the object `<path>/` (a directory marker). */
export const MARKER_XATTR = 's3.marker';
/** The stored response headers (Content-Type, x-amz-meta-*, …) as JSON. */
export const HEADERS_XATTR = 's3.headers';

export interface KeyPath {
  readonly dirs: readonly string[];
  /** The file's name; undefined for a directory marker (key ending in '/'). */
  readonly name: string | undefined;
}

export function parseKey(key: string): KeyPath {
  if (Buffer.byteLength(key, 'utf8') > KEY_BYTES_MAX) throw s3Errors.invalidArgument(`a key is at most ${KEY_BYTES_MAX} bytes`);
  const segments = key.split('/');
  const marker = key.endsWith('/');
  if (marker) segments.pop();
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.includes('\0')) {
      throw s3Errors.invalidArgument(`Shoal stores key "${key}" as a path, so its segments between '/' may not be empty, '.' or '..'`);
    }
    if (s.startsWith(UPLOAD_NAME_PREFIX)) throw s3Errors.invalidArgument(`key segments starting with "${UPLOAD_NAME_PREFIX}" are reserved`);
  }
  if (segments.length === 0) throw s3Errors.invalidArgument('a key may not be empty or only "/"');
  if (segments[0] === UPLOADS_DIR) throw s3Errors.invalidArgument(`keys under "${UPLOADS_DIR}/" are reserved for multipart uploads in progress`);
  return marker ? { dirs: segments, name: undefined } : { dirs: segments.slice(0, -1), name: segments[segments.length - 1] as string };
}

/**
 * The directory at `dirs`, made as needed when `create`; a file in the way is a key conflict. `caller` (default root):
 * whose permissions the lookups and mkdirs are checked against (the request's key).
 */
export async function resolveDir(fs: FileSystem, dirs: readonly string[], options: { create: boolean; caller?: Caller }): Promise<Address> {
  const caller = options.caller ?? ROOT_CALLER;
  let dir = fs.root;
  for (let i = 0; i < dirs.length; i++) {
    const name = dirs[i] as string;
    let attrs: Attributes;
    try {
      attrs = await fs.lookup(caller, dir, name);
    } catch (err) {
      if (!options.create || !isShoalError(err, 'NotFound')) throw notFoundAsKey(err);
      try {
        attrs = await fs.mkdir(caller, dir, name, 0o755);
      } catch (made) {
        if (!isShoalError(made, 'Exists')) throw made;
        attrs = await fs.lookup(caller, dir, name); // another request made it first
      }
    }
    if (attrs.type !== 'dir') throw s3Errors.keyConflict(`"${dirs.slice(0, i + 1).join('/')}" is an object, so it cannot also be a prefix`);
    dir = attrs.address;
  }
  return dir;
}

/** A missing path segment on read is a missing key, whatever the filesystem's subject. */
export function notFoundAsKey(err: unknown): unknown {
  return isShoalError(err, 'NotFound') && err.subject !== 'volume' ? s3Errors.noSuchKey() : err;
}

export interface ObjectInfo {
  readonly attrs: Attributes;
  readonly etag: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly marker: boolean;
}

/** The object a key names, or NoSuchKey (a directory that is no marker is a prefix, not an object). */
export async function statObject(fs: FileSystem, key: string, caller: Caller = ROOT_CALLER): Promise<ObjectInfo> {
  const path = parseKey(key);
  let attrs: Attributes;
  try {
    const dir = await resolveDir(fs, path.name === undefined ? path.dirs.slice(0, -1) : path.dirs, { create: false, caller });
    attrs = await fs.lookup(caller, dir, path.name ?? (path.dirs[path.dirs.length - 1] as string));
  } catch (err) {
    if (err instanceof Error && err.name === 'S3Error' && (err as { code?: string }).code !== 'NoSuchKey') throw s3Errors.noSuchKey();
    throw notFoundAsKey(err);
  }
  const marker = attrs.type === 'dir' && attrs.xattrs.has(MARKER_XATTR);
  if (path.name === undefined ? !marker : attrs.type !== 'file') throw s3Errors.noSuchKey();
  return { attrs, etag: marker ? etagOf(attrs) : await objectEtag(fs, attrs), headers: storedHeaders(attrs), marker };
}

/** The MD5 of no bytes: a directory marker's ETag when none was stored. */
const EMPTY_ETAG = createHash('md5').digest('hex');

/** A directory marker's ETag (a marker holds no bytes; its stored ETag does not follow the directory's size). */
export function etagOf(attrs: Pick<Attributes, 'xattrs'>): string {
  return storedEtagText(attrs) ?? EMPTY_ETAG;
}

export function storedHeaders(attrs: Pick<Attributes, 'xattrs'>): Record<string, string> {
  const raw = attrs.xattrs.get(HEADERS_XATTR);
  if (raw === undefined) return {};
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** The request headers an object keeps and returns on GET/HEAD. */
export function headersToStore(headers: Readonly<Record<string, string | readonly string[] | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (['content-type', 'content-encoding', 'content-disposition', 'cache-control', 'expires', 'content-language'].includes(name) || name.startsWith('x-amz-meta-')) {
      let v = typeof value === 'string' ? value : value.join(',');
      // aws-chunked is how this body travelled, not how the object is encoded.
      if (name === 'content-encoding') v = v.split(',').map((s) => s.trim()).filter((s) => s !== 'aws-chunked' && s !== '').join(',');
      if (v !== '') kept[name] = v;
    }
  }
  return kept;
}
