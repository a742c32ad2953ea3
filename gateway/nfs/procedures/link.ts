// NFSPROC3_LINK (RFC 1813 §3.3.15): a hard link to a file in a directory of the same volume.
import { nfsError } from '../errors.js';
import { readDiropargs, readFh, writePostOpAttr, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { nfsstat3 } from '../types.js';

export const link: NfsHandler = async (args, call, nfs) => {
  const file = readFh(args);
  const where = readDiropargs(args);
  try {
    const [target, dir] = await Promise.all([nfs.resolve(file), nfs.resolve(where.dir)]);
    if (!target.volumeId.equals(dir.volumeId)) throw nfsError('Invalid', nfsstat3.NFS3ERR_XDEV, 'a link across volumes');
    const linked = await dir.fs.link(nfs.callerOf(call), target.address, dir.address, where.name);
    const fattr = nfs.fattr(target, linked);
    const dirWcc = await nfs.wcc(dir);
    return ok((w) => {
      writePostOpAttr(w, fattr);
      writeWcc(w, dirWcc);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const [fileAttributes, dirWcc] = await Promise.all([nfs.postOpOf(file), nfs.wccOf(where.dir)]);
    return failed(status, (w) => {
      writePostOpAttr(w, fileAttributes);
      writeWcc(w, dirWcc);
    });
  }
};
