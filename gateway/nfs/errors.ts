// Maps a ShoalError to its nfsstat3 once, for every procedure (STYLE §D); anything else is NFS3ERR_SERVERFAULT, logged with its stack.
import { isShoalError, ShoalError, type ErrorKind } from '../../storage-node/base/errors.js';
import type { Logger } from '../../storage-node/base/log.js';
import { nfsstat3 } from './types.js';

const NFSSTAT_VALUES: ReadonlySet<nfsstat3> = new Set(Object.values(nfsstat3));

/**
 * By kind; the compiler rejects a missing kind. `subject` refines two entries in nfsstatOf: NotFound of a handle or an
 * inode is NFS3ERR_STALE (the object is gone) while NotFound of a name is NFS3ERR_NOENT (chimera-nas/chimera#1570:
 * Linux re-resolves a path on ESTALE but takes ENOENT as final); Invalid of a handle is NFS3ERR_BADHANDLE.
 */
export const NFSSTAT_BY_KIND = {
  NotFound: nfsstat3.NFS3ERR_NOENT,
  Exists: nfsstat3.NFS3ERR_EXIST,
  NotEmpty: nfsstat3.NFS3ERR_NOTEMPTY,
  NotDir: nfsstat3.NFS3ERR_NOTDIR,
  IsDir: nfsstat3.NFS3ERR_ISDIR,
  // A conflict that outlived its retries: the client retries a JUKEBOX later (RFC 1813 §2.6), which is what it needs.
  Conflict: nfsstat3.NFS3ERR_JUKEBOX,
  Forbidden: nfsstat3.NFS3ERR_ACCES,
  // RFC 1813 §2.6 NFS3ERR_JUKEBOX: "the server initiated the request, but was not able to complete it in a timely fashion".
  Unavailable: nfsstat3.NFS3ERR_JUKEBOX,
  Invalid: nfsstat3.NFS3ERR_INVAL,
  NoSpace: nfsstat3.NFS3ERR_NOSPC,
  TooLarge: nfsstat3.NFS3ERR_FBIG,
  NameTooLong: nfsstat3.NFS3ERR_NAMETOOLONG,
  ReadOnly: nfsstat3.NFS3ERR_ROFS,
  Stale: nfsstat3.NFS3ERR_STALE,
  Timeout: nfsstat3.NFS3ERR_JUKEBOX,
  Aborted: nfsstat3.NFS3ERR_JUKEBOX,
} as const satisfies Record<ErrorKind, nfsstat3>;

/**
 * A failure that only NFS names (NFS3ERR_TOOSMALL, NFS3ERR_NOT_SYNC, NFS3ERR_XDEV): a ShoalError of the nearest kind
 * carrying its exact status, which nfsstatOf answers.
 */
export function nfsError(kind: ErrorKind, status: nfsstat3, message: string): ShoalError {
  return new ShoalError(kind, message, { detail: { nfsstat: status } });
}

export function nfsstatOfShoalError(err: ShoalError): nfsstat3 {
  const exact = err.detail?.['nfsstat'];
  if (typeof exact === 'number' && NFSSTAT_VALUES.has(exact as nfsstat3)) return exact as nfsstat3;
  if (err.kind === 'NotFound' && (err.subject === 'handle' || err.subject === 'inode' || err.subject === 'volume')) return nfsstat3.NFS3ERR_STALE;
  if (err.kind === 'Invalid' && err.subject === 'handle') return nfsstat3.NFS3ERR_BADHANDLE;
  // Only root changes an owner, only the owner a mode: POSIX says EPERM, not EACCES.
  if (err.kind === 'Forbidden' && err.detail?.['perm'] === true) return nfsstat3.NFS3ERR_PERM;
  return NFSSTAT_BY_KIND[err.kind];
}

/** The status of any failure; an error that is not a ShoalError is a bug: NFS3ERR_SERVERFAULT, logged here once with its stack. */
export function nfsstatOf(err: unknown, log: Logger): nfsstat3 {
  if (isShoalError(err)) {
    const status = nfsstatOfShoalError(err);
    log.debug({ kind: err.kind, subject: err.subject, err: err.message, status }, 'nfs.error');
    return status;
  }
  const fields = err instanceof Error ? { err: err.message, stack: err.stack } : { err: String(err) };
  log.error(fields, 'nfs.serverfault');
  return nfsstat3.NFS3ERR_SERVERFAULT;
}
