// Goal: S3 served by a real `shoal gateway run --s3` process with keys kept in the cluster: awscli 2 copies a 20 MiB
// file (multipart at its 8 MiB threshold) up and down, syncs a tree up and back, lists recursively and with
// list-objects-v2 pagination, removes recursively; a key made by `shoal key create` after the gateway started works at
// once and a wrong one is refused; a multipart upload begun through one gateway is continued and completed through
// another (AWS SDK). Method: `shoal node run` ×3, two `shoal gateway run --s3 0` processes, /usr/bin/aws as a child
// process (AWS_CA_BUNDLE='' so that it talks http), byte-for-byte comparison of what comes back.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { s3PortOf, startGateway, shoal, type GatewayProcess } from '../gateway/gateway-process.js';
import { TestCluster } from '../harness/spawn-cluster.js';

const run = promisify(execFile);
const AWS_CLI = '/usr/bin/aws';
/** The issue asks for 1,000; the tree sync runs in well under a minute at that size here. */
const TREE_FILES = 1000;
const MiB = 1024 * 1024;


async function errorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof S3ServiceException) return err;
    throw err;
  }
  throw new Error('expected an S3 error');
}

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

interface Context {
  cluster: TestCluster;
  gatewayA: GatewayProcess;
  gatewayB: GatewayProcess;
  endpointA: string;
  endpointB: string;
  key: { accessKeyId: string; secretAccessKey: string; user: string };
  env: NodeJS.ProcessEnv;
}

const skip = !existsSync(AWS_CLI);
let shared: Context | undefined;

test.before(async () => {
  if (skip) return;
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  const gatewayA = await startGateway(cluster, { name: 'gateway-a', extraArgs: ['--s3', '0', '--s3-domain', 's3.example.com'] });
  const gatewayB = await startGateway(cluster, { name: 'gateway-b', extraArgs: ['--s3', '0'] });
  // A key made after the gateways started: the first request naming it makes the gateway read the keys again.
  const key = JSON.parse(await shoal(cluster, 'key', 'create', '--user', 'alice', '--json')) as Context['key'];
  const env = {
    ...process.env, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1', AWS_CA_BUNDLE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '',
  };
  shared = {
    cluster, gatewayA, gatewayB, key, env,
    endpointA: `http://127.0.0.1:${s3PortOf(gatewayA)}`, endpointB: `http://127.0.0.1:${s3PortOf(gatewayB)}`,
  };
});

test.after.always(async () => {
  if (shared === undefined) return;
  await shared.gatewayA.kill();
  await shared.gatewayB.kill();
  await shared.cluster.stop();
});

