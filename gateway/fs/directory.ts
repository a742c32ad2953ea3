// Directory entries: the attributes a listing needs, kept sorted by name (UTF-8 byte order, as S3 lists), and the pure
// operations on a sorted run of entries that both a small directory and a page of a large one use.
import { assert } from '../../storage-node/base/assert.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { checkAddress, checkString, checkTuple, checkUint, packRecord, RecordReader } from './record-packer.js';

export type InodeType = 'file' | 'dir' | 'symlink';

export interface DirEntry {
  readonly name: string;
  readonly inode: Address;
  readonly type: InodeType;
  /** Listing attributes: a copy of the inode's, refreshed when the inode changes through this entry's directory. */
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly etag?: string;
}

/**
 * Where a listing resumes: the last name returned. The next page starts at the first name greater than it, so the
 * cookie stays valid whatever is added or removed meanwhile (no BAD_COOKIE for a live directory), and needs no state
 * on any gateway. A protocol with a fixed-size cookie (NFSv3: 8 bytes) maps it in its own layer.
 */
export type DirCookie = string;

const TYPE_CODES = { file: 0, dir: 1, symlink: 2 } as const;
const TYPES: readonly InodeType[] = ['file', 'dir', 'symlink'];

export function typeCode(type: InodeType): number {
  return TYPE_CODES[type];
}

export function typeOfCode(code: unknown, fail: () => Error): InodeType {
  const type = typeof code === 'number' ? TYPES[code] : undefined;
  if (type === undefined) throw fail();
  return type;
}

/** UTF-8 byte order; JavaScript's UTF-16 order differs only when a surrogate or a code unit ≥ U+D800 is involved. */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  if (/[\ud800-\uffff]/.test(a) || /[\ud800-\uffff]/.test(b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : 1;
}

/** Refuses names no protocol may create: empty, `.`, `..`, with `/` or NUL, or longer than NAME_MAX bytes. */
export function checkName(name: string, nameBytesMax: number): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new ShoalError('Invalid', `"${name}" is not a valid name`, { subject: 'entry' });
  }
  if (Buffer.byteLength(name, 'utf8') > nameBytesMax) {
    throw new ShoalError('NameTooLong', `a name is at most ${nameBytesMax} bytes`, { subject: 'entry' });
  }
}

