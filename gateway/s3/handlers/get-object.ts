// GetObject and HeadObject: conditional headers (RFC 7232 order, as S3), one byte range, response-* overrides, and
// the body streamed from the filesystem a chunk-sized piece at a time (its read-ahead fetches the next chunks).
import { Readable } from 'node:stream';
import type { FileSystem } from '../../fs/filesystem.js';
import { ROOT_CALLER, type Caller } from '../../fs/permissions.js';
import { S3Error, s3Errors } from '../errors.js';
import { statObject, type ObjectInfo } from '../key-path.js';
import type { Query } from '../router.js';
import { etagMatches } from './put-object.js';

const READ_PIECE_BYTES = 1024 * 1024;
const RESPONSE_OVERRIDES = ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding'];

export interface ObjectResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Readable | undefined;
}

export type HeaderGetter = (name: string) => string | undefined;

/** `caller`: whose read permission the object is checked against (the request's key; default root). */
export async function getObject(fs: FileSystem, key: string, header: HeaderGetter, query: Query, withBody: boolean, caller: Caller = ROOT_CALLER): Promise<ObjectResponse> {
  const info = await statObject(fs, key, caller);
  // A read of no bytes checks read permission for HEAD too (S3 needs s3:GetObject for both).
  if (!info.marker) await fs.read(caller, info.attrs.address, 0, 0);
  const notModified = checkConditions(info, header);
  const headers = objectHeaders(info);
  if (notModified) return { status: 304, headers: { etag: headers['etag'] as string, 'last-modified': headers['last-modified'] as string }, body: undefined };
  for (const name of RESPONSE_OVERRIDES) {
    const value = query.get(`response-${name}`);
    if (value !== undefined) headers[name] = value;
  }
  const size = info.marker ? 0 : info.attrs.size;
  const range = parseRange(header('range'), size);
  if (range === undefined) {
    headers['content-length'] = String(size);
    return { status: 200, headers, body: withBody && size > 0 ? streamFile(fs, info, 0, size, caller) : undefined };
  }
  headers['content-length'] = String(range.end - range.start);
  headers['content-range'] = `bytes ${range.start}-${range.end - 1}/${size}`;
  return { status: 206, headers, body: withBody ? streamFile(fs, info, range.start, range.end, caller) : undefined };
}

export function objectHeaders(info: ObjectInfo): Record<string, string> {
  return {
    'content-type': 'binary/octet-stream',
    ...info.headers,
    etag: `"${info.etag}"`,
    'last-modified': new Date(info.attrs.mtimeMs).toUTCString(),
    'accept-ranges': 'bytes',
  };
}

/** Throws 412 for a failed If-Match / If-Unmodified-Since; returns true for 304 (If-None-Match / If-Modified-Since). */
export function checkConditions(info: ObjectInfo, header: HeaderGetter, prefix = ''): boolean {
  const ifMatch = header(`${prefix}if-match`);
  const ifNoneMatch = header(`${prefix}if-none-match`);
  const ifModifiedSince = parseHttpDate(header(`${prefix}if-modified-since`));
  const ifUnmodifiedSince = parseHttpDate(header(`${prefix}if-unmodified-since`));
  const modifiedS = Math.floor(info.attrs.mtimeMs / 1000);
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, info.etag)) throw s3Errors.preconditionFailed();
  } else if (ifUnmodifiedSince !== undefined && modifiedS > Math.floor(ifUnmodifiedSince / 1000)) {
    throw s3Errors.preconditionFailed();
  }
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, info.etag);
  return ifModifiedSince !== undefined && modifiedS <= Math.floor(ifModifiedSince / 1000);
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** One range of `bytes=a-b`, `bytes=a-` or `bytes=-n` as [start, end); several ranges are ignored (whole object). */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (m === null) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const n = Number(last);
    if (n === 0) throw s3Errors.invalidRange(size);
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(first);
  if (start >= size) throw s3Errors.invalidRange(size);
  const end = last === '' ? size : Math.min(size, Number(last) + 1);
  if (end <= start) throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable.', { 'content-range': `bytes */${size}` });
  return { start, end };
}

function streamFile(fs: FileSystem, info: ObjectInfo, start: number, end: number, caller: Caller): Readable {
  const address = info.attrs.address;
  return Readable.from((async function* () {
    for (let offset = start; offset < end;) {
      const { data } = await fs.read(caller, address, offset, Math.min(READ_PIECE_BYTES, end - offset));
      // The file shrank under the read (an overwrite publishes a new inode version only on rename, so rarely): stop.
      if (data.length === 0) throw new Error('the object ended before its advertised length');
      offset += data.length;
      yield data;
    }
  })());
}
