// Goal: one volume is at once an NFS export and an S3 bucket. A file written through NFS is listed and fetched through
// S3 with its size, its MD5 as ETag and its bytes; an S3 object overwritten through NFS (same size, other bytes) shows
// the new bytes and the new MD5, never the ETag S3 stored for the old ones; an object PUT through S3 is read through
// NFS at once, through the other gateway. Method: three `shoal node run` processes, two `shoal gateway run --s3 --nfs`
// processes, libnfs's nfs-cp / nfs-cat (a real NFS client over the wire; an in-place overwrite, which nfs-cp cannot do, with
// the RPC test client's WRITE and COMMIT) and @aws-sdk/client-s3.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MOUNT_PROGRAM } from '../../../gateway/mount/mount-program.js';
import { writeFh } from '../../../gateway/nfs/codec.js';
import { NFS_PROGRAM, NFSPROC3, nfsstat3 } from '../../../gateway/nfs/types.js';
import { hasLibnfs, nfsUrl } from '../gateway/gateway-process.js';
import { NfsTestClient, readWcc } from '../nfs/nfs-test-client.js';
import { startS3Cluster, type S3TestCluster } from './s3-test-cluster.js';

const run = promisify(execFile);
const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');
const nfsCat = async (url: string): Promise<Buffer> => (await run('nfs-cat', [url], { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 60_000 })).stdout;

let shared: S3TestCluster | undefined;
let scratch = '';

test.before(async () => {
  if (!(await hasLibnfs())) return;
  shared = await startS3Cluster({ gateways: 2 });
  scratch = await mkdtemp(join(tmpdir(), 'shoal-s3-nfs-'));
});

test.after.always(async () => {
  await shared?.stop();
  if (scratch !== '') await rm(scratch, { recursive: true, force: true });
});

async function nfsPut(port: number, path: string, data: Buffer): Promise<void> {
  const local = join(scratch, `${md5(data)}.bin`);
  await writeFile(local, data);
  await run('nfs-cp', [local, nfsUrl(port, path)], { timeout: 60_000 });
}

/**
 * Overwrites an existing file in place over NFS (nfs-cp only creates): MNT, LOOKUP, WRITE UNSTABLE at 0, COMMIT, with
 * the RPC test client, so the inode (and the ETag S3 stored on it) stays.
 */
async function nfsOverwrite(port: number, volume: string, name: string, data: Buffer): Promise<void> {
  const c = await NfsTestClient.connect(port);
  try {
    let r = await c.call(MOUNT_PROGRAM, 3, 1, (w) => w.writeString(`/${volume}`));
    if (r.readUint() !== 0) throw new Error(`MNT /${volume} failed`);
    const root = Buffer.from(r.readOpaque(64));
    r = await c.call(NFS_PROGRAM, 3, NFSPROC3.LOOKUP, (w) => { writeFh(w, root); w.writeString(name); });
    if (r.readUint() !== nfsstat3.NFS3_OK) throw new Error(`LOOKUP ${name} failed`);
    const file = Buffer.from(r.readOpaque(64));
    r = await c.call(NFS_PROGRAM, 3, NFSPROC3.WRITE, (w) => { writeFh(w, file); w.writeUhyper(0n).writeUint(data.length).writeUint(0).writeOpaque(data); });
    if (r.readUint() !== nfsstat3.NFS3_OK) throw new Error('WRITE failed');
    readWcc(r);
    r = await c.call(NFS_PROGRAM, 3, NFSPROC3.COMMIT, (w) => { writeFh(w, file); w.writeUhyper(0n).writeUint(0); });
    if (r.readUint() !== nfsstat3.NFS3_OK) throw new Error('COMMIT failed');
  } finally {
    c.close();
  }
}

async function s3Get(client: S3Client, bucket: string, key: string): Promise<{ body: Buffer; etag: string | undefined }> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), etag: out.ETag };
}

async function s3List(client: S3Client, bucket: string): Promise<Map<string, { size: number | undefined; etag: string | undefined }>> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return new Map((out.Contents ?? []).map((c) => [c.Key ?? '', { size: c.Size, etag: c.ETag }]));
}

