// NFSPROC3_ACCESS (RFC 1813 §3.3.4): which of the asked access bits the caller has, from the mode bits as the fs checks them;
// on a read-only export never MODIFY, EXTEND or DELETE (the changes it would refuse with NFS3ERR_ROFS).
import { mayAccess, ACCESS_EXECUTE, ACCESS_READ, ACCESS_WRITE, type Caller } from '../../fs/permissions.js';
import type { Attributes } from '../../fs/filesystem.js';
import { readFh, writePostOpAttr } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { ACCESS3 } from '../types.js';

/** The bits that ask for a change: a read-only export grants none of them. */
export const ACCESS3_CHANGES = ACCESS3.MODIFY | ACCESS3.EXTEND | ACCESS3.DELETE;

/** The granted subset of `asked`. DELETE is about entries of a directory (RFC 1813 §3.3.4), so a file never grants it. */
export function grantedAccess(attributes: Pick<Attributes, 'type' | 'mode' | 'uid' | 'gid'>, caller: Caller, asked: number): number {
  const may = (want: number): boolean => mayAccess(attributes, caller, want);
  let granted = 0;
  if (may(ACCESS_READ)) granted |= ACCESS3.READ;
  if (may(ACCESS_WRITE)) granted |= ACCESS3.MODIFY | ACCESS3.EXTEND;
  if (attributes.type === 'dir') {
    if (may(ACCESS_EXECUTE)) granted |= ACCESS3.LOOKUP;
    if (may(ACCESS_WRITE | ACCESS_EXECUTE)) granted |= ACCESS3.DELETE;
  } else if (may(ACCESS_EXECUTE) && (caller.uid !== 0 || (attributes.mode & 0o111) !== 0)) {
    // Root may execute only what some execute bit allows, as POSIX says.
    granted |= ACCESS3.EXECUTE;
  }
  return granted & asked;
}

export const access: NfsHandler = async (args, call, nfs) => {
  const object = readFh(args);
  const asked = args.readUint();
  try {
    const target = await nfs.resolve(object);
    const attributes = await target.fs.getattr(target.address);
    const readOnly = (await nfs.exports?.optionsOf(target.volume.id))?.readOnly === true;
    const granted = grantedAccess(attributes, nfs.callerOf(call), asked) & (readOnly ? ~ACCESS3_CHANGES : ~0);
    const fattr = nfs.fattr(target, attributes);
    return ok((w) => {
      writePostOpAttr(w, fattr);
      w.writeUint(granted);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(object);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
