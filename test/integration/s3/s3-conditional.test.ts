// Goal: conditional writes are exact through per-block consensus. Of 50 concurrent PutObject with If-None-Match: * on
// one key, split across two gateway processes, exactly one succeeds and 49 get 412, and the key then holds the
// winner's body and ETag; of 20 concurrent PUTs with If-Match of the current ETag exactly one wins; CopyObject and
// CompleteMultipartUpload honour the same headers, and a failed conditional write leaves nothing visible.
// Method: three `shoal node run` processes, two `shoal gateway run --s3` processes, @aws-sdk/client-s3 with one attempt
// per request (a retried conditional PUT would be counted twice), bodies that differ per request.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3ErrorOf, startS3Cluster, type S3TestCluster } from './s3-test-cluster.js';

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');
const KiB = 1024;
const MiB = 1024 * KiB;

let shared: S3TestCluster | undefined;
let clients: [S3Client, S3Client];

test.before(async () => {
  shared = await startS3Cluster({ gateways: 2 });
  clients = [shared.client(shared.gateways[0]!), shared.client(shared.gateways[1]!)];
  await clients[0].send(new CreateBucketCommand({ Bucket: 'race' }));
});

test.after.always(async () => {
  await shared?.stop();
});

/** Each body distinct (its index first) and big enough (several chunks' worth of requests) for the PUTs to overlap. */
const bodyFor = (i: number): Buffer => Buffer.concat([Buffer.from(`body ${i}\n`), randomBytes(48 * KiB + i)]);

interface Outcome {
  readonly index: number;
  readonly status: number;
  readonly code?: string;
  readonly etag?: string;
}

async function putOutcome(client: S3Client, index: number, input: ConstructorParameters<typeof PutObjectCommand>[0]): Promise<Outcome> {
  try {
    const out = await client.send(new PutObjectCommand(input));
    return { index, status: out.$metadata.httpStatusCode ?? 0, ...(out.ETag === undefined ? {} : { etag: out.ETag }) };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { index, status: e.$metadata?.httpStatusCode ?? 0, code: e.name ?? String(err) };
  }
}

async function getBody(client: S3Client, bucket: string, key: string): Promise<{ body: Buffer; etag: string | undefined }> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), etag: out.ETag };
}

