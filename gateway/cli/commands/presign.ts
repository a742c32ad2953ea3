// `shoal presign s3://bucket/key`: prints a presigned URL (SigV4 in the query string) that lets whoever holds it GET or
// PUT one object until it expires, signed by @aws-sdk/s3-request-presigner with a key given as flags or read from the
// cluster (as `shoal key` does).
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Command } from 'commander';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { collect, DEFAULT_CLUSTER_DIR } from '../cli-context.js';
import { withKeys } from './key.js';

/** SigV4 presigned URLs live at most seven days (AWS's limit: X-Amz-Expires ≤ 604800). */
export const PRESIGN_EXPIRES_S_MAX = 7 * 24 * 3600;
const DEFAULT_USER = 'admin';
/** S3's bucket naming rules, as the gateway's volume names follow them: 3–63 of a-z 0-9 . - */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface PresignFlags {
  expires: string;
  method: string;
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  user: string;
  region: string;
  dir: string;
  node?: string[];
}

const invalid = (message: string): ShoalError => new ShoalError('Invalid', message, { subject: 'config' });

/** `s3://bucket/key` → its bucket and key; the key is taken as written (no percent-decoding), as awscli does. */
export function parseS3Url(text: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/s.exec(text);
  if (match === null) throw invalid(`"${text}" is not an S3 URL: write s3://BUCKET/KEY`);
  const [, bucket = '', key = ''] = match;
  if (!BUCKET_NAME.test(bucket)) throw invalid(`"${bucket}" in ${text} is not a bucket name: 3 to 63 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit`);
  if (key === '') throw invalid(`${text} names no object: write s3://${bucket}/KEY`);
  if (Buffer.byteLength(key) > 1024) throw invalid(`the key in ${text} is longer than S3's 1024 bytes`);
  return { bucket, key };
}

export function parseExpires(text: string): number {
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 1 || seconds > PRESIGN_EXPIRES_S_MAX) throw invalid(`--expires "${text}": give whole seconds from 1 to ${PRESIGN_EXPIRES_S_MAX} (seven days)`);
  return seconds;
}

function parseEndpoint(text: string | undefined): string {
  if (text === undefined || text === '') throw invalid('no S3 endpoint: pass --endpoint http://HOST:PORT (the gateway\'s S3 address, as `shoal cluster up` prints it) or set SHOAL_S3_ENDPOINT');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`--endpoint "${text}" is not a URL: write http://HOST:PORT`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`--endpoint "${text}": the scheme must be http or https`);
  return url.origin;
}

/** The key from the flags, or else from the cluster: the one with --access-key's id, or the first of --user. */
async function credentialsFor(flags: PresignFlags): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  if (flags.accessKey !== undefined && flags.secretKey !== undefined) return { accessKeyId: flags.accessKey, secretAccessKey: flags.secretKey };
  if (flags.accessKey === undefined && flags.secretKey !== undefined) throw invalid('--secret-key needs --access-key');
  const keys = await withKeys(flags, (store) => store.list());
  const found = flags.accessKey !== undefined ? keys.find((k) => k.id === flags.accessKey) : keys.find((k) => k.user === flags.user);
  if (found === undefined) {
    throw invalid(flags.accessKey !== undefined
      ? `no access key ${flags.accessKey} in the cluster: see \`shoal key list\`, or pass --secret-key too`
      : `user "${flags.user}" has no access key: make one with \`shoal key create --user ${flags.user}\`, or pass --access-key and --secret-key`);
  }
  return { accessKeyId: found.id, secretAccessKey: found.secret };
}

export async function presign(url: string, flags: PresignFlags): Promise<string> {
  const { bucket, key } = parseS3Url(url);
  const expiresIn = parseExpires(flags.expires);
  const method = flags.method.toUpperCase();
  if (method !== 'GET' && method !== 'PUT') throw invalid(`--method "${flags.method}": GET or PUT`);
  const endpoint = parseEndpoint(flags.endpoint ?? process.env['SHOAL_S3_ENDPOINT']);
  const client = new S3Client({
    endpoint, region: flags.region, forcePathStyle: true, credentials: await credentialsFor(flags),
    // Otherwise a presigned PUT carries the checksum of an empty body, and the upload it allows fails that check.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  try {
    const command = method === 'GET' ? new GetObjectCommand({ Bucket: bucket, Key: key }) : new PutObjectCommand({ Bucket: bucket, Key: key });
    return await getSignedUrl(client, command, { expiresIn });
  } finally {
    client.destroy();
  }
}

export function registerPresignCommand(program: Command): void {
  program.command('presign <s3-url>')
    .description('print a presigned URL for s3://BUCKET/KEY: anyone holding it may GET (or PUT) that object until it expires')
    .option('--expires <seconds>', `how long the URL works (1 to ${PRESIGN_EXPIRES_S_MAX})`, '3600')
    .option('--method <method>', 'GET (download) or PUT (upload)', 'GET')
    .option('--endpoint <url>', 'the gateway\'s S3 endpoint, e.g. http://127.0.0.1:9000 (default: SHOAL_S3_ENDPOINT)')
    .option('--access-key <id>', 'access key id to sign with (default: the first key of --user, read from the cluster)')
    .option('--secret-key <secret>', 'its secret (default: read from the cluster)')
    .option('--user <user>', 'whose key to sign with when --access-key is not given', DEFAULT_USER)
    .option('--region <region>', 'region in the signature (the gateway\'s, default us-east-1)', 'us-east-1')
    .option('--dir <dir>', 'cluster directory, to read the key from the cluster', DEFAULT_CLUSTER_DIR)
    .option('--node <host:port>', 'a node to reach the cluster through (repeatable)', collect)
    .action(async (url: string, flags: PresignFlags) => {
      console.log(await presign(url, flags));
    });
}
