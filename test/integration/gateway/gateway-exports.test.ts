// Goal: `shoal export set` options are enforced by a running gateway (DESIGN §7): a read-only export refuses a change
// with NFS3ERR_ROFS (with its failure body); root squash makes a file root creates belong to the anonymous uid/gid; a
// client outside --allow gets MNT3ERR_ACCES on MNT and NFS3ERR_ACCES on every NFS call, even with a handle it already had.
// `shoal export list` shows what was set, and bad input is refused with the fix.
// Method: three `shoal node run`, `shoal gateway run` (exports re-read every 200 ms), the CLI as child processes, and
// a raw NFSv3/MOUNT client calling as uid 0 (AUTH_SYS) from 127.0.0.1.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFh } from '../../../gateway/nfs/codec.js';
import { NFS_PROGRAM, NFSPROC3, nfsstat3 } from '../../../gateway/nfs/types.js';
import type { XdrReader } from '../../../gateway/rpc/xdr-reader.js';
import type { XdrWriter } from '../../../gateway/rpc/xdr-writer.js';
import { TestCluster } from '../harness/spawn-cluster.js';
import { NfsTestClient } from '../nfs/nfs-test-client.js';
import { hasLibnfs, nfsUrl, SHOAL_BIN, shoal, startGateway } from './gateway-process.js';

const run = promisify(execFile);
const MOUNT = 100005;
const dirop = (fh: Buffer, name: string) => (w: XdrWriter) => { writeFh(w, fh); w.writeString(name); };
const sattr = (mode: number) => (w: XdrWriter) => { w.writeBool(true).writeUint(mode); for (let i = 0; i < 5; i++) w.writeUint(0); };
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** fattr3's first fields (RFC 1813 §2.6): type, mode, nlink, uid, gid; then skips the rest. */
function readFattr(r: XdrReader): { type: number; mode: number; uid: number; gid: number } {
  const type = r.readUint(); const mode = r.readUint(); r.readUint(); const uid = r.readUint(); const gid = r.readUint();
  r.readUhyper(); r.readUhyper(); r.readUint(); r.readUint(); r.readUhyper(); r.readUhyper();
  for (let i = 0; i < 6; i++) r.readUint();
  return { type, mode, uid, gid };
}

