// NFSPROC3_MKDIR (RFC 1813 §3.3.9): a new directory, its mode from sattr3 (0755 when unset).
import { readDiropargs, readSattr, writeDiropres, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const mkdir: NfsHandler = async (args, call, nfs) => {
  const where = readDiropargs(args);
  const attributes = readSattr(args);
  try {
    const dir = await nfs.resolve(where.dir);
    const made = await dir.fs.mkdir(nfs.callerOf(call), dir.address, where.name, (attributes.mode ?? 0o755) & 0o7777);
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
