// NFSPROC3_MKNOD (RFC 1813 §3.3.11): devices, sockets and FIFOs are not stored: NFS3ERR_NOTSUPP with the directory's wcc_data.
import { readDiropargs, writeWcc } from '../codec.js';
import { failed, type NfsHandler } from '../nfs-context.js';
import { nfsstat3 } from '../types.js';

export const mknod: NfsHandler = async (args, _call, nfs) => {
  // Only `where` is read: the rest (mknoddata3) does not change the answer.
  const where = readDiropargs(args);
  const dirWcc = await nfs.wccOf(where.dir);
  return failed(nfsstat3.NFS3ERR_NOTSUPP, (w) => writeWcc(w, dirWcc));
};