test.serial('exports: read-only, root squash and allowed addresses', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  for (const name of ['ro-vol', 'squashed', 'fenced']) await shoal(cluster, 'volume', 'create', name);
  await shoal(cluster, 'export', 'set', 'ro-vol', '--read-only');
  const gateway = await startGateway(cluster);
  t.teardown(() => gateway.kill());
  const c = await NfsTestClient.connect(gateway.nfsPort);
  t.teardown(() => c.close());
  const mnt = async (path: string): Promise<{ status: number; fh?: Buffer }> => {
    const r = await c.call(MOUNT, 3, 1, (w) => w.writeString(path));
    const status = r.readUint();
    return status === 0 ? { status, fh: Buffer.from(r.readOpaque(64)) } : { status };
  };
  const nfs = (proc: number, args: (w: XdrWriter) => void) => c.call(NFS_PROGRAM, 3, proc, args);

  // Read-only: MNT and reads work; CREATE is NFS3ERR_ROFS with its wcc_data failure body, and nothing is made.
  const ro = await mnt('/ro-vol');
  t.is(ro.status, 0);
  let r = await nfs(NFSPROC3.CREATE, (w) => { dirop(ro.fh!, 'nope.txt')(w); w.writeUint(0); sattr(0o644)(w); });
  t.is(r.readUint(), nfsstat3.NFS3ERR_ROFS);
  t.false(r.readBool()); t.false(r.readBool()); t.is(r.remaining, 0, 'CREATE3resfail: an empty wcc_data');
  r = await nfs(NFSPROC3.LOOKUP, dirop(ro.fh!, 'nope.txt'));
  t.is(r.readUint(), nfsstat3.NFS3ERR_NOENT);
  r = await nfs(NFSPROC3.GETATTR, (w) => writeFh(w, ro.fh!));
  t.is(r.readUint(), nfsstat3.NFS3_OK, 'reads are served');
  // ACCESS (RFC 1813 §3.3.4) as root on the 0755 root directory: READ and LOOKUP, never MODIFY, EXTEND or DELETE.
  r = await nfs(NFSPROC3.ACCESS, (w) => { writeFh(w, ro.fh!); w.writeUint(0x3f); });
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  t.true(r.readBool()); readFattr(r);
  t.is(r.readUint(), 0x01 | 0x02, 'a read-only export grants READ and LOOKUP only');

  // Root squash: root makes a world-writable directory while the export does not squash, then the export squashes
  // to 4242:4343 and a file root creates in it belongs to them.
  const sq = await mnt('/squashed');
  t.is(sq.status, 0);
  r = await nfs(NFSPROC3.MKDIR, (w) => { dirop(sq.fh!, 'drop')(w); sattr(0o777)(w); });
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  t.true(r.readBool());
  const drop = Buffer.from(r.readOpaque(64));
  await shoal(cluster, 'export', 'set', 'squashed', '--root-squash', '--anon-uid', '4242', '--anon-gid', '4343');
  await sleep(600); // past the gateway's --exports-refresh 200ms
  r = await nfs(NFSPROC3.CREATE, (w) => { dirop(drop, 'mine.txt')(w); w.writeUint(0); sattr(0o644)(w); });
  t.is(r.readUint(), nfsstat3.NFS3_OK);
  t.true(r.readBool()); r.readOpaque(64);
  t.true(r.readBool());
  const made = readFattr(r);
  t.is(made.uid, 4242, 'root squashed to the anonymous uid');
  t.is(made.gid, 4343, 'and gid');
  // Squashed root may not write where only root may.
  r = await nfs(NFSPROC3.CREATE, (w) => { dirop(sq.fh!, 'top.txt')(w); w.writeUint(0); sattr(0o644)(w); });
  t.is(r.readUint(), nfsstat3.NFS3ERR_ACCES, 'the volume root is root:root 0755');

  // Allowed addresses: a handle had before the fence is refused after it, on every call; MNT is refused.
  const fenced = await mnt('/fenced');
  t.is(fenced.status, 0);
  await shoal(cluster, 'export', 'set', 'fenced', '--allow', '10.0.0.0/8', '--allow', 'fd00::/8');
  await sleep(600);
  t.is((await mnt('/fenced')).status, 13, 'MNT3ERR_ACCES');
  r = await nfs(NFSPROC3.GETATTR, (w) => writeFh(w, fenced.fh!));
  t.is(r.readUint(), nfsstat3.NFS3ERR_ACCES);
  t.is(r.remaining, 0, 'GETATTR3res has no failure body');
  r = await nfs(NFSPROC3.READDIRPLUS, (w) => { writeFh(w, fenced.fh!); w.writeUhyper(0n).writeFixedOpaque(Buffer.alloc(8)).writeUint(512).writeUint(4096); });
  t.is(r.readUint(), nfsstat3.NFS3ERR_ACCES);
  t.false(r.readBool()); t.is(r.remaining, 0, 'READDIRPLUS3resfail: post_op_attr');
  if (await hasLibnfs()) {
    const refused = await run('nfs-ls', [nfsUrl(gateway.nfsPort, '/fenced')], { timeout: 30_000 }).then(() => undefined, (err: Error) => err);
    t.truthy(refused, 'libnfs cannot list a fenced export');
  }
  await shoal(cluster, 'export', 'set', 'fenced', '--allow', '127.0.0.0/8');
  await sleep(600);
  t.is((await mnt('/fenced')).status, 0, 'allowed again from the loopback');

  const list = await shoal(cluster, 'export', 'list');
  t.regex(list, /\/ro-vol\s+ro\s+no_squash\s+allow all/);
  t.regex(list, /\/squashed\s+rw\s+root_squash\(anon 4242:4343\)/);
  t.regex(list, /\/fenced\s+rw\s+no_squash\s+allow 127\.0\.0\.0\/8/);

  const bad = await run(process.execPath, [SHOAL_BIN, 'export', 'set', 'fenced', '--allow', '10.0.0.0/99', '--dir', cluster.clusterDir, '--node', cluster.nodes[0]!.address])
    .then(() => undefined, (err: { code: number; stderr: string }) => err);
  t.is(bad?.code, 2);
  t.regex(bad?.stderr ?? '', /--allow "10\.0\.0\.0\/99": give an address or a CIDR/);
  t.is(await gateway.stop(), 0);
});
