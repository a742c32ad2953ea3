// rename: one atomic version when both names live in one block (a small directory or one page); otherwise, across
// directories or pages, the new entry is added first and the old one removed after, so a crash in between leaves a
// second link (found by repair), never a lost file (DESIGN §6).
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { liveDir } from './directory-pages.js';
import type { DirEntry } from './directory.js';
import { missingEntry, type FsContext } from './fs-context.js';
import { dropLink, markRemoved } from './namespace.js';
import { ACCESS_EXECUTE, ACCESS_WRITE, checkAccess, type Caller } from './permissions.js';

const ANCESTRY_HOPS_MAX = 4096;

/**
 * What the target name must hold for the rename to happen, checked inside the target directory's consensus change (so
 * two gateways cannot both see it hold): nothing ('absent'), or an entry pointing at this inode. S3's conditional
 * writes (If-None-Match: *, If-Match) are renames of a finished hidden file under such an expectation.
 */
export type TargetExpectation = { readonly absent: true } | { readonly inode: Address };

/** The typed failure of a target expectation: `Conflict` with this detail, which a retry loop must not retry. */
export const EXPECTATION_FAILED = 'targetExpectationFailed';

export function isExpectationFailure(err: unknown): boolean {
  return isShoalError(err, 'Conflict') && err.detail?.[EXPECTATION_FAILED] === true;
}

export async function rename(
  cx: FsContext, caller: Caller, sourceDir: Address, sourceName: string, targetDir: Address, targetName: string, expect?: TargetExpectation,
): Promise<void> {
  cx.checkName(sourceName);
  cx.checkName(targetName);
  for (const dir of [sourceDir, targetDir]) {
    checkAccess(liveDir(dir, (await cx.inodes.read(dir)).inode), caller, ACCESS_WRITE | ACCESS_EXECUTE, `directory ${dir.toString('hex')}`);
  }
  const source = await cx.dirs.lookup(sourceDir, sourceName);
  if (source === undefined) throw missingEntry(sourceName);
  const sameDir = sourceDir.equals(targetDir);
  if (sameDir && sourceName === targetName) return;
  if (source.type === 'dir') await checkNotInto(cx, source.inode, targetDir);
  const replaced = await cx.dirs.lookup(targetDir, targetName);
  // Checked here too, to fail before anything changes (a directory marked removed below would stay marked).
  const early = unmet(expect, replaced, targetName);
  if (early !== undefined) throw early;
  if (replaced !== undefined) {
    // POSIX: renaming onto another link of the same inode does nothing.
    if (replaced.inode.equals(source.inode)) return;
    checkReplaceable(source, replaced);
    if (replaced.type === 'dir') await markRemoved(cx, replaced);
  }
  const moved: DirEntry = { ...source, name: targetName };
  const fits = (entry: DirEntry | undefined): ShoalError | undefined => {
    const failed = unmet(expect, entry, targetName);
    if (failed !== undefined) return failed;
    if (entry === undefined || (replaced !== undefined && entry.inode.equals(replaced.inode))) return undefined;
    // Another file took the name since the lookup: a file replaces any file (its link is dropped below), so the last
    // rename wins without a retry; a directory there (or moving one) needs the checks above again.
    if (entry.type !== 'dir' && source.type !== 'dir' && !entry.inode.equals(source.inode)) return undefined;
    return new ShoalError('Conflict', `"${targetName}" changed during the rename`, { subject: 'entry' });
  };
  const now = cx.nowMs();
  let before: Map<string, DirEntry | undefined> | undefined;
  if (sameDir) {
    before = await cx.dirs.change(sourceDir, [sourceName, targetName], (current) => {
      if (!current.get(sourceName)?.inode.equals(source.inode)) return missingEntry(sourceName);
      return fits(current.get(targetName)) ?? new Map([[sourceName, null], [targetName, moved]]);
    }, now).catch((err: unknown) => {
      if (isShoalError(err, 'Conflict') && err.detail?.['acrossPages'] === true) return undefined;
      throw err;
    });
  }
  if (before === undefined) {
    before = await cx.dirs.change(targetDir, [targetName], (current) => fits(current.get(targetName)) ?? new Map([[targetName, moved]]), now);
    await cx.dirs.change(sourceDir, [sourceName], (current) => (current.get(sourceName)?.inode.equals(source.inode) ? new Map([[sourceName, null]]) : new Map()), now);
  }
  await repoint(cx, source, targetDir, targetName, now);
  // The entry the chosen change replaced (not necessarily the one looked up first).
  const displaced = before.get(targetName);
  if (displaced !== undefined && displaced.type !== 'dir') await dropLink(cx, displaced.inode);
}

/** The expectation's failure for the target's current entry, or undefined when it holds (or there is none). */
function unmet(expect: TargetExpectation | undefined, entry: DirEntry | undefined, targetName: string): ShoalError | undefined {
  if (expect === undefined) return undefined;
  const holds = 'absent' in expect ? entry === undefined : entry !== undefined && entry.inode.equals(expect.inode);
  if (holds) return undefined;
  const wanted = 'absent' in expect ? 'to be absent' : `to point at inode ${expect.inode.toString('hex')}`;
  return new ShoalError('Conflict', `"${targetName}" was expected ${wanted}`, { subject: 'entry', detail: { [EXPECTATION_FAILED]: true } });
}

function checkReplaceable(source: DirEntry, replaced: DirEntry): void {
  if (source.type === 'dir' && replaced.type !== 'dir') throw new ShoalError('NotDir', `"${replaced.name}" is not a directory`, { subject: 'entry' });
  if (source.type !== 'dir' && replaced.type === 'dir') throw new ShoalError('IsDir', `"${replaced.name}" is a directory`, { subject: 'entry' });
}

/** A directory cannot move into itself or below itself: walk up from the target directory to the root. */
async function checkNotInto(cx: FsContext, moving: Address, targetDir: Address): Promise<void> {
  let at = targetDir;
  for (let hops = 0; hops < ANCESTRY_HOPS_MAX; hops++) {
    if (at.equals(moving)) throw new ShoalError('Invalid', 'a directory cannot be moved into itself or its own subdirectory', { subject: 'entry' });
    if (at.equals(cx.root)) return;
    const parent = (await cx.inodes.read(at)).inode.parent;
    if (parent === undefined || parent.equals(at)) return;
    at = parent;
  }
  throw new ShoalError('Invalid', 'directory nesting is deeper than the ancestry walk allows', { subject: 'inode' });
}

/** The moved inode's parent (a directory's `..`) or parent hint (a file's), and its ctime. */
async function repoint(cx: FsContext, moved: DirEntry, targetDir: Address, targetName: string, now: number): Promise<void> {
  await cx.inodes.update(moved.inode, (inode) => (inode.type === 'dir'
    ? { ...inode, parent: targetDir, ctimeMs: now }
    : { ...inode, parent: targetDir, parentName: targetName, ctimeMs: now })).catch((err: unknown) => {
    if (!isShoalError(err, 'NotFound')) throw err;
  });
}
