// NFSPROC3_RMDIR (RFC 1813 §3.3.13): removes an empty directory.
import { readDiropargs, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const rmdir: NfsHandler = async (args, call, nfs) => {
  const what = readDiropargs(args);
  try {
    const dir = await nfs.resolve(what.dir);
    await dir.fs.rmdir(nfs.callerOf(call), dir.address, what.name);
    const dirWcc = await nfs.wcc(dir);
    return ok((w) => writeWcc(w, dirWcc));
  } catch (err) {
    const status = nfs.status(err, call);
    const dirWcc = await nfs.wccOf(what.dir);
    return failed(status, (w) => writeWcc(w, dirWcc));
  }
};
