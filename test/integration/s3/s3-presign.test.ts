// Goal: `shoal presign` prints URLs that curl can use: GET returns the object, PUT stores one; a URL past its --expires
// is refused with S3's AccessDenied "Request has expired"; a changed signature is refused; the key can come from flags
// or from the cluster; bad s3:// URLs and flags get one clear line and exit code 2. Method: three `shoal node run`
// processes and a `shoal gateway run --s3 0`, `shoal presign` and curl as child processes, the AWS SDK to set up and
// check objects.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SHOAL_BIN } from '../gateway/gateway-process.js';
import { commandExists, runClient, startS3Endpoint, type RunResult, type S3Endpoint } from './s3-clients-harness.js';

let endpoint: S3Endpoint | undefined;
let s3: S3Client | undefined;
let hasCurl = false;

test.before(async () => {
  hasCurl = await commandExists('curl');
  endpoint = await startS3Endpoint();
  s3 = new S3Client({ endpoint: endpoint.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey } });
  await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
});

test.after.always(async () => {
  s3?.destroy();
  await endpoint?.stop();
});

const presign = (...args: string[]): Promise<RunResult> => runClient(process.execPath, [SHOAL_BIN, 'presign', ...args], { timeoutMs: 60_000 });

function withKeyFlags(e: S3Endpoint, ...args: string[]): string[] {
  return [...args, '--endpoint', e.url, '--access-key', e.accessKeyId, '--secret-key', e.secretAccessKey];
}

/** curl's body and status (it exits 0 on HTTP errors without --fail). */
async function curl(...args: string[]): Promise<{ status: number; body: string }> {
  const result = await runClient('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  if (result.code !== 0) throw new Error(`curl failed: ${result.stderr}`);
  const at = result.stdout.lastIndexOf('\n');
  return { body: result.stdout.slice(0, at), status: Number(result.stdout.slice(at + 1)) };
}

function urlOf(result: RunResult): string {
  if (result.code !== 0) throw new Error(`shoal presign exited ${result.code}: ${result.stderr}`);
  const url = result.stdout.trim();
  if (!url.startsWith('http://')) throw new Error(`not a URL: ${url}`);
  return url;
}

test.serial('a presigned GET fetched with curl returns the object; a changed signature is refused', async (t) => {
  if (!hasCurl || endpoint === undefined || s3 === undefined) {
    t.log('curl is missing: skipped');
    t.pass();
    return;
  }
  const body = randomBytes(3000).toString('base64');
  await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'docs/report one.txt', Body: body }));
  const url = urlOf(await presign(...withKeyFlags(endpoint, 's3://shared/docs/report one.txt')));
  t.regex(url, /X-Amz-Expires=3600/);
  t.deepEqual(await curl(url), { status: 200, body });

  const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  const refused = await curl(tampered);
  t.is(refused.status, 403);
  t.regex(refused.body, /<Code>SignatureDoesNotMatch<\/Code>/);
});

test.serial('a presigned PUT lets curl upload; the key is read from the cluster when not given', async (t) => {
  if (!hasCurl || endpoint === undefined || s3 === undefined) {
    t.pass();
    return;
  }
  const fromCluster = ['--endpoint', endpoint.url, '--dir', endpoint.cluster.clusterDir, '--node', endpoint.cluster.nodes[0]?.address ?? ''];
  const url = urlOf(await presign('s3://shared/uploads/by-curl.bin', '--method', 'PUT', '--user', 'clients', ...fromCluster));
  t.true(url.includes(`X-Amz-Credential=${endpoint.accessKeyId}`));
  const body = randomBytes(50_000).toString('hex');
  t.is((await curl('-X', 'PUT', '--data-binary', body, url)).status, 200);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'uploads/by-curl.bin' }));
  t.is(await got.Body?.transformToString(), body);
  // The same URL does not allow a GET: the method is part of the signature.
  t.is((await curl(url)).status, 403);
  // By access key id alone, the secret read from the cluster.
  const byId = urlOf(await presign('s3://shared/uploads/by-curl.bin', '--access-key', endpoint.accessKeyId, ...fromCluster));
  t.deepEqual(await curl(byId), { status: 200, body });
  const noUser = await presign('s3://shared/x', '--user', 'nobody', ...fromCluster);
  t.is(noUser.code, 2);
  t.regex(noUser.stderr, /user "nobody" has no access key: make one with `shoal key create --user nobody`/);
});

test.serial('a presigned URL past --expires gets 403 AccessDenied "Request has expired"', async (t) => {
  if (!hasCurl || endpoint === undefined || s3 === undefined) {
    t.pass();
    return;
  }
  await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'short-lived.txt', Body: 'soon gone' }));
  const url = urlOf(await presign(...withKeyFlags(endpoint, 's3://shared/short-lived.txt', '--expires', '1')));
  t.regex(url, /X-Amz-Expires=1&/);
  // X-Amz-Date has whole seconds, so "1 s" ends between 1 and 2 s after signing: wait past 2 s.
  await new Promise((done) => setTimeout(done, 2200));
  const expired = await curl(url);
  t.is(expired.status, 403);
  t.regex(expired.body, /<Code>AccessDenied<\/Code>/);
  t.regex(expired.body, /<Message>Request has expired<\/Message>/);
});

test('bad s3:// URLs and flags: one clear line, exit code 2', async (t) => {
  if (endpoint === undefined) {
    t.pass();
    return;
  }
  const cases: Array<[string[], RegExp]> = [
    [['shared/key'], /"shared\/key" is not an S3 URL: write s3:\/\/BUCKET\/KEY/],
    [['s3://shared'], /s3:\/\/shared names no object: write s3:\/\/shared\/KEY/],
    [['s3://shared/'], /s3:\/\/shared\/ names no object/],
    [['s3://Not_A_Bucket/key'], /"Not_A_Bucket" in s3:\/\/Not_A_Bucket\/key is not a bucket name/],
    [['http://127.0.0.1/shared/key'], /is not an S3 URL/],
    [['s3://shared/key', '--expires', '0'], /--expires "0": give whole seconds from 1 to 604800/],
    [['s3://shared/key', '--expires', '1h'], /--expires "1h"/],
    [['s3://shared/key', '--method', 'DELETE'], /--method "DELETE": GET or PUT/],
    [['s3://shared/key', '--endpoint', 'ftp://127.0.0.1'], /the scheme must be http or https/],
    [['s3://shared/key', '--endpoint', 'not a url'], /--endpoint "not a url" is not a URL/],
  ];
  for (const [args, message] of cases) {
    const result = await presign(...args, '--access-key', 'a', '--secret-key', 'b', ...(args.includes('--endpoint') ? [] : ['--endpoint', endpoint.url]));
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, message, args.join(' '));
    t.is(result.stdout, '', args.join(' '));
  }
  const noEndpoint = await runClient(process.execPath, [SHOAL_BIN, 'presign', 's3://shared/key', '--access-key', 'a', '--secret-key', 'b'], { env: { ...process.env, SHOAL_S3_ENDPOINT: '' } });
  t.is(noEndpoint.code, 2);
  t.regex(noEndpoint.stderr, /no S3 endpoint: pass --endpoint/);
});
