// NFSPROC3_COMMIT (RFC 1813 §3.3.21): stores what is gathered for the file and publishes it as one inode version; the
// reply's verifier tells the client whether the writes it sent since the last COMMIT survived.
import { readFh, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';

export const commit: NfsHandler = async (args, call, nfs) => {
  const file = readFh(args);
  args.readUhyper(); // offset and count: the whole file is committed, which RFC 1813 §3.3.21 allows
  args.readUint();
  try {
    const target = await nfs.resolve(file);
    const after = nfs.fattr(target, await target.fs.commit(target.address));
    return ok((w) => {
      writeWcc(w, { before: undefined, after });
      w.writeFixedOpaque(nfs.writeVerifier);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const wcc = await nfs.wccOf(file);
    return failed(status, (w) => writeWcc(w, wcc));
  }
};