/** Index of the first entry whose name is ≥ `name`. */
export function lowerBound(entries: readonly DirEntry[], name: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareNames((entries[mid] as DirEntry).name, name) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

export function entryNamed(entries: readonly DirEntry[], name: string): DirEntry | undefined {
  const entry = entries[lowerBound(entries, name)];
  return entry?.name === name ? entry : undefined;
}

/** A copy with `entry` inserted in order, or replacing the entry of the same name. */
export function withEntry(entries: readonly DirEntry[], entry: DirEntry): DirEntry[] {
  const at = lowerBound(entries, entry.name);
  const replaces = entries[at]?.name === entry.name ? 1 : 0;
  const next = entries.slice();
  next.splice(at, replaces, entry);
  return next;
}

export function withoutEntry(entries: readonly DirEntry[], name: string): DirEntry[] {
  const at = lowerBound(entries, name);
  if (entries[at]?.name !== name) return entries.slice();
  const next = entries.slice();
  next.splice(at, 1);
  return next;
}

/** Up to `count` entries with names after `cookie` (all from the start without one). */
export function entriesAfter(entries: readonly DirEntry[], cookie: DirCookie | undefined, count: number): DirEntry[] {
  let at = cookie === undefined ? 0 : lowerBound(entries, cookie);
  if (cookie !== undefined && entries[at]?.name === cookie) at++;
  return entries.slice(at, at + count);
}

/** Halves a full run: `upper` starts at `key`, its first name. */
export function splitEntries(entries: readonly DirEntry[]): { lower: DirEntry[]; upper: DirEntry[]; key: string } {
  assert(entries.length >= 2, 'a split needs two entries');
  const half = entries.length >>> 1;
  const upper = entries.slice(half);
  return { lower: entries.slice(0, half), upper, key: (upper[0] as DirEntry).name };
}

export function encodeEntries(entries: readonly DirEntry[]): unknown[] {
  return entries.map((e) => [e.name, e.inode, TYPE_CODES[e.type], e.size, e.mode, e.mtimeMs, e.etag ?? null]);
}

/** Strict: every field typed, names strictly increasing (a corrupt or hostile block cannot unsort a directory). */
export function decodeEntries(value: unknown, what: string): DirEntry[] {
  const fail = (detail: string) => () => new ShoalError('Invalid', `${what}: ${detail}`, { subject: 'block' });
  if (!Array.isArray(value)) throw fail('entries should be an array')();
  const entries: DirEntry[] = [];
  for (const item of value) {
    const [name, inode, type, size, mode, mtimeMs, etag] = checkTuple(item, 7, fail('an entry is a 7-tuple'));
    const entry: DirEntry = {
      name: checkString(name, fail('an entry name is a string')),
      inode: checkAddress(inode, fail('an entry points at an address')),
      type: typeOfCode(type, fail('unknown entry type')),
      size: checkUint(size, fail('entry size')),
      mode: checkUint(mode, fail('entry mode')),
      mtimeMs: checkUint(mtimeMs, fail('entry mtime')),
      ...(etag === null ? {} : { etag: checkString(etag, fail('entry etag')) }),
    };
    const previous = entries[entries.length - 1];
    if (previous !== undefined && compareNames(previous.name, entry.name) >= 0) throw fail('entries are not sorted by name')();
    entries.push(entry);
  }
  return entries;
}

/** A page of a large directory, named in its root by the lowest name it may hold ('' for the first page). */
export interface PageRef {
  readonly low: string;
  readonly address: Address;
}

export function encodePageRefs(pages: readonly PageRef[]): unknown[] {
  return pages.map((p) => [p.low, p.address]);
}

export function decodePageRefs(value: unknown, what: string): PageRef[] {
  const fail = (detail: string) => () => new ShoalError('Invalid', `${what}: ${detail}`, { subject: 'block' });
  if (!Array.isArray(value) || value.length === 0) throw fail('page references should be a non-empty array')();
  const pages = value.map((item): PageRef => {
    const [low, address] = checkTuple(item, 2, fail('a page reference is a pair'));
    return { low: checkString(low, fail('a page bound is a string')), address: checkAddress(address, fail('a page address')) };
  });
  if (pages[0]?.low !== '') throw fail('the first page starts at the empty name')();
  for (let i = 1; i < pages.length; i++) {
    if (compareNames((pages[i - 1] as PageRef).low, (pages[i] as PageRef).low) >= 0) throw fail('pages are not sorted')();
  }
  return pages;
}

/** The page whose range holds `name`: the last one whose low bound is ≤ it. */
export function pageFor(pages: readonly PageRef[], name: string): PageRef {
  let low = 0;
  let high = pages.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareNames((pages[mid] as PageRef).low, name) <= 0) low = mid + 1;
    else high = mid;
  }
  const page = pages[Math.max(0, low - 1)];
  assert(page !== undefined, 'a paged directory has a first page');
  return page;
}

/** One page of a large directory (its own mutable block): names in [low, high), and the next page (a B-link chain). */
export interface DirPage {
  readonly low: string;
  readonly high?: string;
  readonly next?: Address;
  readonly mtimeMs: number;
  readonly entries: readonly DirEntry[];
}

export const DIR_PAGE_FORMAT_VERSION = 1;

export function encodeDirPage(page: DirPage): Buffer {
  return packRecord({
    v: DIR_PAGE_FORMAT_VERSION, lo: page.low, mt: page.mtimeMs, e: encodeEntries(page.entries),
    ...(page.high === undefined ? {} : { hi: page.high }), ...(page.next === undefined ? {} : { nx: page.next }),
  });
}

export function decodeDirPage(bytes: Buffer): DirPage {
  const r = new RecordReader('directory page', bytes);
  r.formatVersion(DIR_PAGE_FORMAT_VERSION);
  const page: DirPage = {
    low: r.string('lo'), mtimeMs: r.uint('mt'), entries: decodeEntries(r.raw('e'), 'directory page'),
    ...(r.has('hi') ? { high: r.string('hi') } : {}), ...(r.has('nx') ? { next: r.address('nx') } : {}),
  };
  if ((page.high === undefined) !== (page.next === undefined)) throw r.fail('hi', 'present exactly when there is a next page');
  if (page.high !== undefined && compareNames(page.low, page.high) >= 0) throw r.fail('hi', 'above the low bound');
  if (!page.entries.every((e) => inPage(page, e.name))) throw r.fail('e', 'names within the page bounds');
  return page;
}

export function inPage(page: Pick<DirPage, 'low' | 'high'>, name: string): boolean {
  return compareNames(name, page.low) >= 0 && (page.high === undefined || compareNames(name, page.high) < 0);
}

/** Same names, inodes and attributes (what a split checks before it commits its snapshot). */
export function sameEntries(a: readonly DirEntry[], b: readonly DirEntry[]): boolean {
  return a.length === b.length && packRecord(encodeEntries(a)).equals(packRecord(encodeEntries(b)));
}
