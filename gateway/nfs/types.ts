// NFS version 3 (RFC 1813 §2) in the RFC's own names: program numbers, enums, sizes and the shared structures.

/** RFC 1813 §1.7: program 100003, version 3. */
export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

/** RFC 1813 §2.4: sizes in bytes. */
export const NFS3_FHSIZE = 64;
export const NFS3_COOKIEVERFSIZE = 8;
export const NFS3_CREATEVERFSIZE = 8;
export const NFS3_WRITEVERFSIZE = 8;

/** RFC 1813 §3: procedure numbers. */
export const NFSPROC3 = {
  NULL: 0, GETATTR: 1, SETATTR: 2, LOOKUP: 3, ACCESS: 4, READLINK: 5, READ: 6, WRITE: 7, CREATE: 8, MKDIR: 9,
  SYMLINK: 10, MKNOD: 11, REMOVE: 12, RMDIR: 13, RENAME: 14, LINK: 15, READDIR: 16, READDIRPLUS: 17, FSSTAT: 18,
  FSINFO: 19, PATHCONF: 20, COMMIT: 21,
} as const;

/** RFC 1813 §2.6: nfsstat3. */
export const nfsstat3 = {
  NFS3_OK: 0,
  NFS3ERR_PERM: 1,
  NFS3ERR_NOENT: 2,
  NFS3ERR_IO: 5,
  NFS3ERR_NXIO: 6,
  NFS3ERR_ACCES: 13,
  NFS3ERR_EXIST: 17,
  NFS3ERR_XDEV: 18,
  NFS3ERR_NODEV: 19,
  NFS3ERR_NOTDIR: 20,
  NFS3ERR_ISDIR: 21,
  NFS3ERR_INVAL: 22,
  NFS3ERR_FBIG: 27,
  NFS3ERR_NOSPC: 28,
  NFS3ERR_ROFS: 30,
  NFS3ERR_MLINK: 31,
  NFS3ERR_NAMETOOLONG: 63,
  NFS3ERR_NOTEMPTY: 66,
  NFS3ERR_DQUOT: 69,
  NFS3ERR_STALE: 70,
  NFS3ERR_REMOTE: 71,
  NFS3ERR_BADHANDLE: 10001,
  NFS3ERR_NOT_SYNC: 10002,
  NFS3ERR_BAD_COOKIE: 10003,
  NFS3ERR_NOTSUPP: 10004,
  NFS3ERR_TOOSMALL: 10005,
  NFS3ERR_SERVERFAULT: 10006,
  NFS3ERR_BADTYPE: 10007,
  NFS3ERR_JUKEBOX: 10008,
} as const;
export type nfsstat3 = (typeof nfsstat3)[keyof typeof nfsstat3];

/** RFC 1813 §2.6: ftype3. */
export const ftype3 = { NF3REG: 1, NF3DIR: 2, NF3BLK: 3, NF3CHR: 4, NF3LNK: 5, NF3SOCK: 6, NF3FIFO: 7 } as const;
export type ftype3 = (typeof ftype3)[keyof typeof ftype3];

/** RFC 1813 §2.6: time_how, used by set_atime and set_mtime in sattr3. */
export const time_how = { DONT_CHANGE: 0, SET_TO_SERVER_TIME: 1, SET_TO_CLIENT_TIME: 2 } as const;
export type time_how = (typeof time_how)[keyof typeof time_how];
export const TIME_HOW_VALUES: ReadonlySet<time_how> = new Set(Object.values(time_how));

/** RFC 1813 §3.3.7: stable_how. */
export const stable_how = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;
export type stable_how = (typeof stable_how)[keyof typeof stable_how];
export const STABLE_HOW_VALUES: ReadonlySet<stable_how> = new Set(Object.values(stable_how));

/** RFC 1813 §3.3.8: createmode3. */
export const createmode3 = { UNCHECKED: 0, GUARDED: 1, EXCLUSIVE: 2 } as const;
export type createmode3 = (typeof createmode3)[keyof typeof createmode3];
export const CREATEMODE3_VALUES: ReadonlySet<createmode3> = new Set(Object.values(createmode3));

/** RFC 1813 §3.3.4: ACCESS bits. */
export const ACCESS3 = { READ: 0x01, LOOKUP: 0x02, MODIFY: 0x04, EXTEND: 0x08, DELETE: 0x10, EXECUTE: 0x20 } as const;

/** RFC 1813 §3.3.19: FSINFO properties. */
export const FSF3 = { LINK: 0x01, SYMLINK: 0x02, HOMOGENEOUS: 0x08, CANSETTIME: 0x10 } as const;

/** RFC 1813 §2.5: `struct nfstime3 { uint32 seconds; uint32 nseconds; }`. */
export interface nfstime3 {
  readonly seconds: number;
  readonly nseconds: number;
}

/** RFC 1813 §2.5: `struct specdata3 { uint32 specdata1; uint32 specdata2; }`. */
export interface specdata3 {
  readonly specdata1: number;
  readonly specdata2: number;
}

/** RFC 1813 §2.5: fattr3, 84 bytes on the wire. */
export interface fattr3 {
  readonly type: ftype3;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  readonly used: bigint;
  readonly rdev: specdata3;
  readonly fsid: bigint;
  readonly fileid: bigint;
  readonly atime: nfstime3;
  readonly mtime: nfstime3;
  readonly ctime: nfstime3;
}

/** RFC 1813 §2.6: `union post_op_attr switch (bool attributes_follow)`; undefined is FALSE. */
export type post_op_attr = fattr3 | undefined;

/** RFC 1813 §2.6: wcc_attr, the attributes a client compares before an operation. */
export interface wcc_attr {
  readonly size: bigint;
  readonly mtime: nfstime3;
  readonly ctime: nfstime3;
}

/** RFC 1813 §2.6: `union pre_op_attr switch (bool attributes_follow)`. */
export type pre_op_attr = wcc_attr | undefined;

/** RFC 1813 §2.6: weak cache consistency data. */
export interface wcc_data {
  readonly before: pre_op_attr;
  readonly after: post_op_attr;
}

export const NO_WCC: wcc_data = { before: undefined, after: undefined };

/** RFC 1813 §2.5: `struct nfs_fh3 { opaque data<NFS3_FHSIZE>; }`, kept opaque at this layer. */
export type nfs_fh3 = Buffer;

/** RFC 1813 §2.6: sattr3, each field set only when its discriminant is TRUE (or not DONT_CHANGE). */
export interface sattr3 {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: bigint;
  readonly atime?: nfstime3 | 'server';
  readonly mtime?: nfstime3 | 'server';
}

/** RFC 1813 §2.6: `struct diropargs3 { nfs_fh3 dir; filename3 name; }`. */
export interface diropargs3 {
  readonly dir: nfs_fh3;
  readonly name: string;
}
