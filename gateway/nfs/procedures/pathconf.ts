// NFSPROC3_PATHCONF (RFC 1813 §3.3.20): POSIX pathconf values of the export.
import { readFh, writePostOpAttr } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

const LINK_MAX = 0xffffffff;
const NAME_MAX = 255;

export const pathconf: NfsHandler = async (args, call, nfs) => {
  const object = readFh(args);
  try {
    const attributes = await nfs.getattr(await nfs.resolve(object));
    return ok((w) => {
      writePostOpAttr(w, attributes);
      w.writeUint(LINK_MAX).writeUint(NAME_MAX);
      // no_trunc, chown_restricted, case_insensitive, case_preserving
      w.writeBool(true).writeBool(true).writeBool(false).writeBool(true);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(object);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
