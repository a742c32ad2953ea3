// One page of a directory for READDIR and READDIRPLUS (RFC 1813 §3.3.16–17): ".", "..", then the names after the
// cookie, as many as fit the client's byte counts.
import type { Address } from './file-handle.js';
import type { Caller } from '../fs/permissions.js';
import { xdrStringBytes } from './codec.js';
import { COOKIE_AFTER_DOT, COOKIE_AFTER_DOTDOT, COOKIE_START } from './dir-cookies.js';
import { nfsError } from './errors.js';
import type { NfsContext, NfsObject } from './nfs-context.js';
import { nfsstat3 } from './types.js';

/** Entries asked of the filesystem for one page, whatever the client's counts allow. */
const PAGE_ENTRIES_MAX = 1024;

export interface ListedEntry {
  readonly name: string;
  readonly address: Address;
  readonly cookie: bigint;
}

export interface ListedPage {
  readonly entries: readonly ListedEntry[];
  readonly eof: boolean;
}

export interface PageBudget {
  /** Bytes one entry costs, counted against bytesMax. */
  readonly entryBytes: (name: string) => number;
  readonly bytesMax: number;
  /** Bytes of directory information (fileid, name, cookie) against dirBytesMax, for READDIRPLUS's dircount. */
  readonly dirBytesMax?: number;
}

/** Bytes of an entry3's directory information: value_follows, fileid, name, cookie. */
export function entryDirBytes(name: string): number {
  return 4 + 8 + xdrStringBytes(Buffer.byteLength(name, 'utf8')) + 8;
}

/** Lists one page; a page where not even one entry fits is NFS3ERR_TOOSMALL. */
export async function listPage(nfs: NfsContext, dir: NfsObject, caller: Caller, cookie: bigint, budget: PageBudget): Promise<ListedPage> {
  const candidates: ListedEntry[] = [];
  // The dot entries come first, with the reserved cookies 1 and 2.
  if (cookie === COOKIE_START) candidates.push({ name: '.', address: dir.address, cookie: COOKIE_AFTER_DOT });
  if (cookie === COOKIE_START || cookie === COOKIE_AFTER_DOT) {
    candidates.push({ name: '..', address: await dir.fs.parentOf(dir.address), cookie: COOKIE_AFTER_DOTDOT });
  }
  const resume = await nfs.cookies.resume(dir.fs, caller, dir.address, cookie);
  const wanted = Math.max(1, Math.min(PAGE_ENTRIES_MAX, Math.floor(budget.bytesMax / entryDirBytes('x'))));
  const page = await dir.fs.readdir(caller, dir.address, { count: wanted, ...(resume.kind === 'after' ? { cookie: resume.name } : {}) });
  for (const e of page.entries) candidates.push({ name: e.name, address: e.inode, cookie: cookieOf(nfs, dir, e.name) });
  const entries: ListedEntry[] = [];
  let bytes = 0;
  let dirBytes = 0;
  for (const entry of candidates) {
    bytes += budget.entryBytes(entry.name);
    dirBytes += entryDirBytes(entry.name);
    if (bytes > budget.bytesMax || (budget.dirBytesMax !== undefined && dirBytes > budget.dirBytesMax)) break;
    entries.push(entry);
  }
  if (entries.length === 0 && candidates.length > 0) {
    // RFC 1813 §3.3.16: NFS3ERR_TOOSMALL when the count cannot hold one entry.
    throw nfsError('Invalid', nfsstat3.NFS3ERR_TOOSMALL, `a reply of ${budget.bytesMax} bytes holds no entry`);
  }
  return { entries, eof: page.eof && entries.length === candidates.length };
}

function cookieOf(nfs: NfsContext, dir: NfsObject, name: string): bigint {
  return nfs.cookies.remember(dir.address, name);
}
