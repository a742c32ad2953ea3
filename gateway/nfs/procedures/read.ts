// NFSPROC3_READ (RFC 1813 §3.3.6): up to 1 MiB of a file, with this gateway's gathered writes showing.
import { NFS_TRANSFER_BYTES_MAX } from '../../rpc/rpc-limits.js';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { readFh, writePostOpAttr } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { withOwnerOverride } from '../owner-override.js';

export const read: NfsHandler = async (args, call, nfs) => {
  const file = readFh(args);
  const offset = args.readUhyper();
  const count = Math.min(args.readUint(), NFS_TRANSFER_BYTES_MAX);
  try {
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new ShoalError('Invalid', `offset ${offset}`, { subject: 'inode' });
    const target = await nfs.resolve(file);
    const result = await withOwnerOverride(target, nfs.callerOf(call), (as) => target.fs.read(as, target.address, Number(offset), count));
    const attributes = await nfs.postOp(target);
    return ok((w) => {
      writePostOpAttr(w, attributes);
      w.writeUint(result.data.length).writeBool(result.eof).writeOpaque(result.data);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(file);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
