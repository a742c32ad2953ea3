// A real S3 endpoint for client tests and benchmarks: three `shoal node run` processes, one `shoal gateway run --s3 0`
// process, and an access key made with `shoal key create`; plus helpers to run a client binary against it.
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { promisify } from 'node:util';
import { s3PortOf, startGateway, shoal, type GatewayProcess } from '../gateway/gateway-process.js';
import { TestCluster } from '../harness/spawn-cluster.js';

const run = promisify(execFile);

export interface S3Endpoint {
  readonly cluster: TestCluster;
  readonly gateway: GatewayProcess;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly host: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  stop(): Promise<void>;
}


export async function startS3Endpoint(options: { gatewayArgs?: readonly string[] } = {}): Promise<S3Endpoint> {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  let gateway: GatewayProcess | undefined;
  try {
    gateway = await startGateway(cluster, { name: 'gateway-s3', extraArgs: ['--s3', '0', ...(options.gatewayArgs ?? [])] });
    const key = JSON.parse(await shoal(cluster, 'key', 'create', '--user', 'clients', '--json')) as { accessKeyId: string; secretAccessKey: string };
    const host = `127.0.0.1:${s3PortOf(gateway)}`;
    const started = gateway;
    return {
      cluster, gateway, host, url: `http://${host}`, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey,
      stop: async () => {
        await started.kill();
        await cluster.stop();
      },
    };
  } catch (err) {
    await gateway?.kill();
    await cluster.stop();
    throw err;
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a client binary; a non-zero exit is returned (not thrown) so that tests can assert on the error text. */
export async function runClient(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(file, [...args], { env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: `${failed.stderr ?? ''}${typeof failed.code === 'string' ? ` (${failed.code})` : ''}` };
  }
}

export const commandExists = async (name: string): Promise<boolean> => run('sh', ['-c', `command -v ${name}`]).then(() => true, () => false);

/** SHA-256 of a file, read as a stream. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Deterministic bytes from a seed, produced piece by piece: the AES-256-CTR keystream of SHA-256(seed), fast enough to
 * make a GiB in a few seconds and never held whole in memory.
 */
export function* seededPieces(seed: string, totalBytes: number, pieceBytes: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(pieceBytes);
  for (let done = 0; done < totalBytes; done += pieceBytes) {
    const length = Math.min(pieceBytes, totalBytes - done);
    yield cipher.update(length === pieceBytes ? zeros : zeros.subarray(0, length));
  }
}

/**
 * Writes `totalBytes` of seeded data to `path` and returns its SHA-256 and the multipart ETag an upload in parts of
 * `partBytes` gets (MD5 of the parts' MD5s, "-N"), both computed while writing.
 */
export async function writeSeededFile(path: string, seed: string, totalBytes: number, partBytes: number): Promise<{ sha256: string; multipartEtag: string }> {
  const sha256 = createHash('sha256');
  const partMd5s: Buffer[] = [];
  const out = createWriteStream(path);
  try {
    for (const piece of seededPieces(seed, totalBytes, partBytes)) {
      sha256.update(piece);
      partMd5s.push(createHash('md5').update(piece).digest());
      if (!out.write(piece)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { sha256: sha256.digest('hex'), multipartEtag: `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}` };
}
