// Goal: s3cmd and rclone (Debian bookworm's: s3cmd 2.3.0, rclone 1.60) work against a real gateway: make a bucket,
// put a small file and a multipart one, get them back identical, list, sync a small tree up and back down (identical,
// and a second sync has nothing to do), delete single keys and whole prefixes, remove the bucket. Method: three
// `shoal node run` processes and one `shoal gateway run --s3 0`; each client configured by a temporary config file and
// flags only (HOME points at a temporary directory, so nothing is written to the user's home); byte-for-byte
// comparison of what comes back.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { commandExists, runClient, startS3Endpoint, type RunResult, type S3Endpoint } from './s3-clients-harness.js';

const MiB = 1024 * 1024;

/** A small tree: nested directories, an empty file, a name with a space and one with a plus sign. */
function makeTree(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 24; i++) files.set(`d${i % 3}/sub${i % 2}/f${i}.txt`, randomBytes(i === 5 ? 0 : 50 + i * 997));
  files.set('top.txt', Buffer.from('top of the tree\n'));
  files.set('d0/with space.txt', Buffer.from('a key with a space\n'));
  files.set('d1/plus+sign.txt', Buffer.from('a key with a plus\n'));
  return files;
}

async function writeTree(root: string, files: Map<string, Buffer>): Promise<void> {
  for (const [path, data] of files) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), data);
  }
}

async function readTree(root: string): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.set(relative(root, path), await readFile(path));
  }
  return found;
}

