// A directory's entries, whether inline in its inode or split into pages: lookup, atomic change of the entries of a
// few names, resumable listing, and the splits that keep every block under the page threshold.
//
// Large directories are a B-link tree of one level (Lehman and Yao, 1981): the directory inode lists its pages by low
// bound, and each page knows its high bound and the next page. A split first creates the upper half as a new page,
// then cuts the old page down in one version that sets its high bound and next pointer, and only then adds the new
// page to the root. A writer that reads a stale root lands on a page whose bound says "further", and follows `next`.
// So a change rewrites one page, never the root (except on a split), writers of different pages never conflict, and a
// crash between the steps loses nothing. Pages are never merged: an emptied page stays until a compaction (not yet).
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import {
  compareNames, decodeDirPage, encodeDirPage, entriesAfter, entryNamed, inPage, pageFor, sameEntries, splitEntries,
  withEntry, withoutEntry, type DirCookie, type DirEntry, type DirPage, type PageRef,
} from './directory.js';
import { ChangeBatcher } from './change-batcher.js';
import type { FsBlocks } from './fs-blocks.js';
import type { FsLimits } from './fs-limits.js';
import type { DirInode, Inode } from './inode.js';
import type { InodeStore } from './inode-store.js';

/** The next entry for each name (null removes it), computed from the current ones; or why the change no longer applies. */
export type EntriesChange = (current: ReadonlyMap<string, DirEntry | undefined>) => ReadonlyMap<string, DirEntry | null> | ShoalError;

export interface DirListing {
  readonly entries: readonly DirEntry[];
  /** True when nothing follows the last entry returned. */
  readonly eof: boolean;
}

export interface DirStats {
  readonly count: number;
  readonly subdirs: number;
  readonly mtimeMs: number;
}

const PAGE_HOPS_MAX = 10_000;
const MOVED = 'directory page moved';

export class Directories {
  readonly #blocks: FsBlocks;
  readonly #inodes: InodeStore;
  readonly #limits: FsLimits;
  readonly #inlineChanges: ChangeBatcher<Inode, Map<string, DirEntry | undefined>>;
  readonly #pageChanges: ChangeBatcher<DirPage, Map<string, DirEntry | undefined>>;
  readonly #splitting = new Set<string>();
  // Insertion order is recency: the first key is the least recently stored.
  readonly #pages = new Map<string, CachedPage>();

