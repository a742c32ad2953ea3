// NFSPROC3_WRITE (RFC 1813 §3.3.7): UNSTABLE writes gather in the gateway until COMMIT; DATA_SYNC and FILE_SYNC commit
// before answering. Every reply carries this gateway start's verifier, so a client resends what a restart lost.
import { NFS_TRANSFER_BYTES_MAX } from '../../rpc/rpc-limits.js';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { readFh, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { withOwnerOverride } from '../owner-override.js';
import { stable_how, STABLE_HOW_VALUES, NO_WCC } from '../types.js';

export const write: NfsHandler = async (args, call, nfs) => {
  const file = readFh(args);
  const offset = args.readUhyper();
  const count = args.readUint();
  const stable = args.readEnum(STABLE_HOW_VALUES, 'stable_how');
  const data = args.readOpaque(NFS_TRANSFER_BYTES_MAX);
  try {
    // RFC 1813 §3.3.7: count is the number of bytes of data; a disagreeing count is a broken call.
    if (count !== data.length) throw new ShoalError('Invalid', `count ${count} with ${data.length} bytes of data`, { subject: 'inode' });
    if (offset > BigInt(Number.MAX_SAFE_INTEGER - data.length)) throw new ShoalError('TooLarge', `offset ${offset}`, { subject: 'inode' });
    const target = await nfs.resolve(file);
    // The reader's buffer is a view of the RPC record: the gatherer keeps the bytes after we answer, so copy them.
    const bytes = Buffer.from(data);
    let attributes = await withOwnerOverride(target, nfs.callerOf(call), (as) => target.fs.write(as, target.address, Number(offset), bytes));
    const committed = stable === stable_how.UNSTABLE ? stable_how.UNSTABLE : stable_how.FILE_SYNC;
    if (committed === stable_how.FILE_SYNC) attributes = await target.fs.commit(target.address);
    const after = nfs.fattr(target, attributes);
    return ok((w) => {
      writeWcc(w, { before: undefined, after });
      w.writeUint(data.length).writeEnum(committed).writeFixedOpaque(nfs.writeVerifier);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const wcc = await nfs.wccOf(file).catch(() => NO_WCC);
    return failed(status, (w) => writeWcc(w, wcc));
  }
};
