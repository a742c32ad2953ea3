// Goal: S3 keys map to filesystem users. `shoal key create --user U --uid N` records the uid/gid; objects written with
// that key are owned by it (as NFS shows), and the filesystem's mode bits decide what a key may do: another user's key
// may read a 0644 object but not write into or delete from a 0755 directory it does not own (403 AccessDenied as S3
// XML), and a user key cannot write into a bucket an admin made. The admin key (no uid) acts as root.
// Method: three `shoal node run` processes, one `shoal gateway run --s3 --nfs` process, keys from the `shoal` CLI,
// @aws-sdk/client-s3 per key, libnfs's nfs-ls for the owners.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { hasLibnfs, nfsUrl, shoal } from '../gateway/gateway-process.js';
import { s3ErrorOf, startS3Cluster, type S3Key, type S3TestCluster } from './s3-test-cluster.js';

const run = promisify(execFile);

let shared: S3TestCluster | undefined;

test.before(async () => {
  shared = await startS3Cluster({ gateways: 1, user: 'admin' });
});

test.after.always(async () => {
  await shared?.stop();
});

async function keyFor(cluster: S3TestCluster, user: string, uid: number): Promise<S3Key & { uid: number; gid: number }> {
  return JSON.parse(await shoal(cluster.cluster, 'key', 'create', '--user', user, '--uid', String(uid), '--json')) as S3Key & { uid: number; gid: number };
}

async function text(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray()).toString();
}

test.serial('a key with a uid owns what it writes; other users meet the mode bits as AccessDenied; the admin key is root', async (t) => {
  const cluster = shared!;
  const gateway = cluster.gateways[0]!;
  const aliceKey = await keyFor(cluster, 'alice', 1001);
  const bobKey = await keyFor(cluster, 'bob', 1002);
  t.is(aliceKey.uid, 1001);
  t.is(aliceKey.gid, 1001, 'the gid defaults to the uid');
  const listed = JSON.parse(await shoal(cluster.cluster, 'key', 'list', '--json')) as Array<{ user: string; uid?: number; admin?: boolean }>;
  t.deepEqual(listed.map((k) => [k.user, k.uid ?? (k.admin === true ? 'admin' : '?')]), [['admin', 'admin'], ['alice', 1001], ['bob', 1002]]);
  const badUid = await shoal(cluster.cluster, 'key', 'create', '--user', 'carol', '--uid', '0').then(() => '', (err: { stderr: string }) => err.stderr);
  t.regex(badUid, /--uid and --gid are whole numbers/);

  const admin = cluster.client(gateway);
  const alice = cluster.client(gateway, aliceKey);
  const bob = cluster.client(gateway, bobKey);

  // Alice's bucket: its root directory is hers; her objects and the directories a PUT makes are hers.
  await alice.send(new CreateBucketCommand({ Bucket: 'alice-data' }));
  await alice.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'top.txt', Body: 'alice wrote this' }));
  await alice.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'docs/inner.txt', Body: 'inner' }));
  if (await hasLibnfs()) {
    const { stdout } = await run('nfs-ls', [nfsUrl(gateway.nfsPort, '/alice-data')], { timeout: 30_000 });
    t.log(stdout.trim());
    for (const name of ['top.txt', 'docs']) {
      const line = stdout.split('\n').find((l) => l.trim().endsWith(` ${name}`)) ?? '';
      t.regex(line, /\s1001\s+1001\s/, `${name} is owned by uid 1001 gid 1001: ${line}`);
    }
  } else {
    t.log('libnfs-utils is not installed: the owners are not checked through NFS');
  }

  // Bob may read (0644 file, 0755 directories) but not write into or delete from Alice's directories.
  t.is(await text(bob, 'alice-data', 'top.txt'), 'alice wrote this');
  t.is((await bob.send(new ListObjectsV2Command({ Bucket: 'alice-data' }))).KeyCount, 2);
  const denied = await s3ErrorOf(bob.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'top.txt', Body: 'bob was here' })));
  t.is(denied.name, 'AccessDenied');
  t.is(denied.$metadata.httpStatusCode, 403);
  t.truthy(denied.message, 'the error carries a message');
  t.is((await s3ErrorOf(bob.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'new/bob.txt', Body: 'x' })))).name, 'AccessDenied');
  t.is((await s3ErrorOf(bob.send(new DeleteObjectCommand({ Bucket: 'alice-data', Key: 'docs/inner.txt' })))).name, 'AccessDenied');
  t.is(await text(alice, 'alice-data', 'top.txt'), 'alice wrote this', 'the refused PUT changed nothing');
  t.is(await text(alice, 'alice-data', 'docs/inner.txt'), 'inner', 'the refused DELETE changed nothing');

  // The admin key acts as root: it writes anywhere; a user key cannot write into the admin's bucket (root's, 0755).
  await admin.send(new PutObjectCommand({ Bucket: 'alice-data', Key: 'from-admin.txt', Body: 'root' }));
  t.is(await text(alice, 'alice-data', 'from-admin.txt'), 'root');
  await admin.send(new CreateBucketCommand({ Bucket: 'admin-data' }));
  t.is((await s3ErrorOf(alice.send(new PutObjectCommand({ Bucket: 'admin-data', Key: 'a.txt', Body: 'x' })))).name, 'AccessDenied');
  await alice.send(new DeleteObjectCommand({ Bucket: 'alice-data', Key: 'docs/inner.txt' }));
  t.is((await s3ErrorOf(alice.send(new HeadObjectCommand({ Bucket: 'alice-data', Key: 'docs/inner.txt' })))).$metadata.httpStatusCode, 404);
});
