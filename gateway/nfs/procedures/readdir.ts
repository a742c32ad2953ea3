// NFSPROC3_READDIR (RFC 1813 §3.3.16): names and fileids of a directory page; cookies stay valid while it changes.
import { fileidOf } from '../file-handle.js';
import { readFh, writePostOpAttr, POST_OP_ATTR_BYTES } from '../codec.js';
import { cookieverfOf } from '../dir-cookies.js';
import { entryDirBytes, listPage } from '../dir-listing.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { NFS3_COOKIEVERFSIZE } from '../types.js';

/** READDIR3resok without entries: status, dir_attributes, cookieverf, the list's final FALSE, eof. */
const RESOK_BYTES = 4 + POST_OP_ATTR_BYTES + NFS3_COOKIEVERFSIZE + 4 + 4;

export const readdir: NfsHandler = async (args, call, nfs) => {
  const dir = readFh(args);
  const cookie = args.readUhyper();
  args.readFixedOpaque(NFS3_COOKIEVERFSIZE); // never checked: every cookie we gave stays valid
  const count = args.readUint();
  try {
    const target = await nfs.resolve(dir);
    const page = await listPage(nfs, target, nfs.callerOf(call), cookie, { entryBytes: entryDirBytes, bytesMax: count - RESOK_BYTES });
    const dirAttributes = await nfs.postOp(target);
    const verf = cookieverfOf(target.address);
    return ok((w) => {
      writePostOpAttr(w, dirAttributes);
      w.writeFixedOpaque(verf);
      w.writeList(page.entries, (x, e) => {
        x.writeUhyper(fileidOf(e.address)).writeString(e.name).writeUhyper(e.cookie);
      });
      w.writeBool(page.eof);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(dir);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
