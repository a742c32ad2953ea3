// Real storage-node processes on 127.0.0.1 for integration tests: started through the `shoal` CLI,
// killed with SIGKILL and restarted on the same data and port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClusterClient, type ClusterClientOptions } from '../../../storage-node/client/cluster-client.js';
import { clientCredentials, initClusterDir } from '../../../storage-node/cli/cluster-dir.js';
import { ConnectionPool } from '../../../storage-node/wire/connection-pool.js';
import { OP, parseMembers, type MemberView } from '../../../storage-node/wire/operations.js';
import type { TlsCredentials } from '../../../storage-node/wire/tls-credentials.js';
import { freePort } from './free-port.js';
import { TcpProxy } from './tcp-proxy.js';

const SHOAL_BIN = resolve('bin/shoal.js');

export interface NodeSpec {
  readonly zone: string;
  readonly rack?: string;
  readonly capacity?: string;
  /** Index of the node to join through (default: the first running node). */
  readonly joinVia?: number;
  /** Another cluster directory to take credentials from: a node of a different cluster. */
  readonly clusterDir?: string;
  /** Flags for this node only, after the cluster's (e.g. --metrics). */
  readonly args?: readonly string[];
}

/** Overlay timings for tests: failures are detected in a couple of seconds instead of the production ten. */
export const FAST_OVERLAY_ARGS: readonly string[] = [
  '--probe-interval', '200ms', '--probe-timeout', '100ms', '--suspect-timeout', '1500ms',
  '--gossip-interval', '100ms', '--sync-interval', '1000ms', '--reconnect-interval', '500ms', '--join-retry', '300ms',
];

export interface RunningNode {
  readonly index: number;
  readonly spec: NodeSpec;
  readonly port: number;
  readonly address: string;
  readonly dataPath: string;
  /** With `proxied`: the proxy every other process reaches this node through (its advertised address). */
  readonly proxy: TcpProxy | undefined;
  /** Where the node itself listens: `address` unless proxied. */
  readonly listenAddress: string;
  id: string;
  process: ChildProcess | undefined;
  output: string;
}

export class TestCluster {
  readonly root: string;
  readonly clusterDir: string;
  readonly nodes: RunningNode[] = [];
  #credentials: TlsCredentials | undefined;

  readonly #extraArgs: readonly string[];
  readonly #proxied: boolean;
  #pool: ConnectionPool | undefined;

  private constructor(root: string, extraArgs: readonly string[], proxied: boolean) {
    this.root = root;
    this.clusterDir = join(root, 'cluster');
    this.#extraArgs = extraArgs;
    this.#proxied = proxied;
  }

  /** Starts the nodes one by one, then waits until every node sees every other alive. */
  /** `proxied`: each node sits behind a TcpProxy that every other process (nodes, clients) goes through. */
  static async start(specs: readonly NodeSpec[], options: { extraArgs?: readonly string[]; proxied?: boolean } = {}): Promise<TestCluster> {
    const cluster = new TestCluster(await mkdtemp(join(tmpdir(), 'shoal-it-')), options.extraArgs ?? FAST_OVERLAY_ARGS, options.proxied ?? false);
    await initClusterDir(cluster.clusterDir, 'test');
    try {
      for (const spec of specs) await cluster.addNode(spec);
      await cluster.waitUntil(async () => (await cluster.agreedAlive()) === specs.length, 60_000, 'all nodes see each other alive');
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /**
   * A new node on free ports. A port asked of the kernel is free only until someone else takes it (another test's
   * connection can land on it before the node listens), so a start that finds its port taken is tried again on new ones.
   */
  async addNode(spec: NodeSpec): Promise<RunningNode> {
    for (let attempt = 1; ; attempt++) {
      const before = this.nodes.length;
      try {
        return await this.#addNodeOnce(spec);
      } catch (err) {
        const taken = err instanceof Error && err.message.includes('EADDRINUSE');
        if (!taken || attempt >= 5) throw err;
        for (const node of this.nodes.splice(before)) await node.proxy?.close();
      }
    }
  }

  async #addNodeOnce(spec: NodeSpec): Promise<RunningNode> {
    const port = await freePort();
    const index = this.nodes.length;
    const listenPort = this.#proxied ? await freePort() : port;
    const proxy = this.#proxied ? await TcpProxy.start(port, listenPort) : undefined;
    const node: RunningNode = {
      index, spec, port, address: `127.0.0.1:${port}`, listenAddress: `127.0.0.1:${listenPort}`, proxy,
      dataPath: join(this.root, `node${index}`), id: '', process: undefined, output: '',
    };
    this.nodes.push(node);
    await this.startNode(node);
    return node;
  }

  /** The member list as `node` reports it. */
  async membersSeenBy(node: RunningNode): Promise<MemberView[]> {
    this.#pool ??= new ConnectionPool(await this.credentials());
    return parseMembers(await this.#pool.request({ address: node.address }, OP.members, null, { timeoutMs: 3000 }));
  }

  /** How many members every running node lists as alive, when they all agree on the set; else -1. */
  async agreedAlive(): Promise<number> {
    const running = this.nodes.filter((n) => n.process !== undefined && !n.spec.clusterDir);
    const views = await Promise.all(running.map((n) => this.membersSeenBy(n).catch(() => [])));
    const sets = views.map((members) => members.filter((m) => m.state === 'alive').map((m) => m.id).sort().join());
    return sets.every((set) => set === sets[0]) ? (views[0] ?? []).filter((m) => m.state === 'alive').length : -1;
  }

  async waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if (await condition()) return Date.now() - start;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
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
    const viaIndex = node.spec.joinVia;
    const join = viaIndex !== undefined ? this.nodes[viaIndex] : this.nodes.find((n) => n !== node && n.process !== undefined && n.process.exitCode === null);
    const args = [
      SHOAL_BIN, 'node', 'run', '--dir', node.spec.clusterDir ?? this.clusterDir, '--data', node.dataPath, '--listen', node.listenAddress,
      // Behind proxies, each node connects from its own loopback address, so that a proxy can cut one node's side off.
      ...(node.proxy ? ['--advertise', node.address, '--source-address', sourceAddressOf(node)] : []),
      '--zone', node.spec.zone, '--rack', node.spec.rack ?? 'r1', '--capacity', node.spec.capacity ?? '20GiB',
      ...(join && join !== node ? ['--join', join.address] : []), ...this.#extraArgs, ...(node.spec.args ?? []),
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

  /** Proxied clusters: cuts `node` off both ways (connections to it, and its connections to every other node). */
  isolate(node: RunningNode): void {
    node.proxy?.cut();
    for (const other of this.nodes) if (other !== node) other.proxy?.cutFrom(sourceAddressOf(node));
  }

  /** Undoes isolate() and every other proxy fault. */
  healAll(): void {
    for (const node of this.nodes) node.proxy?.heal();
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
    this.#pool?.close();
    await Promise.all(this.nodes.map((node) => this.kill(node)));
    await Promise.all(this.nodes.map((node) => node.proxy?.close()));
    await rm(this.root, { recursive: true, force: true });
  }
}

/** The loopback address a proxied node's outgoing connections come from (127.0.0.0/8 is all loopback on Linux). */
export function sourceAddressOf(node: RunningNode): string {
  return `127.0.0.${10 + node.index}`;
}
