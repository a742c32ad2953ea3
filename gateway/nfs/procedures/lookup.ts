// NFSPROC3_LOOKUP (RFC 1813 §3.3.3): a name in a directory → its handle and attributes; "." and ".." are answered here.
import { readDiropargs, writeFh, writePostOpAttr } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const lookup: NfsHandler = async (args, call, nfs) => {
  const what = readDiropargs(args);
  try {
    const dir = await nfs.resolve(what.dir);
    let address;
    if (what.name === '.') address = (await dir.fs.getattr(dir.address)).address;
    else if (what.name === '..') address = await dir.fs.parentOf(dir.address);
    else address = (await dir.fs.lookup(nfs.callerOf(call), dir.address, what.name)).address;
    const [objectAttributes, dirAttributes] = await Promise.all([nfs.getattr(dir, address), nfs.postOp(dir)]);
    const fh = nfs.handleOf(dir, address);
    return ok((w) => {
      writeFh(w, fh);
      writePostOpAttr(w, objectAttributes);
      writePostOpAttr(w, dirAttributes);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    // LOOKUP3resfail: dir_attributes.
    const dirAttributes = await nfs.postOpOf(what.dir);
    return failed(status, (w) => writePostOpAttr(w, dirAttributes));
  }
};
