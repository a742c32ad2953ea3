// `shoal gateway run` as a real process against a TestCluster: started on a free port, ready when it logs
// gateway.serving, stopped with SIGTERM (commit, then exit) or SIGKILL.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestCluster } from '../harness/spawn-cluster.js';

export const SHOAL_BIN = resolve('bin/shoal.js');
const run = promisify(execFile);

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly nfsPort: number;
  readonly portmapPort: number | undefined;
  /** With `--s3`: the port S3 is served on. */
  readonly s3Port: number | undefined;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export async function startGateway(cluster: TestCluster, options: { name?: string; extraArgs?: readonly string[] } = {}): Promise<GatewayProcess> {
  const args = [
    SHOAL_BIN, 'gateway', 'run', '--dir', cluster.clusterDir, '--join', cluster.nodes.map((n) => n.address).join(','),
    '--nfs', '0', '--portmap', 'off', '--listen-host', '127.0.0.1', '--name', options.name ?? 'gateway', '--exports-refresh', '200ms',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const serving = await new Promise<{ nfsPort: number; portmapPort?: number; s3Port?: number }>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not serve within 30 s:\n${output}`)), 30_000);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before serving:\n${output}`));
    };
    child.once('exit', onExit);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('"gateway.serving"'));
      if (line === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolvePromise(JSON.parse(line) as { nfsPort: number; portmapPort?: number; s3Port?: number });
    });
  });
  const exited = new Promise<number | null>((done) => (child.exitCode !== null ? done(child.exitCode) : child.once('exit', (code) => done(code))));
  return {
    child, nfsPort: serving.nfsPort, portmapPort: serving.portmapPort, s3Port: serving.s3Port, output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The S3 port of a gateway started with `--s3`. */
export function s3PortOf(gateway: GatewayProcess): number {
  if (gateway.s3Port === undefined) throw new Error(`the gateway serves no S3:\n${gateway.output()}`);
  return gateway.s3Port;
}

/** A libnfs URL for a path on a gateway serving NFS and MOUNT on one port, with no portmapper. */
export function nfsUrl(port: number, path: string, query = ''): string {
  return `nfs://127.0.0.1${path}?version=3&nfsport=${port}&mountport=${port}${query}`;
}

/** `shoal ARGS…` against the test cluster, resolving to its stdout. */
export async function shoal(cluster: TestCluster, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [SHOAL_BIN, ...args, '--dir', cluster.clusterDir, '--node', cluster.nodes[0]?.address ?? ''], { timeout: 60_000 });
  return stdout;
}

export const hasLibnfs = async (): Promise<boolean> => run('sh', ['-c', 'command -v nfs-ls && command -v nfs-cp && command -v nfs-cat']).then(() => true, () => false);
