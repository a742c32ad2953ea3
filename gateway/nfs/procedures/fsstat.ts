// NFSPROC3_FSSTAT (RFC 1813 §3.3.18): space of the cluster as the volume sees it; files are not counted, so their figures are large.
import { readFh, writePostOpAttr } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

/** Inodes are blocks, not a fixed table: report a large, constant count as other object-backed servers do. */
const FILES_REPORTED = 1n << 40n;

export const fsstat: NfsHandler = async (args, call, nfs) => {
  const root = readFh(args);
  try {
    const target = await nfs.resolve(root);
    const attributes = await nfs.getattr(target);
    const space = target.fs.statfs();
    return ok((w) => {
      writePostOpAttr(w, attributes);
      w.writeUhyper(BigInt(space.totalBytes)).writeUhyper(BigInt(space.freeBytes)).writeUhyper(BigInt(space.freeBytes));
      w.writeUhyper(FILES_REPORTED).writeUhyper(FILES_REPORTED).writeUhyper(FILES_REPORTED);
      w.writeUint(0); // invarsec: the figures change at any time
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(root);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
