// Multipart uploads kept in the volume, so that any gateway can continue an upload another began: upload <id> is the
// directory `.shoal-uploads/<id>/` (its key, headers and start in xattrs), part N the file `part-0000N` in it (its MD5
// as the ETag xattr). A part is written under a hidden name and renamed in place, so a re-sent part replaces the old
// one whole. Complete streams the parts in order into the key through PutObject's path (hidden file, rename over the
// key), with the ETag AWS computes: MD5 of the parts' binary MD5s, "-N". Missing: referencing the parts' chunks
// instead of copying their bytes (gateway/fs has no call for it).
import { createHash } from 'node:crypto';
import { isShoalError, ShoalError } from '../../../storage-node/base/errors.js';
import type { DirEntry } from '../../fs/directory.js';
import type { FileSystem } from '../../fs/filesystem.js';
import { ETAG_XATTR } from '../../fs/inode.js';
import { ROOT_CALLER, type Caller } from '../../fs/permissions.js';
import { s3Errors } from '../errors.js';
import { HEADERS_XATTR, parseKey, resolveDir, storedHeaders, UPLOAD_NAME_PREFIX, UPLOADS_DIR, type Address } from '../key-path.js';
import type { Query } from '../router.js';
import { parseXml } from '../xml.js';
import { storeObject, writeBody, type WriteConditions } from './put-object.js';

const UPLOAD_KEY_XATTR = 's3.upload-key';
const UPLOAD_INITIATED_XATTR = 's3.upload-initiated';
const PART_PREFIX = 'part-';
export const PART_NUMBER_MAX = 10_000;
/** AWS's minimum for every part but the last. */
export const PART_BYTES_MIN = 5 * 1024 * 1024;
export const PART_BYTES_MAX = 5 * 1024 ** 3;
const OBJECT_BYTES_MAX = 5 * 1024 ** 4;
const LIST_MAX = 1000;
const READ_PIECE_BYTES = 1024 * 1024;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

export interface Upload {
  readonly id: string;
  readonly key: string;
  readonly dir: Address;
  readonly headers: Readonly<Record<string, string>>;
  readonly initiatedMs: number;
}

interface Part {
  readonly partNumber: number;
  readonly name: string;
  readonly inode: Address;
  readonly size: number;
  readonly etag: string;
  readonly mtimeMs: number;
}

const partName = (n: number): string => `${PART_PREFIX}${String(n).padStart(5, '0')}`;
const noSuchUpload = (): ShoalError => new ShoalError('NotFound', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { subject: 'upload' });

export function parsePartNumber(text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || !/^\d{1,5}$/.test(text) || n < 1 || n > PART_NUMBER_MAX) throw s3Errors.invalidArgument(`Part number must be an integer between 1 and ${PART_NUMBER_MAX}, inclusive`);
  return n;
}

async function uploadsRoot(fs: FileSystem, create: boolean): Promise<Address> {
  return resolveDir(fs, [UPLOADS_DIR], { create });
}

/** CreateMultipartUpload: the upload's directory with the key and the headers the object will get. */
export async function createUpload(fs: FileSystem, key: string, headers: Readonly<Record<string, string>>, id: string, nowMs: number): Promise<void> {
  parseKey(key);
  const root = await uploadsRoot(fs, true);
  const dir = await fs.mkdir(ROOT_CALLER, root, id, 0o700);
  await fs.setattr(ROOT_CALLER, dir.address, {
    xattrs: new Map([[UPLOAD_KEY_XATTR, Buffer.from(key)], [HEADERS_XATTR, Buffer.from(JSON.stringify(headers))], [UPLOAD_INITIATED_XATTR, Buffer.from(String(nowMs))]]),
  });
}

/** The upload `id` of `key`, or NoSuchUpload (also when the id names another key's upload). */
export async function openUpload(fs: FileSystem, key: string, id: string): Promise<Upload> {
  if (!UPLOAD_ID.test(id)) throw noSuchUpload();
  let upload: Upload | undefined;
  try {
    const attrs = await fs.lookup(ROOT_CALLER, await uploadsRoot(fs, false), id);
    upload = uploadOf(id, attrs.address, attrs.xattrs);
  } catch (err) {
    if (!(err instanceof Error) || (!isShoalError(err, 'NotFound') && err.name !== 'S3Error')) throw err;
  }
  if (upload === undefined || upload.key !== key) throw noSuchUpload();
  return upload;
}

function uploadOf(id: string, dir: Address, xattrs: ReadonlyMap<string, Buffer>): Upload | undefined {
  const key = xattrs.get(UPLOAD_KEY_XATTR)?.toString('utf8');
  if (key === undefined) return undefined; // made a moment ago, its xattrs not yet set
  return {
    id, key, dir, headers: storedHeaders({ xattrs }),
    initiatedMs: Number(xattrs.get(UPLOAD_INITIATED_XATTR)?.toString('utf8') ?? 0),
  };
}

