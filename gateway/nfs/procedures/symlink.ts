// NFSPROC3_SYMLINK (RFC 1813 §3.3.10): a symbolic link; symlink_attributes are ignored (a link's mode means nothing on Linux).
import { NFSPATH3_BYTES_MAX, readDiropargs, readSattr, writeDiropres, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const symlink: NfsHandler = async (args, call, nfs) => {
  const where = readDiropargs(args);
  readSattr(args);
  const target = args.readString(NFSPATH3_BYTES_MAX);
  try {
    const dir = await nfs.resolve(where.dir);
    const made = await dir.fs.symlink(nfs.callerOf(call), dir.address, where.name, target);
    const fh = nfs.handleOf(dir, made.address);
    const fattr = nfs.fattr(dir, made);
    const dirWcc = await nfs.wcc(dir);
    return ok((w) => writeDiropres(w, fh, fattr, dirWcc));
  } catch (err) {
    const status = nfs.status(err, call);
    const dirWcc = await nfs.wccOf(where.dir);
    return failed(status, (w) => writeWcc(w, dirWcc));
  }
};
