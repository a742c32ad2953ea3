// NFSPROC3_SETATTR (RFC 1813 §3.3.2): mode, owner, size and times, with the optional guard on the object's ctime.
import { nfsError } from '../errors.js';
import { nfstimeOf, setAttributesOf } from '../attrs.js';
import { readFh, readNfstime, readSattr, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { nfsstat3 } from '../types.js';

export const setattr: NfsHandler = async (args, call, nfs) => {
  const object = readFh(args);
  const attributes = readSattr(args);
  const guard = args.readOptional(readNfstime); // sattrguard3: obj_ctime when check is TRUE
  try {
    const changes = setAttributesOf(attributes);
    const target = await nfs.resolve(object);
    if (guard !== undefined) {
      // RFC 1813 §3.3.2: "If guard.check is TRUE and ... obj_ctime ... does not match ... NFS3ERR_NOT_SYNC".
      const ctime = nfstimeOf((await target.fs.getattr(target.address)).ctimeMs);
      if (ctime.seconds !== guard.seconds || ctime.nseconds !== guard.nseconds) throw nfsError('Conflict', nfsstat3.NFS3ERR_NOT_SYNC, 'the ctime guard does not match');
    }
    const after = nfs.fattr(target, await target.fs.setattr(nfs.callerOf(call), target.address, changes));
    return ok((w) => writeWcc(w, { before: undefined, after }));
  } catch (err) {
    const status = nfs.status(err, call);
    const wcc = await nfs.wccOf(object);
    return failed(status, (w) => writeWcc(w, wcc));
  }
};