  constructor(blocks: FsBlocks, inodes: InodeStore, limits: FsLimits) {
    this.#blocks = blocks;
    this.#inodes = inodes;
    this.#limits = limits;
    this.#inlineChanges = new ChangeBatcher(async (key, apply) => (await inodes.update(Buffer.from(key, 'hex'), apply)).inode);
    this.#pageChanges = new ChangeBatcher(async (key, apply) => {
      const { version, content } = await blocks.updateMutable(Buffer.from(key, 'hex'), (bytes) => {
        const next = apply(decodePage(bytes));
        return isShoalError(next) ? next : encodePage(next);
      });
      return this.#rememberPage(key, version, content);
    });
  }

  /** `root`: the directory's inode when the caller has just read it (saves a read). */
  async lookup(dir: Address, name: string, root?: DirInode): Promise<DirEntry | undefined> {
    root ??= liveDir(dir, (await this.#inodes.read(dir)).inode);
    if (root.dir.kind === 'entries') return entryNamed(root.dir.entries, name);
    return entryNamed((await this.#locate(root.dir.pages, name)).page.entries, name);
  }

  /**
   * Changes the entries of `names` in one version of one block, and returns them as they were before. Names that fall
   * in different pages of a large directory fail with Conflict (detail.acrossPages): the caller orders two changes.
   * `nowMs` is the directory's new mtime; undefined leaves it (a refresh of listing attributes is not a change of the
   * directory). A change that returns no updates writes nothing. `hint`: the directory's inode, just read.
   */
  async change(dir: Address, names: readonly string[], change: EntriesChange, nowMs: number | undefined, hint?: DirInode): Promise<Map<string, DirEntry | undefined>> {
    for (let attempt = 0; attempt <= this.#limits.conflictRetriesMax; attempt++) {
      // The hint may be stale: the change checks the shape it finds, and a moved name sends us round again.
      const root = attempt === 0 && hint !== undefined ? hint : liveDir(dir, (await this.#inodes.read(dir)).inode);
      if (root.dir.kind === 'entries') {
        const result = await this.#changeInline(dir, names, change, nowMs).catch(retryIfMoved);
        if (result !== undefined) return result;
        continue;
      }
      const pages = root.dir.pages;
      const located = await Promise.all(names.map((name) => this.#locate(pages, name, attempt === 0)));
      const address = (located[0] as Located).address;
      if (!located.every((l) => l.address.equals(address))) {
        throw new ShoalError('Conflict', 'the names are in different pages of the directory', { subject: 'entry', detail: { acrossPages: true } });
      }
      const result = await this.#changePage(dir, address, names, change, nowMs).catch(retryIfMoved);
      if (result !== undefined) return result;
    }
    throw new ShoalError('Conflict', `directory ${dir.toString('hex')} kept changing shape under the operation`, { subject: 'inode' });
  }

  async #changeInline(dir: Address, names: readonly string[], change: EntriesChange, nowMs: number | undefined): Promise<Map<string, DirEntry | undefined>> {
    const { result, written } = await this.#inlineChanges.submit(dir.toString('hex'), (inode) => {
      const current = liveDir(dir, inode);
      if (current.dir.kind !== 'entries') return new ShoalError('Conflict', MOVED);
      const applied = applyChange(current.dir.entries, names, change);
      if (isShoalError(applied)) return applied;
      if (!applied.changed) return { next: inode, result: applied.before };
      return { next: { ...current, dir: { kind: 'entries', entries: applied.entries }, ...(nowMs === undefined ? {} : { mtimeMs: nowMs, ctimeMs: nowMs }) }, result: applied.before };
    });
    if (written.type === 'dir' && written.dir.kind === 'entries' && written.dir.entries.length > this.#limits.dirPageEntriesMax) {
      await this.#splitOnce(dir, this.#inlineChanges, () => this.#splitRoot(dir, nowMs ?? 0));
    }
    return result;
  }

  async #changePage(dir: Address, address: Address, names: readonly string[], change: EntriesChange, nowMs: number | undefined): Promise<Map<string, DirEntry | undefined>> {
    const { result, written } = await this.#pageChanges.submit(address.toString('hex'), (current) => {
      if (!names.every((name) => inPage(current, name))) return new ShoalError('Conflict', MOVED);
      const applied = applyChange(current.entries, names, change);
      if (isShoalError(applied)) return applied;
      if (!applied.changed) return { next: current, result: applied.before };
      return { next: { ...current, entries: applied.entries, mtimeMs: nowMs ?? current.mtimeMs }, result: applied.before };
    });
    if (written.entries.length > this.#limits.dirPageEntriesMax) {
      await this.#splitOnce(address, this.#pageChanges, () => this.#splitPage(dir, address, nowMs ?? written.mtimeMs));
    }
    return result;
  }

  /**
   * One split of a block at a time from this gateway (every change of a burst sees the block over the threshold),
   * with this gateway's changes to the block held back meanwhile: a split checks that the half it moves did not
   * change, which a steady stream of creates would otherwise defeat every time, growing the block without bound.
   */
  async #splitOnce<V>(block: Address, changes: ChangeBatcher<V, Map<string, DirEntry | undefined>>, split: () => Promise<void>): Promise<void> {
    const key = block.toString('hex');
    if (this.#splitting.has(key)) return;
    this.#splitting.add(key);
    try {
      await changes.exclusive(key, split).catch(splitLater);
    } finally {
      this.#splitting.delete(key);
    }
  }

  /** Up to `count` entries after `cookie`, in name order, following the page chain (complete even when the root is stale). */
  async list(dir: Address, cookie: DirCookie | undefined, count: number): Promise<DirListing> {
    const root = liveDir(dir, (await this.#inodes.read(dir)).inode);
    if (root.dir.kind === 'entries') {
      const entries = entriesAfter(root.dir.entries, cookie, count);
      const last = entries[entries.length - 1];
      return { entries, eof: last === undefined || entriesAfter(root.dir.entries, last.name, 1).length === 0 };
    }
    let { page } = await this.#locate(root.dir.pages, cookie ?? '');
    const entries: DirEntry[] = [];
    for (let hops = 0; hops < PAGE_HOPS_MAX; hops++) {
      const after = entriesAfter(page.entries, cookie, count - entries.length + 1);
      entries.push(...after);
      if (entries.length > count) return { entries: entries.slice(0, count), eof: false };
      if (page.next === undefined) return { entries, eof: true };
      page = await this.#readPage(page.next);
    }
    throw new ShoalError('Invalid', `directory ${dir.toString('hex')} has a page chain longer than ${PAGE_HOPS_MAX}`, { subject: 'inode' });
  }

  /** Counts, subdirectories and the latest change, over every page (a paged directory's mtime is its newest page's). */
  async stats(dir: Address, inode: DirInode): Promise<DirStats> {
    const tally = (entries: readonly DirEntry[]): number => entries.filter((e) => e.type === 'dir').length;
    if (inode.dir.kind === 'entries') return { count: inode.dir.entries.length, subdirs: tally(inode.dir.entries), mtimeMs: inode.mtimeMs };
    let stats = { count: 0, subdirs: 0, mtimeMs: inode.mtimeMs };
    let next: Address | undefined = (inode.dir.pages[0] as PageRef).address;
    for (let hops = 0; next !== undefined && hops < PAGE_HOPS_MAX; hops++) {
      const page: DirPage = await this.#readPage(next);
      stats = { count: stats.count + page.entries.length, subdirs: stats.subdirs + tally(page.entries), mtimeMs: Math.max(stats.mtimeMs, page.mtimeMs) };
      next = page.next;
    }
    if (next !== undefined) throw new ShoalError('Invalid', `directory ${dir.toString('hex')} has too long a page chain`, { subject: 'inode' });
    return stats;
  }

  /**
   * The page as it is now (a linearizable read, conditional when a version is cached: an unchanged page costs no
   * transfer and no decoding), or with `cached`, any version seen before: enough to find which page holds a name,
   * since a change checks the bounds it finds and moves on when they moved.
   */
  async #readPage(address: Address, cached = false): Promise<DirPage> {
    const key = address.toString('hex');
    const known = this.#pages.get(key);
    if (known !== undefined && cached) return known.page;
    let read: { version: number; content: Buffer } | { notModified: true };
    try {
      read = known === undefined ? await this.#blocks.readMutable(address) : await this.#blocks.readMutableIfNewer(address, known.version);
    } catch (err) {
      this.#pages.delete(key);
      throw err;
    }
    if ('notModified' in read) return (known as CachedPage).page;
    return this.#rememberPage(key, read.version, read.content);
  }

  /** Decodes a page version once however many readers bring it back; never replaces a newer version with an older. */
  #rememberPage(key: string, version: number, content: Buffer): DirPage {
    const known = this.#pages.get(key);
    if (known !== undefined && known.version >= version) return known.version === version ? known.page : decodePage(content);
    const page = decodePage(content);
    this.#pages.delete(key);
    this.#pages.set(key, { version, page });
    if (this.#pages.size > PAGES_CACHED_MAX) this.#pages.delete(this.#pages.keys().next().value as string);
    return page;
  }

  async #locate(pages: readonly PageRef[], name: string, cached = false): Promise<Located> {
    let address = pageFor(pages, name).address;
    for (let hops = 0; hops < PAGE_HOPS_MAX; hops++) {
      const page = await this.#readPage(address, cached);
      if (page.high === undefined || page.next === undefined || compareNames(name, page.high) < 0) return { address, page };
      address = page.next;
    }
    throw new ShoalError('Invalid', 'a directory page chain is too long', { subject: 'inode' });
  }

  /** Inline → two pages: the pages are written first, then the inode swaps its entries for them if they are unchanged. */
  async #splitRoot(dir: Address, nowMs: number): Promise<void> {
    let snapshot = liveDir(dir, (await this.#inodes.read(dir)).inode);
    if (snapshot.dir.kind !== 'entries' || snapshot.dir.entries.length <= this.#limits.dirPageEntriesMax) return;
    let { lower, upper, key } = splitEntries(snapshot.dir.entries);
    const second = await this.#blocks.createMutable(encodeDirPage({ low: key, mtimeMs: nowMs, entries: upper }));
    const first = await this.#blocks.createMutable(encodeDirPage({ low: '', high: key, next: second.address, mtimeMs: nowMs, entries: lower }));
    for (let attempt = 0; attempt <= this.#limits.conflictRetriesMax; attempt++) {
      const expected: readonly DirEntry[] = snapshot.dir.kind === 'entries' ? snapshot.dir.entries : [];
      const swapped = await this.#inodes.update(dir, (inode) => {
        const current = liveDir(dir, inode);
        if (current.dir.kind !== 'entries') return new ShoalError('Conflict', 'already paged');
        if (!sameEntries(current.dir.entries, expected)) return new ShoalError('Conflict', MOVED);
        return { ...current, dir: { kind: 'pages', pages: [{ low: '', address: first.address }, { low: key, address: second.address }] } };
      }).catch(retryIfMoved);
      if (swapped !== undefined) return;
      // Entries changed while the pages were written: rewrite the (still unreferenced) pages from a fresh snapshot.
      snapshot = liveDir(dir, (await this.#inodes.read(dir)).inode);
      if (snapshot.dir.kind !== 'entries' || snapshot.dir.entries.length < 2) return;
      ({ lower, upper, key } = splitEntries(snapshot.dir.entries));
      await this.#blocks.updateMutable(second.address, () => encodeDirPage({ low: key, mtimeMs: nowMs, entries: upper }));
      await this.#blocks.updateMutable(first.address, () => encodeDirPage({ low: '', high: key, next: second.address, mtimeMs: nowMs, entries: lower }));
    }
  }

  /** A full page → the upper half moves to a new page (created first), the old page is cut in one version, then the root learns the new page. */
  async #splitPage(dir: Address, address: Address, nowMs: number): Promise<void> {
    let snapshot = await this.#readPage(address);
    if (snapshot.entries.length <= this.#limits.dirPageEntriesMax) return;
    const { key } = splitEntries(snapshot.entries);
    const upperOf = (page: DirPage): DirEntry[] => page.entries.filter((e) => compareNames(e.name, key) >= 0);
    const fresh = (page: DirPage): DirPage => ({ low: key, mtimeMs: nowMs, entries: upperOf(page), ...(page.high === undefined ? {} : { high: page.high }), ...(page.next === undefined ? {} : { next: page.next }) });
    const created = await this.#blocks.createMutable(encodeDirPage(fresh(snapshot)));
    for (let attempt = 0; attempt <= this.#limits.conflictRetriesMax; attempt++) {
      const expected = snapshot;
      const cut = await this.#blocks.updateMutable(address, (content) => {
        const current = decodePage(content);
        if (current.high !== expected.high || !sameAddress(current.next, expected.next)) return new ShoalError('Conflict', 'split by another writer');
        if (!sameEntries(upperOf(current), upperOf(expected))) return new ShoalError('Conflict', MOVED);
        return encodeDirPage({ ...current, entries: current.entries.filter((e) => compareNames(e.name, key) < 0), high: key, next: created.address });
      }).catch(retryIfMoved);
      if (cut !== undefined) break;
      snapshot = await this.#readPage(address);
      if (!inPage(snapshot, key) || upperOf(snapshot).length === snapshot.entries.length) return;
      await this.#blocks.updateMutable(created.address, () => encodeDirPage(fresh(snapshot)));
      if (attempt === this.#limits.conflictRetriesMax) return;
    }
    await this.#inodes.update(dir, (inode) => {
      const current = liveDir(dir, inode);
      if (current.dir.kind !== 'pages') return new ShoalError('Conflict', 'not paged');
      if (current.dir.pages.some((p) => p.low === key)) return new ShoalError('Conflict', 'already linked');
      const pages = [...current.dir.pages, { low: key, address: created.address }].sort((a, b) => compareNames(a.low, b.low));
      return { ...current, dir: { kind: 'pages', pages } };
    });
  }
}