function sameTree(expected: Map<string, Buffer>, actual: Map<string, Buffer>): string[] {
  const problems: string[] = [];
  for (const [path, data] of expected) {
    const got = actual.get(path);
    if (got === undefined) problems.push(`missing ${path}`);
    else if (!got.equals(data)) problems.push(`differs ${path} (${got.length} bytes, expected ${data.length})`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`extra ${path}`);
  return problems;
}

const ok = (result: RunResult): string => {
  if (result.code !== 0) throw new Error(`exit ${result.code}\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
};

let endpoint: S3Endpoint | undefined;
const clients = { s3cmd: false, rclone: false };

test.before(async () => {
  clients.s3cmd = await commandExists('s3cmd');
  clients.rclone = await commandExists('rclone');
  if (clients.s3cmd || clients.rclone) endpoint = await startS3Endpoint();
});

test.after.always(async () => {
  await endpoint?.stop();
});

test.serial('s3cmd: mb, put (single and multipart), get, ls, sync up and back, del, rb', async (t) => {
  if (!clients.s3cmd || endpoint === undefined) {
    t.log('s3cmd is missing (apt-get install s3cmd): skipped');
    t.pass();
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'shoal-s3cmd-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const config = join(work, 's3cfg');
  // host_bucket without %(bucket)s makes s3cmd address buckets by path.
  await writeFile(config, [
    '[default]', `access_key = ${endpoint.accessKeyId}`, `secret_key = ${endpoint.secretAccessKey}`,
    `host_base = ${endpoint.host}`, `host_bucket = ${endpoint.host}`, 'use_https = False', 'signature_v2 = False',
    'bucket_location = us-east-1', 'progress_meter = False', '',
  ].join('\n'));
  const env = { ...process.env, HOME: work };
  const s3cmd = (...args: string[]): Promise<RunResult> => runClient('s3cmd', ['-c', config, '--host', endpoint?.host ?? '', '--host-bucket', endpoint?.host ?? '', '--no-ssl', ...args], { env });

  ok(await s3cmd('mb', 's3://s3cmd'));
  t.regex(ok(await s3cmd('ls')), /s3:\/\/s3cmd/);

  const small = randomBytes(100_000);
  const big = randomBytes(12 * MiB);
  await writeFile(join(work, 'small.bin'), small);
  await writeFile(join(work, 'big.bin'), big);
  ok(await s3cmd('put', join(work, 'small.bin'), 's3://s3cmd/one/small.bin'));
  // 5 MiB parts: three of them, so s3cmd's multipart path (and its ETag check) runs.
  ok(await s3cmd('put', '--multipart-chunk-size-mb=5', join(work, 'big.bin'), 's3://s3cmd/one/big.bin'));
  ok(await s3cmd('get', 's3://s3cmd/one/small.bin', join(work, 'small.back')));
  ok(await s3cmd('get', 's3://s3cmd/one/big.bin', join(work, 'big.back')));
  t.true((await readFile(join(work, 'small.back'))).equals(small));
  t.true((await readFile(join(work, 'big.back'))).equals(big));
  const info = ok(await s3cmd('info', 's3://s3cmd/one/small.bin'));
  t.regex(info, /File size:\s+100000/);

  const listing = ok(await s3cmd('ls', 's3://s3cmd/one/'));
  t.regex(listing, /\s100000\s+s3:\/\/s3cmd\/one\/small\.bin/);
  t.regex(listing, new RegExp(`\\s${12 * MiB}\\s+s3://s3cmd/one/big\\.bin`));

  const files = makeTree();
  await writeTree(join(work, 'tree'), files);
  ok(await s3cmd('sync', `${join(work, 'tree')}/`, 's3://s3cmd/tree/'));
  const recursive = ok(await s3cmd('ls', '--recursive', 's3://s3cmd/tree/')).trim().split('\n');
  t.is(recursive.length, files.size);
  t.true(recursive.some((l) => l.endsWith('s3://s3cmd/tree/d0/with space.txt')));
  ok(await s3cmd('sync', 's3://s3cmd/tree/', `${join(work, 'back')}/`));
  t.deepEqual(sameTree(files, await readTree(join(work, 'back'))), []);
  // Nothing changed, so a second sync up uploads nothing.
  t.notRegex(ok(await s3cmd('sync', `${join(work, 'tree')}/`, 's3://s3cmd/tree/')), /upload:/);

  ok(await s3cmd('del', 's3://s3cmd/one/small.bin'));
  t.not(ok(await s3cmd('ls', 's3://s3cmd/one/')).includes('small.bin'), true);
  const missing = await s3cmd('get', 's3://s3cmd/one/small.bin', join(work, 'gone'));
  t.not(missing.code, 0);
  t.regex(missing.stderr, /404|NoSuchKey|does not exist/i);
  ok(await s3cmd('del', '--recursive', '--force', 's3://s3cmd/'));
  t.is(ok(await s3cmd('ls', '--recursive', 's3://s3cmd/')).trim(), '');
  ok(await s3cmd('rb', 's3://s3cmd'));
  t.notRegex(ok(await s3cmd('ls')), /s3:\/\/s3cmd/);
});

test.serial('rclone: mkdir, copyto (single and multipart), ls, sync up and back, check, deletefile, purge', async (t) => {
  if (!clients.rclone || endpoint === undefined) {
    t.log('rclone is missing (apt-get install rclone): skipped');
    t.pass();
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'shoal-rclone-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const config = join(work, 'rclone.conf');
  await writeFile(config, [
    '[shoal]', 'type = s3', 'provider = Other', `access_key_id = ${endpoint.accessKeyId}`, `secret_access_key = ${endpoint.secretAccessKey}`,
    `endpoint = ${endpoint.url}`, 'force_path_style = true', 'region = us-east-1', '',
  ].join('\n'));
  // AWS_CA_BUNDLE makes rclone's S3 backend fail every call on an http endpoint (see MACHINE.md).
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: work };
  delete env['AWS_CA_BUNDLE'];
  const rclone = (...args: string[]): Promise<RunResult> => runClient('rclone', ['--config', config, '--cache-dir', join(work, 'cache'), '--retries', '1', '--low-level-retries', '2', ...args], { env });

  ok(await rclone('mkdir', 'shoal:rclone'));
  t.regex(ok(await rclone('lsd', 'shoal:')), /\srclone$/m);

  const small = randomBytes(100_000);
  const big = randomBytes(12 * MiB);
  await writeFile(join(work, 'small.bin'), small);
  await writeFile(join(work, 'big.bin'), big);
  ok(await rclone('copyto', join(work, 'small.bin'), 'shoal:rclone/one/small.bin'));
  // Above the 5 MiB cutoff rclone uploads in 5 MiB parts.
  ok(await rclone('copyto', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', join(work, 'big.bin'), 'shoal:rclone/one/big.bin'));
  ok(await rclone('copyto', 'shoal:rclone/one/small.bin', join(work, 'small.back')));
  ok(await rclone('copyto', 'shoal:rclone/one/big.bin', join(work, 'big.back')));
  t.true((await readFile(join(work, 'small.back'))).equals(small));
  t.true((await readFile(join(work, 'big.back'))).equals(big));
  const listing = ok(await rclone('ls', 'shoal:rclone/one'));
  t.regex(listing, /^\s*100000 small\.bin$/m);
  t.regex(listing, new RegExp(`^\\s*${12 * MiB} big\\.bin$`, 'm'));

  const files = makeTree();
  await writeTree(join(work, 'tree'), files);
  ok(await rclone('sync', join(work, 'tree'), 'shoal:rclone/tree'));
  t.is(ok(await rclone('lsf', '-R', '--files-only', 'shoal:rclone/tree')).trim().split('\n').length, files.size);
  // check compares sizes and MD5s (the ETags) of every file on both sides.
  ok(await rclone('check', join(work, 'tree'), 'shoal:rclone/tree'));
  ok(await rclone('sync', 'shoal:rclone/tree', join(work, 'back')));
  t.deepEqual(sameTree(files, await readTree(join(work, 'back'))), []);
  // Nothing changed: a second sync transfers nothing.
  const again = await rclone('sync', '-v', join(work, 'tree'), 'shoal:rclone/tree');
  ok(again);
  t.regex(again.stderr, /There was nothing to transfer/);

  ok(await rclone('deletefile', 'shoal:rclone/one/small.bin'));
  t.false(ok(await rclone('lsf', 'shoal:rclone/one')).includes('small.bin'));
  // rclone takes a missing key for an empty directory when reading, so ask it to delete the key again instead: its
  // HEAD gets a 404 and it reports the key missing.
  const missing = await rclone('deletefile', 'shoal:rclone/one/small.bin');
  t.not(missing.code, 0);
  t.regex(missing.stderr, /doesn't exist/);
  ok(await rclone('delete', 'shoal:rclone/tree'));
  t.is(ok(await rclone('lsf', '-R', '--files-only', 'shoal:rclone/tree')).trim(), '');
  ok(await rclone('purge', 'shoal:rclone'));
  t.notRegex(ok(await rclone('lsd', 'shoal:')), /\srclone$/m);
});