test.serial('a file written through NFS is listed and fetched through S3 with its size, MD5 ETag and bytes', async (t) => {
  if (shared === undefined) {
    t.log('libnfs-utils (nfs-cp, nfs-cat) is not installed: apt-get install libnfs-utils');
    t.pass();
    return;
  }
  const [a, b] = shared.gateways as [S3TestCluster['gateways'][0], S3TestCluster['gateways'][0]];
  const s3a = shared.client(a);
  const s3b = shared.client(b);
  await s3a.send(new CreateBucketCommand({ Bucket: 'both' }));
  // Several chunks (1 MiB default) and a tail; and a small file kept inline in its inode.
  const big = randomBytes(2 * 1024 * 1024 + 4321);
  const small = Buffer.from('written through NFS\n');
  await nfsPut(a.nfsPort, '/both/big.bin', big);
  await nfsPut(a.nfsPort, '/both/small.txt', small);

  // Listed first (before any GET computed an ETag): the listing computes the real MD5 itself.
  const listed = await s3List(s3b, 'both');
  t.deepEqual(listed.get('big.bin'), { size: big.length, etag: `"${md5(big)}"` });
  t.deepEqual(listed.get('small.txt'), { size: small.length, etag: `"${md5(small)}"` });

  for (const client of [s3a, s3b]) {
    const got = await s3Get(client, 'both', 'big.bin');
    t.true(got.body.equals(big));
    t.is(got.etag, `"${md5(big)}"`);
    const head = await client.send(new HeadObjectCommand({ Bucket: 'both', Key: 'small.txt' }));
    t.is(head.ContentLength, small.length);
    t.is(head.ETag, `"${md5(small)}"`);
  }
  // Conditional requests see the same ETag.
  const conditional = await s3a.send(new GetObjectCommand({ Bucket: 'both', Key: 'small.txt', IfMatch: `"${md5(small)}"` }));
  t.is(Buffer.from(await conditional.Body!.transformToByteArray()).toString(), small.toString());
});

test.serial('an S3 object overwritten through NFS with other bytes of the same size shows the new bytes and the new MD5', async (t) => {
  if (shared === undefined) {
    t.pass();
    return;
  }
  const [a, b] = shared.gateways as [S3TestCluster['gateways'][0], S3TestCluster['gateways'][0]];
  const s3a = shared.client(a);
  const before = randomBytes(300 * 1024);
  const put = await s3a.send(new PutObjectCommand({ Bucket: 'both', Key: 'over.bin', Body: before }));
  t.is(put.ETag, `"${md5(before)}"`);
  const after = randomBytes(before.length);
  await nfsOverwrite(b.nfsPort, 'both', 'over.bin', after);
  const got = await s3Get(s3a, 'both', 'over.bin');
  t.true(got.body.equals(after), 'S3 reads what NFS wrote');
  t.is(got.etag, `"${md5(after)}"`, 'the ETag S3 stored for the old bytes is not shown for the new ones');
  t.is((await s3List(shared.client(b), 'both')).get('over.bin')?.etag, `"${md5(after)}"`);
});

test.serial('an object PUT through S3 is read through NFS at once, through the other gateway', async (t) => {
  if (shared === undefined) {
    t.pass();
    return;
  }
  const [a, b] = shared.gateways as [S3TestCluster['gateways'][0], S3TestCluster['gateways'][0]];
  const s3a = shared.client(a);
  for (const size of [17, 1024 * 1024 + 99]) {
    const body = randomBytes(size);
    await s3a.send(new PutObjectCommand({ Bucket: 'both', Key: `from-s3-${size}.bin`, Body: body }));
    t.true((await nfsCat(nfsUrl(b.nfsPort, `/both/from-s3-${size}.bin`))).equals(body), `${size} bytes`);
  }
  // And replaced through S3: NFS reads the new object at once.
  const replaced = randomBytes(4096);
  await s3a.send(new PutObjectCommand({ Bucket: 'both', Key: 'from-s3-17.bin', Body: replaced }));
  t.true((await nfsCat(nfsUrl(b.nfsPort, '/both/from-s3-17.bin'))).equals(replaced));
});
