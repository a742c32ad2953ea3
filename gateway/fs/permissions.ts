// Mode-bit permission checks for a caller's uid and groups, done here once for every protocol (AUTH_SYS, S3 users).
import { ShoalError } from '../../storage-node/base/errors.js';
import type { InodeAttrs } from './inode.js';

export interface Caller {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups. */
  readonly gids: readonly number[];
}

export const ROOT_CALLER: Caller = { uid: 0, gid: 0, gids: [] };

export const ACCESS_READ = 4;
export const ACCESS_WRITE = 2;
export const ACCESS_EXECUTE = 1;

export function inGroup(caller: Caller, gid: number): boolean {
  return caller.gid === gid || caller.gids.includes(gid);
}

/** POSIX: the owner's bits if the caller owns it, else the group's if in its group, else the others'; root passes. */
export function mayAccess(inode: Pick<InodeAttrs, 'mode' | 'uid' | 'gid'>, caller: Caller, want: number): boolean {
  if (caller.uid === 0) return true;
  const shift = caller.uid === inode.uid ? 6 : inGroup(caller, inode.gid) ? 3 : 0;
  return ((inode.mode >> shift) & want) === want;
}

export function checkAccess(inode: Pick<InodeAttrs, 'mode' | 'uid' | 'gid'>, caller: Caller, want: number, what: string): void {
  if (!mayAccess(inode, caller, want)) {
    throw new ShoalError('Forbidden', `uid ${caller.uid} may not ${accessWords(want)} ${what}`, { subject: 'inode' });
  }
}

function accessWords(want: number): string {
  const words = [];
  if (want & ACCESS_READ) words.push('read');
  if (want & ACCESS_WRITE) words.push('write');
  if (want & ACCESS_EXECUTE) words.push('search/execute');
  return words.join(' and ');
}

/** Only the owner or root change an inode's mode, times (to a given value) or group. */
export function checkOwner(inode: Pick<InodeAttrs, 'uid'>, caller: Caller, what: string): void {
  if (caller.uid !== 0 && caller.uid !== inode.uid) {
    throw new ShoalError('Forbidden', `uid ${caller.uid} does not own ${what}`, { subject: 'inode' });
  }
}
