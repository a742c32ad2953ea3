// Goal: a client that disconnects in the middle of an upload leaves nothing visible: after a PutObject whose body stops
// part-way (the socket destroyed), the key does not exist (HeadObject 404, not listed), no hidden temporary file is
// left in the directory (seen through NFS, which hides nothing), and the gateway goes on serving; the same for an
// UploadPart cut off mid-body (no part listed, the upload still completes with a whole part).
// Method: three `shoal node run` processes, one `shoal gateway run --s3 --nfs` process, a presigned URL (so that a
// raw node:http request is authenticated) sent with Content-Length of 8 MiB and 3 MiB of body before the socket is
// destroyed; @aws-sdk/client-s3 and libnfs's nfs-ls to look afterwards. The cleanup is awaited by polling (no timing).
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { promisify } from 'node:util';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { hasLibnfs, nfsUrl } from '../gateway/gateway-process.js';
import { s3ErrorOf, startS3Cluster, type S3TestCluster } from './s3-test-cluster.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const DECLARED_BYTES = 8 * MiB;
const SENT_BYTES = 3 * MiB;
/** Polls for the gateway's cleanup after the disconnect (it runs when the server sees the socket close). */
const POLLS_MAX = 100;

let shared: S3TestCluster | undefined;
let s3: S3Client;

test.before(async () => {
  shared = await startS3Cluster({ gateways: 1 });
  s3 = shared.client(shared.gateways[0]!);
  await s3.send(new CreateBucketCommand({ Bucket: 'cut' }));
});

test.after.always(async () => {
  await shared?.stop();
});

/** Sends headers declaring DECLARED_BYTES and SENT_BYTES of body, waits until they are written, then destroys the socket. */
async function cutUpload(url: string, beforeCut: () => Promise<void> = async () => {}): Promise<void> {
  const req = request(url, { method: 'PUT', headers: { 'content-length': String(DECLARED_BYTES) } });
  const settled = new Promise<void>((resolve) => {
    req.on('error', () => resolve()); // the destroyed request's own error: expected
    req.on('response', (res) => { res.resume(); resolve(); });
    req.on('close', () => resolve());
  });
  const piece = randomBytes(256 * 1024);
  for (let sent = 0; sent < SENT_BYTES; sent += piece.length) {
    if (!req.write(piece)) await new Promise((resolve) => req.once('drain', resolve));
  }
  // Give the server the bytes already sent before the cut (it must see a partial body, not an empty one).
  await new Promise((resolve) => setTimeout(resolve, 200));
  await beforeCut();
  req.destroy();
  await settled;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < POLLS_MAX; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`still not true after ${POLLS_MAX} polls: ${what}`);
}

async function nfsNames(port: number, path: string): Promise<string[]> {
  const { stdout } = await run('nfs-ls', [nfsUrl(port, path)], { timeout: 30_000 });
  return stdout.trim().split('\n').filter((l) => l !== '').map((l) => l.split(/\s+/).pop() ?? '');
}

test.serial('a PutObject cut off mid-body leaves no key, no hidden file, and a gateway that still serves', async (t) => {
  const gateway = shared!.gateways[0]!;
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'cut', Key: 'cut.bin' }), { expiresIn: 300 });
  const libnfs = await hasLibnfs();
  let hiddenWhileUploading: string[] = [];
  await cutUpload(url, async () => {
    if (!libnfs) return;
    // The upload is under way: its hidden file is there (so the test would see one left behind).
    await until('the hidden file of the upload in progress', async () => (hiddenWhileUploading = await nfsNames(gateway.nfsPort, '/cut')).length > 0);
  });
  if (libnfs) t.true(hiddenWhileUploading.length === 1 && hiddenWhileUploading[0]!.startsWith('.shoal-put-'), hiddenWhileUploading.join(','));

  t.is((await s3ErrorOf(s3.send(new HeadObjectCommand({ Bucket: 'cut', Key: 'cut.bin' })))).$metadata.httpStatusCode, 404);
  t.is((await s3.send(new ListObjectsV2Command({ Bucket: 'cut' }))).KeyCount, 0);
  if (libnfs) {
    // The gateway removes the hidden file when the body fails.
    await until('no hidden temporary file in the volume root', async () => (await nfsNames(gateway.nfsPort, '/cut')).length === 0);
    t.deepEqual(await nfsNames(gateway.nfsPort, '/cut'), []);
  } else {
    t.log('libnfs-utils is not installed: the hidden-file check through NFS is skipped');
  }

  // The gateway still serves, on the same key too.
  const whole = randomBytes(MiB);
  await s3.send(new PutObjectCommand({ Bucket: 'cut', Key: 'cut.bin', Body: whole }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'cut', Key: 'cut.bin' }));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(whole));
});

test.serial('an UploadPart cut off mid-body leaves no part, and the upload still completes', async (t) => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'cut', Key: 'parts.bin' }));
  const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket: 'cut', Key: 'parts.bin', UploadId, PartNumber: 1 }), { expiresIn: 300 });
  await cutUpload(url);
  await until('no part listed', async () => ((await s3.send(new ListPartsCommand({ Bucket: 'cut', Key: 'parts.bin', UploadId }))).Parts ?? []).length === 0);
  t.deepEqual((await s3.send(new ListPartsCommand({ Bucket: 'cut', Key: 'parts.bin', UploadId }))).Parts ?? [], []);
  t.is((await s3ErrorOf(s3.send(new HeadObjectCommand({ Bucket: 'cut', Key: 'parts.bin' })))).$metadata.httpStatusCode, 404);

  const part = randomBytes(MiB);
  const p1 = await s3.send(new UploadPartCommand({ Bucket: 'cut', Key: 'parts.bin', UploadId, PartNumber: 1, Body: part }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'cut', Key: 'parts.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag as string }] } }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'cut', Key: 'parts.bin' }));
  t.true(Buffer.from(await got.Body!.transformToByteArray()).equals(part));
});
