// NFSPROC3_READDIRPLUS (RFC 1813 §3.3.17): a directory page with each entry's handle and attributes.
import type { post_op_attr } from '../types.js';
import { fileidOf } from '../file-handle.js';
import { readFh, writePostOpAttr, writePostOpFh, xdrStringBytes, POST_OP_ATTR_BYTES } from '../codec.js';
import { cookieverfOf } from '../dir-cookies.js';
import { entryDirBytes, listPage } from '../dir-listing.js';
import { FILE_HANDLE_BYTES } from '../file-handle.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { NFS3_COOKIEVERFSIZE } from '../types.js';

const RESOK_BYTES = 4 + POST_OP_ATTR_BYTES + NFS3_COOKIEVERFSIZE + 4 + 4;
/** name_attributes and name_handle of one entryplus3. */
const PLUS_BYTES = POST_OP_ATTR_BYTES + 4 + xdrStringBytes(FILE_HANDLE_BYTES);
/** Attribute reads in flight for one page. */
const GETATTR_PARALLEL = 32;

export const readdirplus: NfsHandler = async (args, call, nfs) => {
  const dir = readFh(args);
  const cookie = args.readUhyper();
  args.readFixedOpaque(NFS3_COOKIEVERFSIZE);
  const dircount = args.readUint();
  const maxcount = args.readUint();
  try {
    const target = await nfs.resolve(dir);
    const page = await listPage(nfs, target, nfs.callerOf(call), cookie, {
      entryBytes: (name) => entryDirBytes(name) + PLUS_BYTES, bytesMax: maxcount - RESOK_BYTES, dirBytesMax: Math.max(dircount, entryDirBytes('x')),
    });
    // An entry removed since the listing gets no attributes (post_op_attr FALSE); the client looks it up if it cares.
    const attributes: post_op_attr[] = [];
    for (let i = 0; i < page.entries.length; i += GETATTR_PARALLEL) {
      const batch = page.entries.slice(i, i + GETATTR_PARALLEL);
      attributes.push(...(await Promise.all(batch.map((e) => nfs.postOp(target, e.address)))));
    }
    const dirAttributes = await nfs.postOp(target);
    const verf = cookieverfOf(target.address);
    return ok((w) => {
      writePostOpAttr(w, dirAttributes);
      w.writeFixedOpaque(verf);
      page.entries.forEach((e, i) => {
        w.writeBool(true);
        w.writeUhyper(fileidOf(e.address)).writeString(e.name).writeUhyper(e.cookie);
        writePostOpAttr(w, attributes[i]);
        writePostOpFh(w, nfs.handleOf(target, e.address));
      });
      w.writeBool(false);
      w.writeBool(page.eof);
    });
  } catch (err) {
    const status = nfs.status(err, call);
    const after = await nfs.postOpOf(dir);
    return failed(status, (w) => writePostOpAttr(w, after));
  }
};
