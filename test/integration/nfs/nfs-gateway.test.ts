// Goal: the NFSv3 and MOUNT programs serve a real three-node cluster: MNT gives the root handle, and LOOKUP, CREATE,
// WRITE (UNSTABLE), COMMIT, READ, READDIR(PLUS) paging, REMOVE round-trip with the statuses of RFC 1813 (NOENT for a
// name, STALE for a removed file's handle). Then libnfs's nfs-ls and nfs-cat, when installed, list and read the export.
// Method: `shoal node run` ×3, an in-process RpcServer on 127.0.0.1, a raw RPC client with AUTH_SYS.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { ClusterFsBlocks } from '../../../gateway/fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../../gateway/fs/fs-limits.js';
import { Volumes } from '../../../gateway/fs/volume.js';
import { MOUNT_PROGRAM, mountProgram } from '../../../gateway/mount/mount-program.js';
import { writeFh } from '../../../gateway/nfs/codec.js';
import { NfsContext } from '../../../gateway/nfs/nfs-context.js';
import { nfsProgram } from '../../../gateway/nfs/nfs-program.js';
import { NFS_PROGRAM, NFSPROC3, nfsstat3 } from '../../../gateway/nfs/types.js';
import { RpcServer } from '../../../gateway/rpc/rpc-server.js';
import type { XdrWriter } from '../../../gateway/rpc/xdr-writer.js';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { silentLogger } from '../../../storage-node/base/log.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { TestCluster } from '../harness/spawn-cluster.js';
import { NfsTestClient, readPostOpAttr, readWcc } from './nfs-test-client.js';

const run = promisify(execFile);
const dirop = (fh: Buffer, name: string) => (w: XdrWriter) => { writeFh(w, fh); w.writeString(name); };

