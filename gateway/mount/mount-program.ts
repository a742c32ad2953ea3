// The MOUNT version 3 program (RFC 1813 Appendix I): export paths /<volume> → root file handles, and the mount list.
import { isShoalError } from '../../storage-node/base/errors.js';
import type { NfsContext } from '../nfs/nfs-context.js';
import { writeFh } from '../nfs/codec.js';
import { mountAllowed } from '../nfs/exports.js';
import { auth_flavor } from '../rpc/rpc-message.js';
import { nullProcedure, VOID_RESULTS, type RpcProgram } from '../rpc/rpc-program.js';
import type { XdrWriter } from '../rpc/xdr-writer.js';

/** RFC 1813 Appendix I: program 100005, version 3. */
export const MOUNT_PROGRAM = 100005;
export const MOUNT_V3 = 3;
export const MNTPATHLEN = 1024;
export const MNTNAMLEN = 255;

export const MOUNTPROC3 = { NULL: 0, MNT: 1, DUMP: 2, UMNT: 3, UMNTALL: 4, EXPORT: 5 } as const;

/** RFC 1813 Appendix I: mountstat3. */
export const mountstat3 = {
  MNT3_OK: 0, MNT3ERR_PERM: 1, MNT3ERR_NOENT: 2, MNT3ERR_IO: 5, MNT3ERR_ACCES: 13, MNT3ERR_NOTDIR: 20,
  MNT3ERR_INVAL: 22, MNT3ERR_NAMETOOLONG: 63, MNT3ERR_NOTSUPP: 10004, MNT3ERR_SERVERFAULT: 10006,
} as const;
export type mountstat3 = (typeof mountstat3)[keyof typeof mountstat3];

/** A bound on the mount list, which only DUMP reads (RFC 1813 Appendix I: it is advisory). */
const MOUNTS_REMEMBERED_MAX = 4096;

/** RFC 1813 Appendix I, mountbody: one client's mount as DUMP lists it. */
export interface mountbody {
  readonly ml_hostname: string;
  readonly ml_directory: string;
}

/** "/vol", "vol" and "/vol/" all name volume "vol"; deeper paths are not exported (yet). */
export function volumeOfPath(path: string): string | undefined {
  const name = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return name === '' || name.includes('/') ? undefined : name;
}

export class MountList {
  readonly #mounts = new Map<string, mountbody>();

  add(body: mountbody): void {
    const key = `${body.ml_hostname}\0${body.ml_directory}`;
    this.#mounts.delete(key);
    this.#mounts.set(key, body);
    if (this.#mounts.size > MOUNTS_REMEMBERED_MAX) this.#mounts.delete(this.#mounts.keys().next().value as string);
  }

  remove(hostname: string, directory: string): void {
    this.#mounts.delete(`${hostname}\0${directory}`);
  }

  removeHost(hostname: string): void {
    for (const [key, body] of this.#mounts) if (body.ml_hostname === hostname) this.#mounts.delete(key);
  }

  list(): mountbody[] {
    return [...this.#mounts.values()];
  }
}

export function mountProgram(nfs: NfsContext, mounts: MountList = new MountList()): RpcProgram {
  return {
    prog: MOUNT_PROGRAM,
    name: 'mount',
    versions: {
      [MOUNT_V3]: {
        [MOUNTPROC3.NULL]: nullProcedure('MOUNTPROC3_NULL'),
        [MOUNTPROC3.MNT]: { name: 'MOUNTPROC3_MNT', handler: async (args, call) => {
          const path = args.readString(MNTPATHLEN);
          const name = volumeOfPath(path);
          if (name === undefined) return mntFailed(mountstat3.MNT3ERR_NOENT);
          try {
            const { settings } = await nfs.openVolume(await nfs.volumes.inspect(name));
            if (!(await mountAllowed(nfs, settings, call.remoteAddress))) {
              call.log.info({ path, volume: name }, 'mount.refused');
              return mntFailed(mountstat3.MNT3ERR_ACCES);
            }
            const fh = nfs.rootHandle(settings);
            mounts.add({ ml_hostname: call.remoteAddress, ml_directory: path });
            call.log.info({ path, volume: name }, 'mount.mnt');
            // mountres3_ok: fhandle3 fhandle; int auth_flavors<>. We take AUTH_SYS (and AUTH_NONE as the anonymous user).
            return (w) => {
              w.writeEnum(mountstat3.MNT3_OK);
              writeFh(w, fh);
              w.writeArray([auth_flavor.AUTH_SYS], (x, f) => x.writeInt(f));
            };
          } catch (err) {
            if (isShoalError(err, 'NotFound')) return mntFailed(mountstat3.MNT3ERR_NOENT);
            if (isShoalError(err, 'Unavailable')) return mntFailed(mountstat3.MNT3ERR_IO);
            call.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'mount.serverfault');
            return mntFailed(mountstat3.MNT3ERR_SERVERFAULT);
          }
        } },
        [MOUNTPROC3.DUMP]: { name: 'MOUNTPROC3_DUMP', handler: async () => {
          const list = mounts.list();
          return (w) => w.writeList(list, (x, m) => x.writeString(m.ml_hostname, MNTNAMLEN).writeString(m.ml_directory, MNTPATHLEN));
        } },
        [MOUNTPROC3.UMNT]: { name: 'MOUNTPROC3_UMNT', handler: async (args, call) => {
          mounts.remove(call.remoteAddress, args.readString(MNTPATHLEN));
          return VOID_RESULTS;
        } },
        [MOUNTPROC3.UMNTALL]: { name: 'MOUNTPROC3_UMNTALL', handler: async (_args, call) => {
          mounts.removeHost(call.remoteAddress);
          return VOID_RESULTS;
        } },
        [MOUNTPROC3.EXPORT]: { name: 'MOUNTPROC3_EXPORT', handler: async () => {
          const names = (await nfs.volumes.list()).map((v) => `/${v.name}`);
          // exportnode: ex_dir, ex_groups (an empty list: every client may mount), ex_next.
          return (w) => w.writeList(names, (x, dir) => {
            x.writeString(dir, MNTPATHLEN);
            x.writeList([] as string[], (y, g) => y.writeString(g, MNTNAMLEN));
          });
        } },
      },
    },
  };
}

function mntFailed(status: mountstat3): (w: XdrWriter) => void {
  return (w) => w.writeEnum(status);
}
