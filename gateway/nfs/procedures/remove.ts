// NFSPROC3_REMOVE (RFC 1813 §3.3.12): removes a non-directory entry.
import { readDiropargs, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const remove: NfsHandler = async (args, call, nfs) => {
  const what = readDiropargs(args);
  try {
    const dir = await nfs.resolve(what.dir);
    await dir.fs.remove(nfs.callerOf(call), dir.address, what.name);
    const dirWcc = await nfs.wcc(dir);
    return ok((w) => writeWcc(w, dirWcc));
  } catch (err) {
    const status = nfs.status(err, call);
    const dirWcc = await nfs.wccOf(what.dir);
    return failed(status, (w) => writeWcc(w, dirWcc));
  }
};
