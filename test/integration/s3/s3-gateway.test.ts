// Goal: the S3 gateway serves a real three-node cluster to real clients: the AWS SDK for JS (default settings, so
// flexible checksums and aws-chunked bodies) and presigned URLs fetched with fetch(); awscli 2 when installed.
// Method: `shoal node run` ×3, an in-process S3 server on 127.0.0.1 with a static key, path-style addressing.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand,
  HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ClusterFsBlocks } from '../../../gateway/fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../../gateway/fs/fs-limits.js';
import { Volumes } from '../../../gateway/fs/volume.js';
import { startS3Server } from '../../../gateway/s3/app.js';
import { StaticKeyStore } from '../../../gateway/s3/keys.js';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { silentLogger } from '../../../storage-node/base/log.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { TestCluster } from '../harness/spawn-cluster.js';

const run = promisify(execFile);
const KEY = { id: 'SHOALTESTKEY0000001', secret: 'shoal-test-secret-0000000000000000000000', user: 'tester' };
const AWS_CLI = '/usr/bin/aws';

async function errorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof S3ServiceException) return err;
    throw err;
  }
  throw new Error('expected an S3 error');
}

test.serial('the AWS SDK and presigned URLs against a three-node cluster', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const owner = await readAdminIdentity(cluster.clusterDir);
  const client = await cluster.client({ owner, entropy: systemEntropy });
  t.teardown(() => client.close());
  const volumes = new Volumes({ blocks: new ClusterFsBlocks(client, owner, systemEntropy), clock: new SystemClock(), limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
  const server = await startS3Server({ host: '127.0.0.1', port: 0, volumes, keys: new StaticKeyStore([KEY]), log: silentLogger, clock: new SystemClock() });
  t.teardown(() => server.close());
  const endpoint = `http://127.0.0.1:${server.port}`;
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret } });
  t.teardown(() => s3.destroy());

  await s3.send(new CreateBucketCommand({ Bucket: 'photos' }));
  await s3.send(new HeadBucketCommand({ Bucket: 'photos' }));
  t.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['photos']);
  t.is((await errorOf(s3.send(new CreateBucketCommand({ Bucket: 'photos' })))).name, 'BucketAlreadyOwnedByYou');

  // Small put/get/head with metadata.
  const put = await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a/b/hello.txt', Body: 'hello world', ContentType: 'text/plain', Metadata: { colour: 'blue' } }));
  t.is(put.ETag, `"${createHash('md5').update('hello world').digest('hex')}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a/b/hello.txt' }));
  t.is(await got.Body?.transformToString(), 'hello world');
  t.is(got.ContentType, 'text/plain');
  t.deepEqual(got.Metadata, { colour: 'blue' });
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'a/b/hello.txt' }));
  t.is(head.ContentLength, 11);
  t.is(head.ETag, put.ETag);

  // 5 MiB streamed (a Readable of unknown length: the SDK sends aws-chunked with a checksum trailer).
  const big = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 0xff;
  const bigMd5 = createHash('md5').update(big).digest('hex');
  const started = Date.now();
  const putBig = await s3.send(new PutObjectCommand({
    Bucket: 'photos', Key: 'big.bin', ContentLength: big.length,
    Body: Readable.from((function* () { for (let i = 0; i < big.length; i += 256 * 1024) yield big.subarray(i, i + 256 * 1024); })()),
  }));
  t.is(putBig.ETag, `"${bigMd5}"`);
  const gotBig = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin' }))).Body!.transformToByteArray());
  t.log(`5 MiB put and get in ${Date.now() - started} ms`);
  t.true(gotBig.equals(big));

  // Range and conditional GETs.
  const range = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin', Range: 'bytes=1000-1009' }));
  t.is(range.ContentRange, `bytes 1000-1009/${big.length}`);
  t.deepEqual(Buffer.from(await range.Body!.transformToByteArray()), big.subarray(1000, 1010));
  const suffix = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin', Range: 'bytes=-5' }));
  t.deepEqual(Buffer.from(await suffix.Body!.transformToByteArray()), big.subarray(big.length - 5));
  t.is((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin', Range: `bytes=${big.length}-` })))).name, 'InvalidRange');
  t.is((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin', IfMatch: '"0000"' })))).$metadata.httpStatusCode, 412);
  t.is((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin', IfNoneMatch: putBig.ETag! })))).$metadata.httpStatusCode, 304);
  t.is((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin', IfModifiedSince: new Date(Date.now() + 60_000) })))).$metadata.httpStatusCode, 304);
  t.is((await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'big.bin', IfMatch: putBig.ETag!, Range: 'bytes=0-0' }))).ContentLength, 1);
  const overridden = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a/b/hello.txt', ResponseContentType: 'application/x-test' }));
  t.is(overridden.ContentType, 'application/x-test');
  await overridden.Body?.transformToString();

  // Conditional PUT: If-None-Match: * is an exclusive create.
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'once', Body: 'first', IfNoneMatch: '*' }));
  t.is((await errorOf(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'once', Body: 'second', IfNoneMatch: '*' })))).$metadata.httpStatusCode, 412);

  // Keys that cannot be paths.
  t.is((await errorOf(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a/b/hello.txt/more', Body: 'x' })))).name, 'XShoalKeyConflict');
  t.is((await errorOf(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a/b', Body: 'x' })))).name, 'XShoalKeyConflict');
  t.is((await errorOf(s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a//b', Body: 'x' })))).name, 'InvalidArgument');

  // Copy with both metadata directives.
  await s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'copies/hello.txt', CopySource: 'photos/a/b/hello.txt' }));
  const copied = await s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'copies/hello.txt' }));
  t.is(copied.ETag, put.ETag);
  t.deepEqual(copied.Metadata, { colour: 'blue' });
  await s3.send(new CopyObjectCommand({ Bucket: 'photos', Key: 'copies/replaced.txt', CopySource: 'photos/a/b/hello.txt', MetadataDirective: 'REPLACE', Metadata: { colour: 'red' }, ContentType: 'text/x-red' }));
  const replaced = await s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'copies/replaced.txt' }));
  t.deepEqual(replaced.Metadata, { colour: 'red' });
  t.is(replaced.ContentType, 'text/x-red');

  // Listing: keys in S3 order ('list/a-b' before 'list/a/x': '-' sorts before '/') across directories, prefix + delimiter, pagination with continuation tokens.
  const keys = ['list/a-b', 'list/a/x', 'list/a/y/z', 'list/b', 'list/c/', 'list/c/d', 'list/e f+g'];
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: key, Body: key.endsWith('/') ? '' : key }));
  const all: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'list/', MaxKeys: 3, ...(token === undefined ? {} : { ContinuationToken: token }) }));
    all.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.NextContinuationToken;
    pages++;
  } while (token !== undefined);
  t.deepEqual(all, [...keys].sort());
  t.is(pages, 3);
  const delimited = await s3.send(new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'list/', Delimiter: '/' }));
  t.deepEqual(delimited.Contents?.map((c) => c.Key), ['list/a-b', 'list/b', 'list/e f+g']);
  t.deepEqual(delimited.CommonPrefixes?.map((c) => c.Prefix), ['list/a/', 'list/c/']);
  const delimitedPages: string[] = [];
  token = undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'list/', Delimiter: '/', MaxKeys: 2, ...(token === undefined ? {} : { ContinuationToken: token }) }));
    delimitedPages.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((c) => c.Prefix!));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  t.deepEqual(delimitedPages.sort(), ['list/a-b', 'list/a/', 'list/b', 'list/c/', 'list/e f+g']);
  const startAfter = await s3.send(new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'list/a', StartAfter: 'list/a/x' }));
  t.deepEqual(startAfter.Contents?.map((c) => c.Key), ['list/a/y/z']);

  // Delete one, delete many, and the emptied prefixes disappear.
  await s3.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'list/a/y/z' }));
  const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: 'photos', Delete: { Objects: [{ Key: 'list/a/x' }, { Key: 'list/c/d' }, { Key: 'list/c/' }, { Key: 'nothing/here' }] } }));
  t.is(deleted.Deleted?.length, 4);
  const after = await s3.send(new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'list/' }));
  t.deepEqual(after.Contents?.map((c) => c.Key), ['list/a-b', 'list/b', 'list/e f+g']);
  t.is((await errorOf(s3.send(new HeadObjectCommand({ Bucket: 'photos', Key: 'list/a/x' })))).$metadata.httpStatusCode, 404);
  t.is((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'list/a/x' })))).name, 'NoSuchKey');
  t.is((await errorOf(s3.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'x' })))).name, 'NoSuchBucket');

  // Presigned GET: fetched, then refused once expired.
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'photos', Key: 'a/b/hello.txt' }), { expiresIn: 2 });
  const fetched = await fetch(url);
  t.is(fetched.status, 200);
  t.is(await fetched.text(), 'hello world');
  await new Promise((resolve) => setTimeout(resolve, 3100));
  const expired = await fetch(url);
  t.is(expired.status, 403);
  const expiredXml = await expired.text();
  t.regex(expiredXml, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);

  // A wrong secret: SignatureDoesNotMatch as XML with a message.
  const wrong = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY.id, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
  t.teardown(() => wrong.destroy());
  const bad = await errorOf(wrong.send(new GetObjectCommand({ Bucket: 'photos', Key: 'a/b/hello.txt' })));
  t.is(bad.name, 'SignatureDoesNotMatch');
  t.true(bad.message.length > 0);
  const raw = await fetch(`${endpoint}/photos/a/b/hello.txt`, { headers: { authorization: `AWS4-HMAC-SHA256 Credential=${KEY.id}/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`, 'x-amz-date': '20200101T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  t.is(raw.status, 403);
  t.regex(await raw.text(), /^<\?xml[^]*<Error><Code>RequestTimeTooSkewed<\/Code><Message>.+<\/Message><Resource>\/photos\/a\/b\/hello.txt<\/Resource><RequestId>[0-9A-F]+<\/RequestId><\/Error>$/);

  // awscli 2 (Debian's, at /usr/bin/aws) when installed.
  if (!existsSync(AWS_CLI)) {
    t.log(`${AWS_CLI} is missing (apt-get install awscli): awscli checks skipped`);
    return;
  }
  const env = { ...process.env, AWS_ACCESS_KEY_ID: KEY.id, AWS_SECRET_ACCESS_KEY: KEY.secret, AWS_DEFAULT_REGION: 'us-east-1', AWS_CA_BUNDLE: '', AWS_EC2_METADATA_DISABLED: 'true' };
  const aws = (...args: string[]) => run(AWS_CLI, ['--endpoint-url', endpoint, ...args], { env });
  const dir = await mkdtemp(join(tmpdir(), 'shoal-s3-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'up.bin'), big.subarray(0, 3 * 1024 * 1024));
  await aws('s3', 'cp', join(dir, 'up.bin'), 's3://photos/cli/up.bin');
  await aws('s3', 'cp', 's3://photos/cli/up.bin', join(dir, 'down.bin'));
  t.true((await readFile(join(dir, 'down.bin'))).equals(big.subarray(0, 3 * 1024 * 1024)));
  t.regex((await aws('s3', 'ls', 's3://photos/cli/')).stdout, /3145728 up\.bin/);
  const headCli = JSON.parse((await aws('s3api', 'head-object', '--bucket', 'photos', '--key', 'cli/up.bin')).stdout) as { ContentLength: number };
  t.is(headCli.ContentLength, 3 * 1024 * 1024);
});
