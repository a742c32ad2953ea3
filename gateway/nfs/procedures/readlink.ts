// NFSPROC3_READLINK (RFC 1813 §3.3.5): a symbolic link's target.
import { readFh, writePostOpAttr, NFSPATH3_BYTES_MAX } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const readlink: NfsHandler = async (args, call, nfs) => {
  const symlink = readFh(args);
  try {
    const target = await nfs.resolve(symlink);
    const path = await target.fs.readlink(target.address);
    const attributes = await nfs.postOp(target);
    return ok((w) => {
      writePostOpAttr(w, attributes);
      w.writeString(path, NFSPATH3_BYTES_MAX);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(symlink);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
