// ListObjects and ListObjectsV2 over the directory tree: a walk in S3 key order (a directory `d` sorts as `d/`, so it
// is merged after names like `d-x` that sort before `d/`), starting at the prefix's directory, seeking with directory
// cookies past start-after, and rolling a directory up into one CommonPrefix under delimiter '/' without entering it.
import { isShoalError } from '../../../storage-node/base/errors.js';
import type { DirEntry } from '../../fs/directory.js';
import type { FileSystem } from '../../fs/filesystem.js';
import { ROOT_CALLER, type Caller } from '../../fs/permissions.js';
import { S3Error, s3Errors } from '../errors.js';
import { etagOf, MARKER_XATTR, resolveDir, UPLOAD_NAME_PREFIX, UPLOADS_DIR } from '../key-path.js';
import type { Address } from '../key-path.js';
import type { Query } from '../router.js';
import { objectEtag, validStoredEtag } from '../object-etag.js';
import { uriEncode } from '../sigv4/canonical-request.js';

const KEYS_MAX = 1000;
const READDIR_PAGE_ENTRIES = 1000;
/** Files whose ETag a listing computes at once (written through NFS, never listed or fetched through S3 since). */
const ETAG_COMPUTES_PARALLEL = 8;

type Item =
  | {
    readonly kind: 'object'; readonly key: string; readonly size: number; readonly mtimeMs: number;
    /** As the directory entry holds it: with the content version it is valid for, or '' when none is stored. */
    readonly etag: string;
    /** The file to read when the entry's ETag is missing or stale (written through NFS); undefined for a marker. */
    readonly inode?: Address;
  }
  | { readonly kind: 'prefix'; readonly prefix: string };

interface WalkOptions {
  readonly after: string;
  /** '/' rolls directories up without walking them. */
  readonly slashDelimiter: boolean;
  /** Whose read permission each directory is checked against (the request's key). */
  readonly caller: Caller;
}

/** Every object (or rolled-up directory) whose key starts with `prefix` and sorts after `after`, in key order. */
async function* walk(fs: FileSystem, prefix: string, options: WalkOptions): AsyncGenerator<Item> {
  const cut = prefix.lastIndexOf('/');
  const base = prefix.slice(0, cut + 1);
  let dir: Address;
  try {
    dir = await resolveDir(fs, base === '' ? [] : base.slice(0, -1).split('/'), { create: false, caller: options.caller });
  } catch (err) {
    if (isShoalError(err, 'Forbidden')) throw err; // AccessDenied, not an empty listing
    if (err instanceof S3Error || (err instanceof Error && err.name === 'ShoalError')) return; // no such prefix: nothing to list
    throw err;
  }
  yield* walkDir(fs, dir, base, prefix.slice(cut + 1), options);
}

async function* walkDir(fs: FileSystem, dir: Address, base: string, namePrefix: string, options: WalkOptions): AsyncGenerator<Item> {
  let cookie = lowerCookie(namePrefix, base, options.after);
  const pending: DirEntry[] = []; // directories waiting for their turn, sorted by name + '/'
  const flushBefore = async function* (bound: string | undefined): AsyncGenerator<Item> {
    while (pending.length > 0 && (bound === undefined || `${(pending[0] as DirEntry).name}/` < bound)) {
      yield* enterDir(fs, pending.shift() as DirEntry, base, options);
    }
  };
  for (;;) {
    const page = await fs.readdir(options.caller, dir, { count: READDIR_PAGE_ENTRIES, ...(cookie === undefined ? {} : { cookie }) });
    let beyond = false;
    for (const entry of page.entries) {
      if (!entry.name.startsWith(namePrefix)) {
        if (entry.name > namePrefix) { beyond = true; break; }
        continue;
      }
      if (entry.name.startsWith(UPLOAD_NAME_PREFIX) || entry.type === 'symlink') continue;
      if (base === '' && entry.name === UPLOADS_DIR) continue; // multipart uploads in progress are not objects
      if (entry.type === 'dir') {
        const at = pending.findIndex((p) => `${p.name}/` > `${entry.name}/`);
        pending.splice(at < 0 ? pending.length : at, 0, entry);
        continue;
      }
      yield* flushBefore(entry.name);
      const key = base + entry.name;
      if (key > options.after) yield { kind: 'object', key, size: entry.size, etag: entry.etag ?? '', mtimeMs: entry.mtimeMs, inode: entry.inode };
    }
    cookie = page.cookie;
    if (page.eof || beyond) break;
  }
  yield* flushBefore(undefined);
}

async function* enterDir(fs: FileSystem, entry: DirEntry, base: string, options: WalkOptions): AsyncGenerator<Item> {
  const dirKey = `${base}${entry.name}/`;
  // Wholly before start-after: skip without reading it.
  if (dirKey <= options.after && !options.after.startsWith(dirKey)) return;
  if (options.slashDelimiter) {
    if (!options.after.startsWith(dirKey)) yield { kind: 'prefix', prefix: dirKey };
    return;
  }
  const attrs = await fs.getattr(entry.inode);
  if (attrs.xattrs.has(MARKER_XATTR) && dirKey > options.after) {
    yield { kind: 'object', key: dirKey, size: 0, etag: etagOf(attrs), mtimeMs: attrs.mtimeMs };
  }
  yield* walkDir(fs, entry.inode, dirKey, '', options);
}

/**
 * A cookie below every name that can still matter: names ≥ namePrefix, and past start-after's component at this
 * level, cut before its first character that sorts below '/' (a directory named by that cut sorts after it).
 */
