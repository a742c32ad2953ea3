// The owner of a file may read and write it whatever its mode bits, as knfsd allows: the client checked the mode when
// the file was opened, and `cp -a` or a compiler writes files it created read-only (RFC 1813 §4.4 leaves this to servers).
import { isShoalError } from '../../storage-node/base/errors.js';
import { ROOT_CALLER, type Caller } from '../fs/permissions.js';
import type { NfsObject } from './nfs-context.js';

/** Runs `op` as the caller; refused and the caller owns the file, runs it again with the owner's override. */
export async function withOwnerOverride<T>(object: NfsObject, caller: Caller, op: (as: Caller) => Promise<T>): Promise<T> {
  try {
    return await op(caller);
  } catch (err) {
    if (!isShoalError(err, 'Forbidden') || caller.uid === 0) throw err;
    const attributes = await object.fs.getattr(object.address);
    if (attributes.type !== 'file' || attributes.uid !== caller.uid) throw err;
    return op(ROOT_CALLER);
  }
}