/** UploadPart (and UploadPartCopy's write): the part under a hidden name, renamed over part N once whole and checked. */
export async function putPart(
  fs: FileSystem, upload: Upload, partNumber: number, body: AsyncIterable<Buffer>, options: { tempId: string; contentMd5?: string | undefined },
): Promise<{ etag: string; mtimeMs: number }> {
  if (options.contentMd5 !== undefined && Buffer.from(options.contentMd5, 'base64').length !== 16) throw s3Errors.invalidDigest();
  const tempName = `${UPLOAD_NAME_PREFIX}${options.tempId}`;
  let file;
  try {
    file = await fs.create(ROOT_CALLER, upload.dir, tempName, { mode: 0o600, exclusive: true });
  } catch (err) {
    if (isShoalError(err, 'NotFound')) throw noSuchUpload(); // aborted or completed meanwhile
    throw err;
  }
  try {
    const digest = await writeBody(fs, ROOT_CALLER, file.address, body, PART_BYTES_MAX);
    if (options.contentMd5 !== undefined && !digest.equals(Buffer.from(options.contentMd5, 'base64'))) throw s3Errors.badDigest();
    const etag = digest.toString('hex');
    await fs.commit(file.address);
    const attrs = await fs.setattr(ROOT_CALLER, file.address, { xattrs: new Map([[ETAG_XATTR, Buffer.from(etag)]]) });
    await fs.rename(ROOT_CALLER, upload.dir, tempName, upload.dir, partName(partNumber));
    return { etag, mtimeMs: attrs.mtimeMs };
  } catch (err) {
    await fs.remove(ROOT_CALLER, upload.dir, tempName).catch(() => undefined);
    if (isShoalError(err, 'NotFound') && err.subject !== 'volume') throw noSuchUpload();
    throw err;
  }
}

async function readAll(fs: FileSystem, dir: Address): Promise<DirEntry[]> {
  const all: DirEntry[] = [];
  let cookie;
  for (;;) {
    const page = await fs.readdir(ROOT_CALLER, dir, { count: LIST_MAX, ...(cookie === undefined ? {} : { cookie }) });
    all.push(...page.entries);
    if (page.eof || page.cookie === undefined || page.entries.length === 0) return all;
    cookie = page.cookie;
  }
}

