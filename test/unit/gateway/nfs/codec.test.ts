// Goal: fattr3, post_op_attr, wcc_data, sattr3 and a whole GETATTR3resok encode to the bytes RFC 1813 §2.5–2.6 and
// §3.3.1 prescribe. Method: golden words written by hand from the RFC's XDR, compared byte for byte.
import test from 'ava';
import { fattrOf } from '../../../../gateway/nfs/attrs.js';
import { readSattr, writeFattr, writePostOpAttr, writeWcc } from '../../../../gateway/nfs/codec.js';
import { fileidOf } from '../../../../gateway/nfs/file-handle.js';
import { ok } from '../../../../gateway/nfs/nfs-context.js';
import { ftype3, type fattr3 } from '../../../../gateway/nfs/types.js';
import { XdrReader } from '../../../../gateway/rpc/xdr-reader.js';
import { XdrWriter } from '../../../../gateway/rpc/xdr-writer.js';

const words = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

const address = Buffer.concat([Buffer.from('aabbccdd00112233', 'hex'), Buffer.alloc(24, 7)]);
const attributes = {
  address, version: 3, type: 'file' as const, mode: 0o100644, uid: 1000, gid: 100, nlink: 1, size: 5,
  atimeMs: 1_700_000_000_123, mtimeMs: 1_700_000_000_123, ctimeMs: 1_700_000_001_000, xattrs: new Map<string, Buffer>(),
};
const FSID = 0x0102030405060708n;

// type, mode, nlink, uid, gid, size (hyper), used (hyper), rdev, fsid, fileid, atime, mtime, ctime
const FATTR_WORDS = words(
  1, 0o644, 1, 1000, 100, 0, 5, 0, 4096, 0, 0, 0x01020304, 0x05060708, 0xaabbccdd, 0x00112233,
  1_700_000_000, 123_000_000, 1_700_000_000, 123_000_000, 1_700_000_001, 0,
);

test('fattr3 of a file is 84 bytes: permission bits only, used rounded to 4 KiB, fileid the address prefix', (t) => {
  const fattr: fattr3 = fattrOf(attributes, FSID);
  t.is(fattr.type, ftype3.NF3REG);
  t.is(fattr.fileid, fileidOf(address));
  const w = new XdrWriter();
  writeFattr(w, fattr);
  t.is(w.length, 84);
  t.deepEqual(Buffer.from(w.finish()), FATTR_WORDS);
});

test('a GETATTR3res success is NFS3_OK then fattr3 (RFC 1813 §3.3.1)', (t) => {
  const w = new XdrWriter();
  ok((x) => writeFattr(x, fattrOf(attributes, FSID)))(w);
  t.deepEqual(Buffer.from(w.finish()), Buffer.concat([words(0), FATTR_WORDS]));
});

test('post_op_attr and wcc_data: FALSE when absent, TRUE then the attributes', (t) => {
  const w = new XdrWriter();
  writePostOpAttr(w, undefined);
  writeWcc(w, { before: undefined, after: fattrOf(attributes, FSID) });
  t.deepEqual(Buffer.from(w.finish()), Buffer.concat([words(0), words(0), words(1), FATTR_WORDS]));
});

test('sattr3 decodes each set_* union; SET_TO_SERVER_TIME and DONT_CHANGE differ', (t) => {
  const bytes = words(1, 0o755, 0, 1, 42, 1, 0, 10, 1, 2, 7, 500_000_000);
  t.deepEqual(readSattr(new XdrReader(bytes)), { mode: 0o755, gid: 42, size: 10n, atime: 'server', mtime: { seconds: 7, nseconds: 500_000_000 } });
  t.deepEqual(readSattr(new XdrReader(words(0, 0, 0, 0, 0, 0))), {});
  t.throws(() => readSattr(new XdrReader(words(0, 0, 0, 0, 3, 0))), { message: /time_how/ });
});