test.serial('MOUNT and NFSv3 round trips on a three-node cluster', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy });
  t.teardown(() => client.close());
  const volumes = new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
  await volumes.create('vol', { chunkBytes: 4096 });
  const nfs = new NfsContext({ volumes, writeVerifier: Buffer.from('0123456789abcdef', 'hex'), log: silentLogger });
  const server = new RpcServer({ log: silentLogger }).register(nfsProgram(nfs)).register(mountProgram(nfs));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  const c = await NfsTestClient.connect(port);
  t.teardown(() => c.close());
  const callNfs = (proc: number, args?: (w: XdrWriter) => void) => c.call(NFS_PROGRAM, 3, proc, args);

  // MNT: mountstat3, fhandle3, auth_flavors (RFC 1813 Appendix I).
  let r = await c.call(MOUNT_PROGRAM, 3, 1, (w) => w.writeString('/vol'));
  t.is(r.readUint(), 0);
  const root = Buffer.from(r.readOpaque(64));
  t.is(root.length, 41);
  t.deepEqual(r.readArray(4, (x) => x.readInt()), [1]);
  r = await c.call(MOUNT_PROGRAM, 3, 1, (w) => w.writeString('/nope'));
  t.is(r.readUint(), 2, 'MNT3ERR_NOENT');
  r = await c.call(MOUNT_PROGRAM, 3, 5);
  t.deepEqual(r.readList(10, (x) => { const dir = x.readString(1024); x.readList(10, (y) => y.readString(255)); return dir; }), ['/vol']);

  r = await callNfs(NFSPROC3.GETATTR, (w) => writeFh(w, root));
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  t.is(r.readUint(), 2, 'the root is NF3DIR');

  r = await callNfs(NFSPROC3.LOOKUP, dirop(root, 'missing'));
  t.is(r.readUint(), nfsstat3.NFS3ERR_NOENT);
  t.truthy(readPostOpAttr(r), 'LOOKUP3resfail carries dir_attributes');

  // CREATE UNCHECKED mode 0644: where, createmode3, sattr3.
  r = await callNfs(NFSPROC3.CREATE, (w) => { dirop(root, 'hello.txt')(w); w.writeUint(0); w.writeBool(true).writeUint(0o644); for (let i = 0; i < 5; i++) w.writeUint(0); });
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  t.true(r.readBool());
  const file = Buffer.from(r.readOpaque(64));

  const text = Buffer.from('hello world, '.repeat(700)); // 9,100 bytes: three 4 KiB chunks
  r = await callNfs(NFSPROC3.WRITE, (w) => { writeFh(w, file); w.writeUhyper(0n).writeUint(text.length).writeUint(0).writeOpaque(text); });
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  readWcc(r);
  t.is(r.readUint(), text.length);
  t.is(r.readUint(), 0, 'committed UNSTABLE');
  t.is(Buffer.from(r.readFixedOpaque(8)).toString('hex'), '0123456789abcdef');

  r = await callNfs(NFSPROC3.COMMIT, (w) => { writeFh(w, file); w.writeUhyper(0n).writeUint(0); });
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  readWcc(r);
  t.is(Buffer.from(r.readFixedOpaque(8)).toString('hex'), '0123456789abcdef');

  r = await callNfs(NFSPROC3.READ, (w) => { writeFh(w, file); w.writeUhyper(0n).writeUint(1 << 20); });
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  t.is(readPostOpAttr(r)?.size, BigInt(text.length));
  t.is(r.readUint(), text.length);
  t.true(r.readBool(), 'eof');
  t.deepEqual(Buffer.from(r.readOpaque(1 << 20)), text);

  r = await callNfs(NFSPROC3.LOOKUP, dirop(root, 'hello.txt'));
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  t.deepEqual(Buffer.from(r.readOpaque(64)), file, 'the same handle');

  // Twenty more files, listed by READDIRPLUS in small pages: every name once, ".", ".." first.
  const names = Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  for (const name of names) {
    r = await callNfs(NFSPROC3.CREATE, (w) => { dirop(root, name)(w); w.writeUint(1); w.writeBool(true).writeUint(0o600); for (let i = 0; i < 5; i++) w.writeUint(0); });
    t.is(r.readUint(), nfsstat3.NFS3_OK, name);
  }
  const listed: string[] = [];
  let cookie = 0n;
  for (let pages = 0; ; pages++) {
    t.true(pages < 50, 'the listing ends');
    r = await callNfs(NFSPROC3.READDIRPLUS, (w) => { writeFh(w, root); w.writeUhyper(cookie).writeFixedOpaque(Buffer.alloc(8)).writeUint(512).writeUint(1200); });
    t.is(r.readUint(), nfsstat3.NFS3_OK);
    readPostOpAttr(r);
    r.readFixedOpaque(8);
    while (r.readBool()) {
      r.readUhyper();
      listed.push(r.readString(255));
      cookie = r.readUhyper();
      t.truthy(readPostOpAttr(r));
      t.true(r.readBool());
      t.is(r.readOpaque(64).length, 41);
    }
    if (r.readBool()) break;
  }
  t.deepEqual(listed, ['.', '..', ...names, 'hello.txt']);

  // A too-small READDIR count is TOOSMALL, with its failure body.
  r = await callNfs(NFSPROC3.READDIR, (w) => { writeFh(w, root); w.writeUhyper(0n).writeFixedOpaque(Buffer.alloc(8)).writeUint(16); });
  t.is(r.readUint(), nfsstat3.NFS3ERR_TOOSMALL);

  r = await callNfs(NFSPROC3.REMOVE, dirop(root, 'hello.txt'));
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  r = await callNfs(NFSPROC3.LOOKUP, dirop(root, 'hello.txt'));
  t.is(r.readUint(), nfsstat3.NFS3ERR_NOENT);
  r = await callNfs(NFSPROC3.GETATTR, (w) => writeFh(w, file));
  t.is(r.readUint(), nfsstat3.NFS3ERR_STALE, 'a removed file is STALE, not NOENT');
  r = await callNfs(NFSPROC3.GETATTR, (w) => w.writeOpaque(Buffer.alloc(12)));
  t.is(r.readUint(), nfsstat3.NFS3ERR_BADHANDLE);

  // libnfs against the same server, when installed (Debian: libnfs-utils).
  if (!existsSync('/usr/bin/nfs-ls')) {
    t.log('libnfs-utils not installed: nfs-ls and nfs-cat skipped');
    return;
  }
  await callNfs(NFSPROC3.CREATE, (w) => { dirop(root, 'libnfs.txt')(w); w.writeUint(0); w.writeBool(true).writeUint(0o644); for (let i = 0; i < 5; i++) w.writeUint(0); })
    .then(async (res) => {
      res.readUint(); res.readBool();
      const fh = Buffer.from(res.readOpaque(64));
      await callNfs(NFSPROC3.WRITE, (w) => { writeFh(w, fh); w.writeUhyper(0n).writeUint(6).writeUint(2).writeOpaque(Buffer.from('libnfs')); });
    });
  const url = (path: string) => `nfs://127.0.0.1${path}?version=3&nfsport=${port}&mountport=${port}`;
  const ls = await run('nfs-ls', [url('/vol')], { timeout: 20_000 });
  t.log(ls.stdout.trim().split('\n').slice(0, 3).join('\n'));
  t.regex(ls.stdout, /libnfs\.txt/);
  t.regex(ls.stdout, /f19/);
  const cat = await run('nfs-cat', [url('/vol/libnfs.txt')], { timeout: 20_000 });
  t.is(cat.stdout, 'libnfs');
});
