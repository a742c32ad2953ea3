// XDR encoding and decoding of the NFSv3 structures every procedure shares (RFC 1813 §2.5–2.6): handles, names, sattr3, fattr3, post_op_attr, wcc_data.
import type { XdrReader } from '../rpc/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr-writer.js';
import {
  NFS3_FHSIZE,
  TIME_HOW_VALUES,
  time_how,
  type diropargs3,
  type fattr3,
  type nfs_fh3,
  type nfsstat3,
  type nfstime3,
  type post_op_attr,
  type pre_op_attr,
  type sattr3,
  type wcc_data,
} from './types.js';

/** filename3 and nfspath3 are unbounded strings in RFC 1813; we refuse more than this before decoding (NAME_MAX and PATH_MAX are checked later). */
export const FILENAME3_BYTES_MAX = 1024;
export const NFSPATH3_BYTES_MAX = 8192;

/** RFC 1813 §2.5 nfs_fh3: `opaque data<NFS3_FHSIZE>`. */
export function readFh(r: XdrReader): nfs_fh3 {
  return r.readOpaque(NFS3_FHSIZE);
}

export function writeFh(w: XdrWriter, fh: nfs_fh3): void {
  w.writeOpaque(fh, NFS3_FHSIZE);
}

/** RFC 1813 §2.6 post_op_fh3: `union switch (bool handle_follows)`. */
export function writePostOpFh(w: XdrWriter, fh: nfs_fh3 | undefined): void {
  w.writeOptional(fh, writeFh);
}

export function readFilename(r: XdrReader): string {
  return r.readString(FILENAME3_BYTES_MAX);
}

/** RFC 1813 §2.6 diropargs3. */
export function readDiropargs(r: XdrReader): diropargs3 {
  return { dir: readFh(r), name: readFilename(r) };
}

/** RFC 1813 §2.5 nfstime3. */
export function readNfstime(r: XdrReader): nfstime3 {
  return { seconds: r.readUint(), nseconds: r.readUint() };
}

export function writeNfstime(w: XdrWriter, t: nfstime3): void {
  w.writeUint(t.seconds).writeUint(t.nseconds);
}

/** RFC 1813 §2.6 sattr3: set_mode3, set_uid3, set_gid3, set_size3, set_atime, set_mtime, each a discriminated union. */
export function readSattr(r: XdrReader): sattr3 {
  const mode = r.readOptional((x) => x.readUint());
  const uid = r.readOptional((x) => x.readUint());
  const gid = r.readOptional((x) => x.readUint());
  const size = r.readOptional((x) => x.readUhyper());
  const atime = readSetTime(r);
  const mtime = readSetTime(r);
  return {
    ...(mode === undefined ? {} : { mode }), ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }),
    ...(size === undefined ? {} : { size }), ...(atime === undefined ? {} : { atime }), ...(mtime === undefined ? {} : { mtime }),
  };
}

function readSetTime(r: XdrReader): nfstime3 | 'server' | undefined {
  const how = r.readEnum(TIME_HOW_VALUES, 'time_how');
  if (how === time_how.SET_TO_CLIENT_TIME) return readNfstime(r);
  return how === time_how.SET_TO_SERVER_TIME ? 'server' : undefined;
}

/** RFC 1813 §2.5 fattr3: 84 bytes. */
export function writeFattr(w: XdrWriter, a: fattr3): void {
  w.writeEnum(a.type).writeUint(a.mode).writeUint(a.nlink).writeUint(a.uid).writeUint(a.gid);
  w.writeUhyper(a.size).writeUhyper(a.used);
  w.writeUint(a.rdev.specdata1).writeUint(a.rdev.specdata2);
  w.writeUhyper(a.fsid).writeUhyper(a.fileid);
  writeNfstime(w, a.atime);
  writeNfstime(w, a.mtime);
  writeNfstime(w, a.ctime);
}

/** RFC 1813 §2.6 post_op_attr. */
export function writePostOpAttr(w: XdrWriter, a: post_op_attr): void {
  w.writeOptional(a, writeFattr);
}

function writePreOpAttr(w: XdrWriter, a: pre_op_attr): void {
  w.writeOptional(a, (x, attr) => {
    x.writeUhyper(attr.size);
    writeNfstime(x, attr.mtime);
    writeNfstime(x, attr.ctime);
  });
}

/** RFC 1813 §2.6 wcc_data. */
export function writeWcc(w: XdrWriter, wcc: wcc_data): void {
  writePreOpAttr(w, wcc.before);
  writePostOpAttr(w, wcc.after);
}

export function writeStatus(w: XdrWriter, status: nfsstat3): void {
  w.writeEnum(status);
}

/** Bytes of a string or opaque on the wire: length word, the bytes, padding to four (RFC 4506 §4.10). */
export function xdrStringBytes(byteLength: number): number {
  return 4 + byteLength + ((4 - (byteLength % 4)) % 4);
}

/** Bytes of a post_op_attr with attributes: bool + fattr3. */
export const POST_OP_ATTR_BYTES = 4 + 84;

/** RFC 1813 §3.3.8–3.3.11: CREATE3resok, MKDIR3resok, SYMLINK3resok and MKNOD3resok share obj, obj_attributes, dir_wcc. */
export function writeDiropres(w: XdrWriter, obj: nfs_fh3 | undefined, attributes: post_op_attr, dirWcc: wcc_data): void {
  writePostOpFh(w, obj);
  writePostOpAttr(w, attributes);
  writeWcc(w, dirWcc);
}
