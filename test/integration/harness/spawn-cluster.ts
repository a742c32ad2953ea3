// Real storage-node processes on 127.0.0.1 for integration tests: started through the `shoal` CLI,
// killed with SIGKILL and restarted on the same data and port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClusterClient, type ClusterClientOptions } from '../../../storage-node/client/cluster-client.js';
import { clientCredentials, initClusterDir } from '../../../storage-node/cli/cluster-dir.js';
import type { TlsCredentials } from '../../../storage-node/wire/tls-credentials.js';
import { freePort } from './free-port.js';

const SHOAL_BIN = resolve('bin/shoal.js');

export interface NodeSpec {
  readonly zone: string;
  readonly rack?: string;
  readonly capacity?: string;
}

export interface RunningNode {
  readonly index: number;
  readonly spec: NodeSpec;
  readonly port: number;
  readonly address: string;
  readonly dataPath: string;
  id: string;
  process: ChildProcess | undefined;
  output: string;
}

export class TestCluster {
  readonly root: string;
  readonly clusterDir: string;
  readonly nodes: RunningNode[] = [];
  #credentials: TlsCredentials | undefined;

  private constructor(root: string) {
    this.root = root;
    this.clusterDir = join(root, 'cluster');
  }

  static async start(specs: readonly NodeSpec[]): Promise<TestCluster> {
    const cluster = new TestCluster(await mkdtemp(join(tmpdir(), 'shoal-it-')));
    await initClusterDir(cluster.clusterDir, 'test');
    try {
      for (const [index, spec] of specs.entries()) {
        const port = await freePort();
        const node: RunningNode = {
          index, spec, port, address: `127.0.0.1:${port}`, dataPath: join(cluster.root, `node${index}`), id: '', process: undefined, output: '',
        };
        cluster.nodes.push(node);
        await cluster.startNode(node);
      }
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  async credentials(): Promise<TlsCredentials> {
    this.#credentials ??= await clientCredentials(this.clusterDir, 'test');
    return this.#credentials;
  }

  async client(options: Partial<ClusterClientOptions> = {}): Promise<ClusterClient> {
    return ClusterClient.connect({ credentials: await this.credentials(), seeds: this.nodes.map((n) => n.address), replicas: 3, ...options });
  }

  /** Starts (or restarts) a node and resolves once it serves. */
  startNode(node: RunningNode): Promise<void> {
    const join = this.nodes.find((n) => n !== node && n.process !== undefined && n.process.exitCode === null);
    const args = [
      SHOAL_BIN, 'node', 'run', '--dir', this.clusterDir, '--data', node.dataPath, '--listen', node.address,
      '--zone', node.spec.zone, '--rack', node.spec.rack ?? 'r1', '--capacity', node.spec.capacity ?? '20GiB',
      ...(join ? ['--join', join.address] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    node.process = child;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${node.index} did not start in 20 s:\n${node.output}`)), 20_000);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`node ${node.index} exited (${code}) before serving:\n${node.output}`));
      };
      child.once('exit', onExit);
      child.stderr?.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
      child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        node.output += text;
        const match = /"id":"([0-9a-f]+)".*"node.serving"|"node.serving".*"id":"([0-9a-f]+)"/.exec(node.output);
        if (match) {
          node.id = match[1] ?? match[2] ?? '';
          clearTimeout(timer);
          child.off('exit', onExit);
          resolvePromise();
        }
      });
    });
  }

  /** SIGKILL: no chance to flush or say goodbye. */
  async kill(node: RunningNode): Promise<void> {
    const child = node.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
    node.process = undefined;
  }

  async restart(node: RunningNode): Promise<void> {
    node.output = '';
    await this.startNode(node);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node)));
    await rm(this.root, { recursive: true, force: true });
  }
}