async function partsOf(fs: FileSystem, upload: Upload): Promise<Part[]> {
  const parts: Part[] = [];
  for (const entry of await readAll(fs, upload.dir)) {
    if (!entry.name.startsWith(PART_PREFIX) || entry.type !== 'file') continue;
    const etag = entry.etag ?? (await fs.getattr(entry.inode)).xattrs.get(ETAG_XATTR)?.toString('utf8') ?? '';
    parts.push({ partNumber: Number(entry.name.slice(PART_PREFIX.length)), name: entry.name, inode: entry.inode, size: entry.size, etag, mtimeMs: entry.mtimeMs });
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

/** ListParts, with max-parts and part-number-marker. */
export async function listParts(fs: FileSystem, bucket: string, upload: Upload, query: Query, owner: string): Promise<Record<string, unknown>> {
  const marker = Number(query.get('part-number-marker') ?? 0);
  const maxParts = Math.min(LIST_MAX, Number(query.get('max-parts') ?? LIST_MAX));
  if (!Number.isInteger(marker) || marker < 0 || !Number.isInteger(maxParts) || maxParts < 0) throw s3Errors.invalidArgument('max-parts and part-number-marker are whole numbers');
  const after = (await partsOf(fs, upload)).filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  return {
    Bucket: bucket, Key: upload.key, UploadId: upload.id,
    Initiator: { ID: owner, DisplayName: owner }, Owner: { ID: owner, DisplayName: owner }, StorageClass: 'STANDARD',
    PartNumberMarker: marker, NextPartNumberMarker: page.length === 0 ? marker : page[page.length - 1]?.partNumber, MaxParts: maxParts, IsTruncated: truncated,
    Part: page.map((p) => ({ PartNumber: p.partNumber, LastModified: new Date(p.mtimeMs).toISOString(), ETag: `"${p.etag}"`, Size: p.size })),
  };
}

/** The parts CompleteMultipartUpload names, checked against those stored (InvalidPart, InvalidPartOrder, EntityTooSmall). */
function chosenParts(xml: Buffer, stored: readonly Part[]): Part[] {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseXml(xml.toString('utf8'), ['Part']);
  } catch {
    throw s3Errors.malformedXml();
  }
  const listed = ((parsed['CompleteMultipartUpload'] as { Part?: unknown[] } | undefined)?.Part ?? []) as { PartNumber?: unknown; ETag?: unknown }[];
  if (listed.length === 0) throw s3Errors.malformedXml();
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  const chosen: Part[] = [];
  for (const item of listed) {
    const n = Number(item.PartNumber);
    const etag = String(item.ETag ?? '').trim().replace(/^"|"$/g, '');
    const part = byNumber.get(n);
    if (part === undefined || (etag !== '' && etag !== part.etag)) throw s3Errors.invalidPart();
    const previous = chosen[chosen.length - 1];
    if (previous !== undefined && previous.partNumber >= n) throw s3Errors.invalidPartOrder();
    chosen.push(part);
  }
  for (const part of chosen.slice(0, -1)) if (part.size < PART_BYTES_MIN) throw s3Errors.entityTooSmall();
  return chosen;
}

/** The ETag of a multipart object as AWS computes it: MD5 of the concatenated binary part MD5s, then "-N". */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const etag of partEtags) md5.update(Buffer.from(etag, 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}

/** CompleteMultipartUpload: the chosen parts' chunks spliced in order into the key (or streamed, when they do not line up with chunks), then the upload's directory removed. */
export async function completeUpload(
  fs: FileSystem, upload: Upload, xml: Buffer, tempId: string, conditions: WriteConditions = { exclusive: false }, caller: Caller = ROOT_CALLER,
): Promise<{ etag: string }> {
  const chosen = chosenParts(xml, await partsOf(fs, upload));
  const etag = multipartEtag(chosen.map((p) => p.etag));
  async function* body(): AsyncGenerator<Buffer> {
    for (const part of chosen) {
      for (let offset = 0; offset < part.size;) {
        const { data } = await fs.read(ROOT_CALLER, part.inode, offset, Math.min(READ_PIECE_BYTES, part.size - offset));
        if (data.length === 0) throw new ShoalError('Conflict', `part ${part.partNumber} changed while the upload was completed`, { subject: 'upload' });
        offset += data.length;
        yield data;
      }
    }
  }
  await storeObject(fs, upload.key, body(), { ...conditions, headers: upload.headers, uploadId: tempId, etag, bytesMax: OBJECT_BYTES_MAX, spliceFrom: chosen.map((p) => p.inode), caller });
  await removeUpload(fs, upload);
  return { etag };
}

/** AbortMultipartUpload (and the end of Complete): every part, then the directory. */
export async function removeUpload(fs: FileSystem, upload: Upload): Promise<void> {
  for (const entry of await readAll(fs, upload.dir)) {
    await fs.remove(ROOT_CALLER, upload.dir, entry.name).catch((err: unknown) => {
      if (!isShoalError(err, 'NotFound')) throw err;
    });
  }
  try {
    await fs.rmdir(ROOT_CALLER, await uploadsRoot(fs, false), upload.id);
  } catch (err) {
    if (!isShoalError(err, 'NotFound')) throw err;
  }
}

/** ListMultipartUploads: the uploads in progress in key order, with prefix, key-marker, upload-id-marker and max-uploads. */
export async function listUploads(fs: FileSystem, bucket: string, query: Query, owner: string): Promise<Record<string, unknown>> {
  const prefix = query.get('prefix') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const idMarker = query.get('upload-id-marker') ?? '';
  const maxUploads = Math.min(LIST_MAX, Number(query.get('max-uploads') ?? LIST_MAX));
  if (!Number.isInteger(maxUploads) || maxUploads < 0) throw s3Errors.invalidArgument('max-uploads is a whole number');
  let entries: DirEntry[] = [];
  try {
    entries = await readAll(fs, await uploadsRoot(fs, false));
  } catch (err) {
    if (!(err instanceof Error) || (!isShoalError(err, 'NotFound') && err.name !== 'S3Error')) throw err;
  }
  const uploads: Upload[] = [];
  for (const entry of entries) {
    if (entry.type !== 'dir' || !UPLOAD_ID.test(entry.name)) continue;
    const upload = uploadOf(entry.name, entry.inode, (await fs.getattr(entry.inode)).xattrs);
    if (upload === undefined || !upload.key.startsWith(prefix)) continue;
    if (upload.key < keyMarker || (upload.key === keyMarker && (idMarker === '' || upload.id <= idMarker))) continue;
    uploads.push(upload);
  }
  uploads.sort((a, b) => (a.key === b.key ? a.initiatedMs - b.initiatedMs : a.key < b.key ? -1 : 1));
  const page = uploads.slice(0, maxUploads);
  const last = page[page.length - 1];
  return {
    Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: idMarker, Prefix: prefix,
    ...(uploads.length > page.length && last !== undefined ? { NextKeyMarker: last.key, NextUploadIdMarker: last.id } : {}),
    MaxUploads: maxUploads, IsTruncated: uploads.length > page.length,
    Upload: page.map((u) => ({
      Key: u.key, UploadId: u.id, Initiator: { ID: owner, DisplayName: owner }, Owner: { ID: owner, DisplayName: owner },
      StorageClass: 'STANDARD', Initiated: new Date(u.initiatedMs).toISOString(),
    })),
  };
}
