// The NFS version 3 program (RFC 1813 §3): the one-line table of its 22 procedures, bound to a gateway's NfsContext.
import { nullProcedure, type RpcProcedure, type RpcProgram } from '../rpc/rpc-program.js';
import { withExports } from './exports.js';
import type { NfsContext, NfsHandler } from './nfs-context.js';
import { access } from './procedures/access.js';
import { commit } from './procedures/commit.js';
import { create } from './procedures/create.js';
import { fsinfo } from './procedures/fsinfo.js';
import { fsstat } from './procedures/fsstat.js';
import { getattr } from './procedures/getattr.js';
import { link } from './procedures/link.js';
import { lookup } from './procedures/lookup.js';
import { mkdir } from './procedures/mkdir.js';
import { mknod } from './procedures/mknod.js';
import { pathconf } from './procedures/pathconf.js';
import { read } from './procedures/read.js';
import { readdir } from './procedures/readdir.js';
import { readdirplus } from './procedures/readdirplus.js';
import { readlink } from './procedures/readlink.js';
import { remove } from './procedures/remove.js';
import { rename } from './procedures/rename.js';
import { rmdir } from './procedures/rmdir.js';
import { setattr } from './procedures/setattr.js';
import { symlink } from './procedures/symlink.js';
import { write } from './procedures/write.js';
import { NFS_PROGRAM, NFS_V3, NFSPROC3 } from './types.js';

export function nfsProgram(nfs: NfsContext): RpcProgram {
  const exports = nfs.exports;
  const bind = (proc: number, name: string, handler: NfsHandler): RpcProcedure => {
    const applied = exports === undefined ? handler : withExports(proc, handler, exports);
    return { name, handler: (args, call) => applied(args, call, nfs) };
  };
  return {
    prog: NFS_PROGRAM,
    name: 'nfs',
    versions: {
      [NFS_V3]: {
        [NFSPROC3.NULL]: nullProcedure('NFSPROC3_NULL'),
        [NFSPROC3.GETATTR]: bind(NFSPROC3.GETATTR, 'NFSPROC3_GETATTR', getattr),
        [NFSPROC3.SETATTR]: bind(NFSPROC3.SETATTR, 'NFSPROC3_SETATTR', setattr),
        [NFSPROC3.LOOKUP]: bind(NFSPROC3.LOOKUP, 'NFSPROC3_LOOKUP', lookup),
        [NFSPROC3.ACCESS]: bind(NFSPROC3.ACCESS, 'NFSPROC3_ACCESS', access),
        [NFSPROC3.READLINK]: bind(NFSPROC3.READLINK, 'NFSPROC3_READLINK', readlink),
        [NFSPROC3.READ]: bind(NFSPROC3.READ, 'NFSPROC3_READ', read),
        [NFSPROC3.WRITE]: bind(NFSPROC3.WRITE, 'NFSPROC3_WRITE', write),
        [NFSPROC3.CREATE]: bind(NFSPROC3.CREATE, 'NFSPROC3_CREATE', create),
        [NFSPROC3.MKDIR]: bind(NFSPROC3.MKDIR, 'NFSPROC3_MKDIR', mkdir),
        [NFSPROC3.SYMLINK]: bind(NFSPROC3.SYMLINK, 'NFSPROC3_SYMLINK', symlink),
        [NFSPROC3.MKNOD]: bind(NFSPROC3.MKNOD, 'NFSPROC3_MKNOD', mknod),
        [NFSPROC3.REMOVE]: bind(NFSPROC3.REMOVE, 'NFSPROC3_REMOVE', remove),
        [NFSPROC3.RMDIR]: bind(NFSPROC3.RMDIR, 'NFSPROC3_RMDIR', rmdir),
        [NFSPROC3.RENAME]: bind(NFSPROC3.RENAME, 'NFSPROC3_RENAME', rename),
        [NFSPROC3.LINK]: bind(NFSPROC3.LINK, 'NFSPROC3_LINK', link),
        [NFSPROC3.READDIR]: bind(NFSPROC3.READDIR, 'NFSPROC3_READDIR', readdir),
        [NFSPROC3.READDIRPLUS]: bind(NFSPROC3.READDIRPLUS, 'NFSPROC3_READDIRPLUS', readdirplus),
        [NFSPROC3.FSSTAT]: bind(NFSPROC3.FSSTAT, 'NFSPROC3_FSSTAT', fsstat),
        [NFSPROC3.FSINFO]: bind(NFSPROC3.FSINFO, 'NFSPROC3_FSINFO', fsinfo),
        [NFSPROC3.PATHCONF]: bind(NFSPROC3.PATHCONF, 'NFSPROC3_PATHCONF', pathconf),
        [NFSPROC3.COMMIT]: bind(NFSPROC3.COMMIT, 'NFSPROC3_COMMIT', commit),
      },
    },
  };
}
