// NFSPROC3_GETATTR (RFC 1813 §3.3.1): the attributes of one object; its failure body is void.
import { readFh, writeFattr } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const getattr: NfsHandler = async (args, call, nfs) => {
  const object = readFh(args);
  try {
    const attributes = await nfs.getattr(await nfs.resolve(object));
    return ok((w) => writeFattr(w, attributes));
  } catch (err) {
    return failed(nfs.status(err, call), () => {});
  }
};