function lowerCookie(namePrefix: string, base: string, after: string): string | undefined {
  let bound = namePrefix;
  if (after.startsWith(base)) {
    const component = after.slice(base.length).split('/')[0] ?? '';
    const low = component.search(/[\0-\x2e]/);
    const fromAfter = low < 0 ? component : component.slice(0, low);
    if (fromAfter > bound) bound = fromAfter;
  }
  // Entries come after the cookie: drop one character so that `bound` itself is included.
  return bound === '' ? undefined : bound.slice(0, -1) || undefined;
}

export interface ListRequest {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly after: string;
  readonly maxKeys: number;
  /** Default root. */
  readonly caller?: Caller;
}

export interface ListResult {
  readonly objects: Array<Extract<Item, { kind: 'object' }>>;
  readonly prefixes: string[];
  readonly truncated: boolean;
  /** The last key or prefix returned: where the next page starts. */
  readonly last: string | undefined;
}

export async function listKeys(fs: FileSystem, req: ListRequest): Promise<ListResult> {
  const objects: Array<Extract<Item, { kind: 'object' }>> = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let count = 0;
  let truncated = false;
  const delimiter = req.delimiter === '' ? undefined : req.delimiter;
  for await (const item of walk(fs, req.prefix, { after: req.after, slashDelimiter: delimiter === '/', caller: req.caller ?? ROOT_CALLER })) {
    let prefix: string | undefined;
    if (item.kind === 'prefix') prefix = item.prefix;
    else if (delimiter !== undefined) {
      const at = item.key.indexOf(delimiter, req.prefix.length);
      if (at >= 0) prefix = item.key.slice(0, at + delimiter.length);
    }
    if (prefix !== undefined && (prefix === last || (req.after.startsWith(prefix) && prefix !== req.after && req.after !== ''))) continue;
    if (prefix !== undefined && prefix === req.after) continue;
    if (count === req.maxKeys) { truncated = true; break; }
    count++;
    if (prefix !== undefined) { prefixes.push(prefix); last = prefix; } else if (item.kind === 'object') { objects.push(item); last = item.key; }
  }
  return { objects, prefixes, truncated, last };
}

/**
 * Each listed object's ETag: the entry's when it is valid for the entry's size and mtime, else the file's own (stored
 * or computed from its bytes and cached, so the next listing finds it in the entry).
 */
async function listedEtags(fs: FileSystem, objects: ReadonlyArray<Extract<Item, { kind: 'object' }>>): Promise<string[]> {
  const etags = objects.map((o) => (o.inode === undefined ? o.etag : validStoredEtag(o.etag, o)));
  const missing = objects.flatMap((o, i) => (etags[i] === undefined && o.inode !== undefined ? [{ i, inode: o.inode }] : []));
  const work = async (): Promise<void> => {
    for (let next = missing.shift(); next !== undefined; next = missing.shift()) {
      const at = next.i;
      etags[at] = await fs.getattr(next.inode).then((attrs) => objectEtag(fs, attrs), (err: unknown) => {
        // Removed since the page was read: listed as the entry had it (as a listing taken a moment earlier would).
        if (isShoalError(err, 'NotFound')) return (objects[at] as { etag: string }).etag.split(' ')[0] as string;
        throw err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(ETAG_COMPUTES_PARALLEL, missing.length) }, work));
  return etags as string[];
}

export function parseMaxKeys(query: Query): number {
  const raw = query.get('max-keys');
  if (raw === undefined) return KEYS_MAX;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw s3Errors.invalidArgument('max-keys must be a whole number');
  return Math.min(n, KEYS_MAX);
}

/** The list response body for ListObjects (v1) or ListObjectsV2. */
export async function listObjects(fs: FileSystem, bucket: string, query: Query, version: 1 | 2, caller: Caller = ROOT_CALLER): Promise<Record<string, unknown>> {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter');
  const encodingType = query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw s3Errors.invalidArgument('encoding-type must be url');
  const enc = (s: string | undefined) => (s === undefined || encodingType !== 'url' ? s : uriEncode(s, true));
  const maxKeys = parseMaxKeys(query);
  let after: string;
  const token = query.get('continuation-token');
  if (version === 2 && token !== undefined) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (Buffer.from(after, 'utf8').toString('base64url') !== token) throw s3Errors.invalidArgument('The continuation token provided is incorrect');
  } else {
    after = (version === 2 ? query.get('start-after') : query.get('marker')) ?? '';
  }
  const result = await listKeys(fs, { prefix, delimiter, after, maxKeys, caller });
  const etags = await listedEtags(fs, result.objects);
  const contents = result.objects.map((o, i) => ({
    Key: enc(o.key), LastModified: new Date(o.mtimeMs).toISOString(), ETag: `"${etags[i] as string}"`, Size: o.size, StorageClass: 'STANDARD',
  }));
  const common = result.prefixes.map((p) => ({ Prefix: enc(p) }));
  const shared = {
    Name: bucket, Prefix: enc(prefix), Delimiter: enc(delimiter), MaxKeys: maxKeys, EncodingType: encodingType,
    IsTruncated: result.truncated, Contents: contents, CommonPrefixes: common,
  };
  if (version === 1) {
    return { ...shared, Marker: enc(after), NextMarker: result.truncated && delimiter !== undefined ? enc(result.last) : undefined };
  }
  return {
    ...shared, KeyCount: contents.length + common.length, ContinuationToken: token, StartAfter: enc(query.get('start-after')),
    NextContinuationToken: result.truncated && result.last !== undefined ? Buffer.from(result.last, 'utf8').toString('base64url') : undefined,
  };
}