test.serial('awscli: keys from `shoal key create`, cp of 20 MiB (multipart), sync, ls, list-objects-v2 pages, rm', async (t) => {
  if (shared === undefined) {
    t.log(`${AWS_CLI} is missing (apt-get install awscli): skipped`);
    t.pass();
    return;
  }
  const { cluster, endpointA, env, key: created } = shared;
  t.regex(created.accessKeyId, /^SK[A-Z2-7]{18}$/);
  t.true((await shoal(cluster, 'key', 'list')).includes(`${created.accessKeyId}  alice`));
  const aws = async (...args: string[]): Promise<string> => (await run(AWS_CLI, ['--endpoint-url', endpointA, ...args], { env, maxBuffer: 64 * MiB, timeout: 120_000 })).stdout;
  await aws('s3', 'mb', 's3://data');

  // Wrong secret, unknown key id: refused with the codes AWS uses.
  const wrongSecret = await run(AWS_CLI, ['--endpoint-url', endpointA, 's3', 'ls', 's3://data'], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' } }).then(() => '', (err: { stderr: string }) => err.stderr);
  t.regex(wrongSecret, /SignatureDoesNotMatch/);
  const unknownId = await run(AWS_CLI, ['--endpoint-url', endpointA, 's3', 'ls', 's3://data'], { env: { ...env, AWS_ACCESS_KEY_ID: 'SKNOSUCHKEY000000000' } }).then(() => '', (err: { stderr: string }) => err.stderr);
  t.regex(unknownId, /InvalidAccessKeyId/);

  const work = await mkdtemp(join(tmpdir(), 'shoal-s3-cli-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));

  // 20 MiB: awscli splits it into 8 MiB parts (3), so the ETag is the multipart one.
  const big = randomBytes(20 * MiB);
  await writeFile(join(work, 'big.bin'), big);
  let started = Date.now();
  await aws('s3', 'cp', join(work, 'big.bin'), 's3://data/big/big.bin');
  const upMs = Date.now() - started;
  const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'data', '--key', 'big/big.bin')) as { ETag: string; ContentLength: number };
  t.is(head.ContentLength, big.length);
  const partMd5s = [0, 1, 2].map((i) => createHash('md5').update(big.subarray(i * 8 * MiB, Math.min(big.length, (i + 1) * 8 * MiB))).digest());
  t.is(head.ETag, `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-3"`);
  started = Date.now();
  await aws('s3', 'cp', 's3://data/big/big.bin', join(work, 'big.back'));
  const downMs = Date.now() - started;
  t.true((await readFile(join(work, 'big.back'))).equals(big));
  t.log(`20 MiB: up ${upMs} ms (${(20 / (upMs / 1000)).toFixed(1)} MiB/s), down ${downMs} ms (${(20 / (downMs / 1000)).toFixed(1)} MiB/s)`);

  // A tree of TREE_FILES files in 10 directories, synced up and back down.
  const tree = join(work, 'tree');
  const files = new Map<string, Buffer>();
  for (let i = 0; i < TREE_FILES; i++) files.set(`d${i % 10}/f${String(i).padStart(4, '0')}.txt`, randomBytes(i % 7 === 0 ? 0 : 100 + (i * 37) % 3000));
  for (const [path, data] of files) {
    await mkdir(join(tree, path, '..'), { recursive: true });
    await writeFile(join(tree, path), data);
  }
  started = Date.now();
  await aws('s3', 'sync', tree, 's3://data/tree');
  const syncUpMs = Date.now() - started;
  started = Date.now();
  await aws('s3', 'sync', 's3://data/tree', join(work, 'tree.back'));
  const syncDownMs = Date.now() - started;
  t.log(`sync of ${TREE_FILES} files: up ${syncUpMs} ms, down ${syncDownMs} ms`);
  let same = 0;
  for (const [path, data] of files) if ((await readFile(join(work, 'tree.back', path))).equals(data)) same++;
  t.is(same, files.size);
  // A second sync up finds nothing to do.
  t.is((await aws('s3', 'sync', tree, 's3://data/tree')).trim(), '');

  const listed = (await aws('s3', 'ls', '--recursive', 's3://data/')).trim().split('\n');
  t.is(listed.length, TREE_FILES + 1);
  t.true(listed.some((l) => l.endsWith(' tree/d3/f0003.txt')));

  // list-objects-v2 pagination: pages of 100 under the hood, 250 items at a time.
  const page1 = JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', 'data', '--prefix', 'tree/', '--page-size', '100', '--max-items', '250')) as { Contents: { Key: string }[]; NextToken?: string };
  t.is(page1.Contents.length, 250);
  t.truthy(page1.NextToken);
  const page2 = JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', 'data', '--prefix', 'tree/', '--page-size', '100', '--max-items', '250', '--starting-token', page1.NextToken ?? '')) as { Contents: { Key: string }[] };
  t.is(page2.Contents.length, 250);
  const sortedKeys = [...files.keys()].map((k) => `tree/${k}`).sort();
  t.deepEqual([...page1.Contents, ...page2.Contents].map((c) => c.Key), sortedKeys.slice(0, 500));

  await aws('s3', 'rm', '--recursive', 's3://data/tree/');
  t.deepEqual((await aws('s3', 'ls', '--recursive', 's3://data/')).trim().split('\n').map((l) => l.split(/\s+/).pop()), ['big/big.bin']);

});

test.serial('AWS SDK: a multipart upload begun through one gateway, continued and completed through another', async (t) => {
  if (shared === undefined) {
    t.pass();
    return;
  }
  const { endpointA, endpointB, key: created, gatewayA } = shared;
  const sdk = (endpoint: string): S3Client => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey } });
  const a = sdk(endpointA);
  const b = sdk(endpointB);
  t.teardown(() => { a.destroy(); b.destroy(); });
  const big = randomBytes(2 * MiB);
  await a.send(new CreateBucketCommand({ Bucket: 'source' }));
  await a.send(new PutObjectCommand({ Bucket: 'source', Key: 'big/big.bin', Body: big }));
  await a.send(new CreateBucketCommand({ Bucket: 'parts' }));
  const part1 = randomBytes(5 * MiB);
  const part2 = randomBytes(5 * MiB);
  const { UploadId } = await a.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'x/joined.bin', ContentType: 'application/x-joined', Metadata: { source: 'two-gateways' } }));
  t.regex(UploadId ?? '', /^[0-9a-f]{32}$/);
  const uploadId = UploadId as string;
  const p1 = await a.send(new UploadPartCommand({ Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId, PartNumber: 1, Body: part1 }));
  t.is(p1.ETag, `"${md5(part1)}"`);
  const p2 = await b.send(new UploadPartCommand({ Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId, PartNumber: 2, Body: part2 }));
  // Part 3 copied from the 20 MiB object's first 1 MiB (UploadPartCopy with a range), through B.
  const p3 = await b.send(new UploadPartCopyCommand({ Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId, PartNumber: 3, CopySource: 'source/big/big.bin', CopySourceRange: `bytes=0-${MiB - 1}` }));
  t.is(p3.CopyPartResult?.ETag, `"${md5(big.subarray(0, MiB))}"`);
  const parts = await b.send(new ListPartsCommand({ Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId }));
  t.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, 5 * MiB], [2, 5 * MiB], [3, MiB]]);
  const uploads = await a.send(new ListMultipartUploadsCommand({ Bucket: 'parts' }));
  t.deepEqual(uploads.Uploads?.map((u) => [u.Key, u.UploadId]), [['x/joined.bin', uploadId]]);
  // The upload is not an object yet, and its directory does not show in listings.
  t.is((await a.send(new ListObjectsV2Command({ Bucket: 'parts' }))).KeyCount, 0);
  t.is((await errorOf(b.send(new CompleteMultipartUploadCommand({
    Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.ETag as string }, { PartNumber: 1, ETag: p1.ETag as string }] },
  })))).name, 'InvalidPartOrder');
  t.is((await errorOf(b.send(new CompleteMultipartUploadCommand({
    Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: `"${md5(part2)}"` }] },
  })))).name, 'InvalidPart');
  const done = await b.send(new CompleteMultipartUploadCommand({
    Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId,
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag as string }, { PartNumber: 2, ETag: p2.ETag as string }, { PartNumber: 3, ETag: p3.CopyPartResult?.ETag as string }] },
  }));
  const expectedEtag = `"${createHash('md5').update(Buffer.concat([part1, part2, big.subarray(0, MiB)].map((p) => createHash('md5').update(p).digest()))).digest('hex')}-3"`;
  t.is(done.ETag, expectedEtag);
  const got = await a.send(new GetObjectCommand({ Bucket: 'parts', Key: 'x/joined.bin' }));
  t.is(got.ETag, expectedEtag);
  t.is(got.ContentType, 'application/x-joined');
  t.deepEqual(got.Metadata, { source: 'two-gateways' });
  t.true(Buffer.from(await got.Body?.transformToByteArray() ?? []).equals(Buffer.concat([part1, part2, big.subarray(0, MiB)])));
  t.is((await errorOf(a.send(new ListPartsCommand({ Bucket: 'parts', Key: 'x/joined.bin', UploadId: uploadId })))).name, 'NoSuchUpload');
  t.deepEqual((await a.send(new ListMultipartUploadsCommand({ Bucket: 'parts' }))).Uploads ?? [], []);

  // Abort: begun on B, aborted on A; the upload is gone everywhere and no object appears.
  const aborted = (await b.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'gone.bin' }))).UploadId as string;
  await b.send(new UploadPartCommand({ Bucket: 'parts', Key: 'gone.bin', UploadId: aborted, PartNumber: 1, Body: randomBytes(1000) }));
  await a.send(new AbortMultipartUploadCommand({ Bucket: 'parts', Key: 'gone.bin', UploadId: aborted }));
  t.is((await errorOf(b.send(new UploadPartCommand({ Bucket: 'parts', Key: 'gone.bin', UploadId: aborted, PartNumber: 2, Body: 'late' })))).name, 'NoSuchUpload');
  t.is((await errorOf(a.send(new GetObjectCommand({ Bucket: 'parts', Key: 'gone.bin' })))).name, 'NoSuchKey');
  // The uploads directory is reserved: no key may name it.
  t.is((await errorOf(a.send(new PutObjectCommand({ Bucket: 'parts', Key: '.shoal-uploads/x', Body: 'no' })))).name, 'InvalidArgument');

  // Virtual-host style on gateway A (--s3-domain s3.example.com): the bucket comes from the Host header.
  // Unsigned, so refused, but the error's Resource shows how the request was routed.
  const vhost = await new Promise<{ status: number; body: string }>((resolvePromise, reject) => {
    request({ host: '127.0.0.1', port: s3PortOf(gatewayA), path: '/big/big.bin', headers: { host: 'source.s3.example.com' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
  t.is(vhost.status, 403);
  t.regex(vhost.body, /<Resource>\/source\/big\/big\.bin<\/Resource>/);
  t.is(await gatewayA.stop(), 0);
  t.is(await shared.gatewayB.stop(), 0);
});