/** Pages of large directories kept decoded, by address, with the version they are. */
const PAGES_CACHED_MAX = 64;

interface CachedPage {
  readonly version: number;
  readonly page: DirPage;
}

interface Located {
  readonly address: Address;
  readonly page: DirPage;
}

// Pages decoded from the bytes this gateway encoded or read, by identity: the next change of a burst (or a replay of
// it) starts from the object rather than decoding the whole page again.
const pagesByContent = new WeakMap<Buffer, DirPage>();

function decodePage(bytes: Buffer): DirPage {
  const known = pagesByContent.get(bytes);
  if (known !== undefined) return known;
  const page = decodeDirPage(bytes);
  pagesByContent.set(bytes, page);
  return page;
}

function encodePage(page: DirPage): Buffer {
  const bytes = encodeDirPage(page);
  pagesByContent.set(bytes, page);
  return bytes;
}

function applyChange(entries: readonly DirEntry[], names: readonly string[], change: EntriesChange): { before: Map<string, DirEntry | undefined>; entries: DirEntry[]; changed: boolean } | ShoalError {
  const before = new Map(names.map((name) => [name, entryNamed(entries, name)] as const));
  const updates = change(before);
  if (isShoalError(updates)) return updates;
  let next = entries.slice();
  for (const [name, entry] of updates) next = entry === null ? withoutEntry(next, name) : withEntry(next, entry);
  return { before, entries: next, changed: updates.size > 0 };
}

/** The directory inode, checked to be a live directory. */
export function liveDir(address: Address, inode: Inode): DirInode {
  if (inode.type !== 'dir') throw new ShoalError('NotDir', `inode ${address.toString('hex')} is not a directory`, { subject: 'inode' });
  if (inode.removed) throw new ShoalError('NotFound', `directory ${address.toString('hex')} was removed`, { subject: 'inode' });
  return inode;
}

function sameAddress(a: Address | undefined, b: Address | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.equals(b);
}

function retryIfMoved(err: unknown): undefined {
  if (isShoalError(err, 'Conflict') && err.message === MOVED) return undefined;
  throw err;
}

/**
 * The change is done by the time a split runs, so a failed split must not fail it: the block stays over the threshold
 * (it still fits its mutable block) and the next change of that block tries the split again.
 */
function splitLater(err: unknown): void {
  if (isShoalError(err)) return;
  throw err;
}
