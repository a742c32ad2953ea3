// NFSPROC3_CREATE (RFC 1813 §3.3.8): UNCHECKED, GUARDED, and EXCLUSIVE with its verifier kept in an xattr, so that a
// retransmitted exclusive create finds its own file and succeeds.
import { isShoalError } from '../../../storage-node/base/errors.js';
import type { Attributes } from '../../fs/filesystem.js';
import { isEmptyChange, setAttributesOf } from '../attrs.js';
import { readDiropargs, readSattr, writeDiropres, writeWcc } from '../codec.js';
import { failed, ok, type NfsHandler } from '../nfs-context.js';
import { createmode3, CREATEMODE3_VALUES, NFS3_CREATEVERFSIZE, type sattr3 } from '../types.js';

/** The inode xattr holding an EXCLUSIVE create's verifier. */
export const CREATEVERF_XATTR = 'nfs.createverf';
const DEFAULT_MODE = 0o644;

type How = { readonly mode: typeof createmode3.UNCHECKED | typeof createmode3.GUARDED; readonly attributes: sattr3 }
  | { readonly mode: typeof createmode3.EXCLUSIVE; readonly verf: Buffer };

export const create: NfsHandler = async (args, call, nfs) => {
  const where = readDiropargs(args);
  const mode = args.readEnum(CREATEMODE3_VALUES, 'createmode3');
  const how: How = mode === createmode3.EXCLUSIVE
    ? { mode, verf: Buffer.from(args.readFixedOpaque(NFS3_CREATEVERFSIZE)) }
    : { mode, attributes: readSattr(args) };
  try {
    const dir = await nfs.resolve(where.dir);
    const caller = nfs.callerOf(call);
    let created: Attributes;
    if (how.mode === createmode3.EXCLUSIVE) {
      try {
        created = await dir.fs.create(caller, dir.address, where.name, { mode: DEFAULT_MODE, exclusive: true });
        created = await dir.fs.setattr(caller, created.address, { xattrs: new Map([[CREATEVERF_XATTR, how.verf]]) });
      } catch (err) {
        if (!isShoalError(err, 'Exists')) throw err;
        const existing = await dir.fs.lookup(caller, dir.address, where.name);
        if (!existing.xattrs.get(CREATEVERF_XATTR)?.equals(how.verf)) throw err;
        created = existing; // RFC 1813 §3.3.8: the same verifier means our own earlier create
      }
    } else {
      const changes = setAttributesOf(how.attributes);
      const { mode: fileMode, ...rest } = changes;
      created = await dir.fs.create(caller, dir.address, where.name, { mode: fileMode ?? DEFAULT_MODE, exclusive: how.mode === createmode3.GUARDED });
      if (!isEmptyChange(rest)) created = await dir.fs.setattr(caller, created.address, rest);
    }
    const fh = nfs.handleOf(dir, created.address);
    const attributes = nfs.fattr(dir, created);
    const dirWcc = await nfs.wcc(dir);
    return ok((w) => writeDiropres(w, fh, attributes, dirWcc));
  } catch (err) {
    const status = nfs.status(err, call);
    const dirWcc = await nfs.wccOf(where.dir);
    return failed(status, (w) => writeWcc(w, dirWcc));
  }
};
