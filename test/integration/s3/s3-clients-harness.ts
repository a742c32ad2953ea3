// A real S3 endpoint for client tests and benchmarks: three `shoal node run` processes, one `shoal gateway run --s3 0`
// process, and an access key made with `shoal key create`; plus helpers to run a client binary against it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { startGateway, shoal, type GatewayProcess } from '../gateway/gateway-process.js';
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

export function s3PortOf(gateway: GatewayProcess): number {
  const line = gateway.output().split('\n').find((l) => l.includes('"gateway.serving"'));
  const port = (JSON.parse(line ?? '{}') as { s3Port?: number }).s3Port;
  if (port === undefined) throw new Error(`no s3Port in gateway.serving:\n${gateway.output()}`);
  return port;
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
