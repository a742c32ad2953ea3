// NFSPROC3_FSINFO (RFC 1813 §3.3.19): static facts about the export; transfers of 1 MiB, times to the millisecond.
import { NFS_TRANSFER_BYTES_MAX } from '../../rpc/rpc-limits.js';
import { readFh, writeNfstime, writePostOpAttr } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { FSF3 } from '../types.js';

/** A file's size is a safe integer in the filesystem. */
const MAX_FILE_SIZE = BigInt(Number.MAX_SAFE_INTEGER);

export const fsinfo: NfsHandler = async (args, call, nfs) => {
  const root = readFh(args);
  try {
    const attributes = await nfs.getattr(await nfs.resolve(root));
    return ok((w) => {
      writePostOpAttr(w, attributes);
      w.writeUint(NFS_TRANSFER_BYTES_MAX).writeUint(NFS_TRANSFER_BYTES_MAX).writeUint(4096); // rtmax rtpref rtmult
      w.writeUint(NFS_TRANSFER_BYTES_MAX).writeUint(NFS_TRANSFER_BYTES_MAX).writeUint(4096); // wtmax wtpref wtmult
      w.writeUint(64 * 1024); // dtpref
      w.writeUhyper(MAX_FILE_SIZE);
      writeNfstime(w, { seconds: 0, nseconds: 1_000_000 }); // time_delta: inode times are whole milliseconds
      w.writeUint(FSF3.LINK | FSF3.SYMLINK | FSF3.HOMOGENEOUS | FSF3.CANSETTIME);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(root);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