async function listedKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return ((await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((c) => c.Key ?? '');
}

test.serial('50 concurrent If-None-Match: * PUTs to one key through two gateways: exactly one 200, 49 × 412, the winner is stored', async (t) => {
  const bodies = Array.from({ length: 50 }, (_, i) => bodyFor(i));
  const outcomes = await Promise.all(bodies.map((body, i) => putOutcome(clients[i % 2]!, i, { Bucket: 'race', Key: 'once/key.bin', Body: body, IfNoneMatch: '*' })));
  const winners = outcomes.filter((o) => o.status === 200);
  const refused = outcomes.filter((o) => o.status === 412);
  t.is(winners.length, 1, JSON.stringify(outcomes.filter((o) => o.status !== 412)));
  t.is(refused.length, 49, JSON.stringify(outcomes.filter((o) => o.status !== 200 && o.status !== 412)));
  t.true(refused.every((o) => o.code === 'PreconditionFailed'));
  const winner = winners[0]!;
  t.is(winner.etag, `"${md5(bodies[winner.index]!)}"`);
  for (const client of clients) {
    const got = await getBody(client, 'race', 'once/key.bin');
    t.true(got.body.equals(bodies[winner.index]!), 'GET returns the winner\'s body');
    t.is(got.etag, winner.etag);
  }
  t.deepEqual(await listedKeys(clients[1], 'race', 'once/'), ['once/key.bin'], 'nothing of the 49 refused PUTs is listed');
  t.log(`winner: request ${winner.index} through gateway ${winner.index % 2}`);
});

test.serial('20 concurrent If-Match PUTs with the current ETag through two gateways: exactly one wins', async (t) => {
  const first = randomBytes(10 * KiB);
  const put = await clients[0].send(new PutObjectCommand({ Bucket: 'race', Key: 'match/key.bin', Body: first }));
  const current = put.ETag as string;
  const bodies = Array.from({ length: 20 }, (_, i) => bodyFor(100 + i));
  const outcomes = await Promise.all(bodies.map((body, i) => putOutcome(clients[i % 2]!, i, { Bucket: 'race', Key: 'match/key.bin', Body: body, IfMatch: current })));
  const winners = outcomes.filter((o) => o.status === 200);
  t.is(winners.length, 1, JSON.stringify(outcomes.filter((o) => o.status !== 412)));
  t.is(outcomes.filter((o) => o.status === 412).length, 19);
  const winner = winners[0]!;
  const got = await getBody(clients[1], 'race', 'match/key.bin');
  t.true(got.body.equals(bodies[winner.index]!));
  t.is(got.etag, winner.etag);
  // The old ETag no longer matches; a key that does not exist is NoSuchKey, as AWS answers.
  t.is((await s3ErrorOf(clients[0].send(new PutObjectCommand({ Bucket: 'race', Key: 'match/key.bin', Body: 'x', IfMatch: current })))).$metadata.httpStatusCode, 412);
  t.is((await s3ErrorOf(clients[0].send(new PutObjectCommand({ Bucket: 'race', Key: 'match/none.bin', Body: 'x', IfMatch: current })))).name, 'NoSuchKey');
  t.deepEqual(await listedKeys(clients[0], 'race', 'match/'), ['match/key.bin']);
});

test.serial('CopyObject with If-None-Match / If-Match on its target: 412 when the condition fails, the copy when it holds', async (t) => {
  const source = randomBytes(3 * KiB);
  await clients[0].send(new PutObjectCommand({ Bucket: 'race', Key: 'copy/source', Body: source }));
  const existing = await clients[0].send(new PutObjectCommand({ Bucket: 'race', Key: 'copy/target', Body: 'old' }));
  const refused = await s3ErrorOf(clients[1].send(new CopyObjectCommand({ Bucket: 'race', Key: 'copy/target', CopySource: 'race/copy/source', IfNoneMatch: '*' })));
  t.is(refused.$metadata.httpStatusCode, 412);
  t.is((await getBody(clients[0], 'race', 'copy/target')).body.toString(), 'old');
  const stale = await s3ErrorOf(clients[1].send(new CopyObjectCommand({ Bucket: 'race', Key: 'copy/target', CopySource: 'race/copy/source', IfMatch: `"${md5(Buffer.from('other'))}"` })));
  t.is(stale.$metadata.httpStatusCode, 412);
  await clients[1].send(new CopyObjectCommand({ Bucket: 'race', Key: 'copy/target', CopySource: 'race/copy/source', IfMatch: existing.ETag as string }));
  t.true((await getBody(clients[0], 'race', 'copy/target')).body.equals(source));
  await clients[1].send(new CopyObjectCommand({ Bucket: 'race', Key: 'copy/fresh', CopySource: 'race/copy/source', IfNoneMatch: '*' }));
  t.true((await getBody(clients[0], 'race', 'copy/fresh')).body.equals(source));
  t.deepEqual(await listedKeys(clients[0], 'race', 'copy/'), ['copy/fresh', 'copy/source', 'copy/target']);
});

test.serial('CompleteMultipartUpload with If-None-Match: * on an existing key: 412, the upload stays and completes unconditionally', async (t) => {
  await clients[0].send(new PutObjectCommand({ Bucket: 'race', Key: 'mpu/key.bin', Body: 'before' }));
  const { UploadId } = await clients[0].send(new CreateMultipartUploadCommand({ Bucket: 'race', Key: 'mpu/key.bin' }));
  const part = randomBytes(MiB);
  const p1 = await clients[1].send(new UploadPartCommand({ Bucket: 'race', Key: 'mpu/key.bin', UploadId, PartNumber: 1, Body: part }));
  const complete = (conditions: { IfNoneMatch?: string; IfMatch?: string }) => new CompleteMultipartUploadCommand({
    Bucket: 'race', Key: 'mpu/key.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag as string }] }, ...conditions,
  });
  t.is((await s3ErrorOf(clients[1].send(complete({ IfNoneMatch: '*' })))).$metadata.httpStatusCode, 412);
  t.is((await getBody(clients[0], 'race', 'mpu/key.bin')).body.toString(), 'before');
  t.is((await s3ErrorOf(clients[1].send(complete({ IfMatch: `"${md5(Buffer.from('not before'))}"` })))).$metadata.httpStatusCode, 412);
  const head = await clients[0].send(new HeadObjectCommand({ Bucket: 'race', Key: 'mpu/key.bin' }));
  const done = await clients[1].send(complete({ IfMatch: head.ETag as string }));
  t.regex(done.ETag ?? '', /-1"$/);
  t.true((await getBody(clients[0], 'race', 'mpu/key.bin')).body.equals(part));
});

test.serial('50 concurrent unconditional PUTs to one key through two gateways: all 200, the key holds one of them whole', async (t) => {
  const bodies = Array.from({ length: 50 }, (_, i) => bodyFor(200 + i));
  const outcomes = await Promise.all(bodies.map((body, i) => putOutcome(clients[i % 2]!, i, { Bucket: 'race', Key: 'plain/key.bin', Body: body })));
  t.deepEqual(outcomes.filter((o) => o.status !== 200), [], 'the last rename wins; none is refused');
  const got = await getBody(clients[0], 'race', 'plain/key.bin');
  const which = bodies.findIndex((b) => b.equals(got.body));
  t.true(which >= 0, 'the stored object is one PUT\'s body, whole');
  t.is(got.etag, `"${md5(got.body)}"`);
  t.deepEqual(await listedKeys(clients[1], 'race', 'plain/'), ['plain/key.bin']);
});
