// Goal: awscli 2 against a real gateway with a large object and the object-level s3api calls: `aws s3 cp` of a 1 GiB
// file up (multipart: 128 parts of 8 MiB, 10 at a time, awscli's defaults) and back down, identical; head-object;
// copy-object with the COPY and REPLACE metadata directives. Method: three `shoal node run` processes and one
// `shoal gateway run --s3 0`; /usr/bin/aws as a child process (AWS_CA_BUNDLE='' so that it talks http); the file is
// made from a seeded generator piece by piece (never a GiB in memory) with its SHA-256 and multipart ETag computed as
// it is written; the download is streamed from aws's stdout through SHA-256.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClient, startS3Endpoint, writeSeededFile, type S3Endpoint } from './s3-clients-harness.js';

const AWS_CLI = '/usr/bin/aws';
const MiB = 1024 * 1024;
const LARGE_BYTES = 1024 * MiB;
/** awscli's default multipart_chunksize. */
const CLI_PART_BYTES = 8 * MiB;

let endpoint: S3Endpoint | undefined;
let env: NodeJS.ProcessEnv = {};

test.before(async () => {
  if (!existsSync(AWS_CLI)) return;
  endpoint = await startS3Endpoint();
  env = {
    ...process.env, AWS_ACCESS_KEY_ID: endpoint.accessKeyId, AWS_SECRET_ACCESS_KEY: endpoint.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1', AWS_CA_BUNDLE: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '', AWS_CONFIG_FILE: '/dev/null',
  };
});

test.after.always(async () => {
  await endpoint?.stop();
});

async function aws(...args: string[]): Promise<string> {
  const result = await runClient(AWS_CLI, ['--endpoint-url', endpoint?.url ?? '', ...args], { env, timeoutMs: 20 * 60_000 });
  if (result.code !== 0) throw new Error(`aws ${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
  return result.stdout;
}

/** `aws s3 cp s3://… -`: the object streamed from aws's stdout through SHA-256, never on disk or whole in memory. */
async function streamedSha256(url: string): Promise<{ sha256: string; bytes: number }> {
  const child = spawn(AWS_CLI, ['--endpoint-url', endpoint?.url ?? '', 's3', 'cp', url, '-'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const hash = createHash('sha256');
  let bytes = 0;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  for await (const chunk of child.stdout) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  const code = await exited;
  if (code !== 0) throw new Error(`aws s3 cp ${url} -: exit ${code}\n${stderr}`);
  return { sha256: hash.digest('hex'), bytes };
}

test.serial('awscli s3api: head-object, copy-object with metadata directive COPY and REPLACE', async (t) => {
  if (endpoint === undefined) {
    t.log(`${AWS_CLI} is missing (apt-get install awscli): skipped`);
    t.pass();
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'shoal-s3api-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const body = Buffer.from('the original, with its headers\n');
  await writeFile(join(work, 'original.txt'), body);
  const md5 = createHash('md5').update(body).digest('hex');
  await aws('s3', 'mb', 's3://meta');
  await aws('s3', 'mb', 's3://other');
  const put = JSON.parse(await aws('s3api', 'put-object', '--bucket', 'meta', '--key', 'docs/original.txt', '--body', join(work, 'original.txt'),
    '--content-type', 'text/x-original', '--cache-control', 'max-age=60', '--content-disposition', 'inline', '--metadata', 'colour=blue,shape=round')) as { ETag: string };
  t.is(put.ETag, `"${md5}"`);

  interface Head { ContentLength: number; ContentType: string; ETag: string; Metadata: Record<string, string>; CacheControl?: string; ContentDisposition?: string; LastModified: string }
  const head = async (bucket: string, key: string): Promise<Head> => JSON.parse(await aws('s3api', 'head-object', '--bucket', bucket, '--key', key)) as Head;
  const original = await head('meta', 'docs/original.txt');
  t.like(original, { ContentLength: body.length, ContentType: 'text/x-original', ETag: `"${md5}"`, Metadata: { colour: 'blue', shape: 'round' }, CacheControl: 'max-age=60', ContentDisposition: 'inline' });
  const missing = await runClient(AWS_CLI, ['--endpoint-url', endpoint.url, 's3api', 'head-object', '--bucket', 'meta', '--key', 'docs/none.txt'], { env });
  t.not(missing.code, 0);
  t.regex(missing.stderr, /\(404\)/);

  // COPY (the default): the copy keeps the source's headers and metadata, whatever else the request says.
  const copied = JSON.parse(await aws('s3api', 'copy-object', '--bucket', 'other', '--key', 'copies/kept.txt', '--copy-source', 'meta/docs/original.txt',
    '--metadata-directive', 'COPY')) as { CopyObjectResult: { ETag: string; LastModified: string } };
  t.is(copied.CopyObjectResult.ETag, `"${md5}"`);
  t.like(await head('other', 'copies/kept.txt'), { ContentLength: body.length, ContentType: 'text/x-original', ETag: `"${md5}"`, Metadata: { colour: 'blue', shape: 'round' }, CacheControl: 'max-age=60' });

  // REPLACE: the request's headers and metadata replace the source's (those it does not give are gone).
  await aws('s3api', 'copy-object', '--bucket', 'meta', '--key', 'docs/replaced.txt', '--copy-source', 'meta/docs/original.txt',
    '--metadata-directive', 'REPLACE', '--content-type', 'text/x-replaced', '--metadata', 'colour=red');
  const replaced = await head('meta', 'docs/replaced.txt');
  t.like(replaced, { ContentLength: body.length, ContentType: 'text/x-replaced', ETag: `"${md5}"`, Metadata: { colour: 'red' } });
  t.is(replaced.CacheControl, undefined);

  // An object copied onto itself needs REPLACE (S3 refuses a copy that changes nothing).
  const ontoItself = await runClient(AWS_CLI, ['--endpoint-url', endpoint.url, 's3api', 'copy-object', '--bucket', 'meta', '--key', 'docs/original.txt', '--copy-source', 'meta/docs/original.txt'], { env });
  t.not(ontoItself.code, 0);
  t.regex(ontoItself.stderr, /InvalidRequest/);
  await aws('s3api', 'copy-object', '--bucket', 'meta', '--key', 'docs/original.txt', '--copy-source', 'meta/docs/original.txt', '--metadata-directive', 'REPLACE', '--metadata', 'colour=green');
  t.like(await head('meta', 'docs/original.txt'), { ETag: `"${md5}"`, Metadata: { colour: 'green' } });

  // A missing source: NoSuchKey.
  const noSource = await runClient(AWS_CLI, ['--endpoint-url', endpoint.url, 's3api', 'copy-object', '--bucket', 'meta', '--key', 'x', '--copy-source', 'meta/docs/none.txt'], { env });
  t.not(noSource.code, 0);
  t.regex(noSource.stderr, /NoSuchKey/);
});

test.serial('awscli: cp of a 1 GiB file up (multipart, 128 parts) and back down, identical', async (t) => {
  if (endpoint === undefined) {
    t.pass();
    return;
  }
  t.timeout(20 * 60_000, 'a GiB through three nodes on a shared two-core machine');
  const work = await mkdtemp(join(tmpdir(), 'shoal-s3-large-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const file = join(work, 'large.bin');
  let started = Date.now();
  const expected = await writeSeededFile(file, 'shoal s3-large 1 GiB', LARGE_BYTES, CLI_PART_BYTES);
  t.log(`generated 1 GiB in ${Date.now() - started} ms`);

  await aws('s3', 'mb', 's3://large');
  started = Date.now();
  await aws('s3', 'cp', '--only-show-errors', file, 's3://large/dir/large.bin');
  const upMs = Date.now() - started;
  const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'large', '--key', 'dir/large.bin')) as { ContentLength: number; ETag: string };
  t.is(head.ContentLength, LARGE_BYTES);
  t.is(head.ETag, `"${expected.multipartEtag}"`);
  t.regex(head.ETag, /-128"$/);

  started = Date.now();
  const back = await streamedSha256('s3://large/dir/large.bin');
  const downMs = Date.now() - started;
  t.is(back.bytes, LARGE_BYTES);
  t.is(back.sha256, expected.sha256);
  const rate = (ms: number): string => `${(1024 / (ms / 1000)).toFixed(1)} MiB/s`;
  t.log(`1 GiB: up ${upMs} ms (${rate(upMs)}), down ${downMs} ms (${rate(downMs)})`);
});
