// `shoal cluster up`: a whole local cluster as separate processes, made on first run and reused after,
// stopped together on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { SystemClock } from '../../../storage-node/base/clock.js';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { clientCredentials, hasClusterDir, initClusterDir, readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { ClusterClient } from '../../../storage-node/client/cluster-client.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { ClusterFsBlocks } from '../../fs/fs-blocks.js';
import { FS_LIMITS_DEFAULT } from '../../fs/fs-limits.js';
import { Volumes } from '../../fs/volume.js';
import { ClusterKeyStore, type StoredKey } from '../../s3/cluster-keys.js';
import { ENDPOINTS_FILE, type Endpoints } from '../cli-context.js';

interface ClusterUpFlags {
  nodes: string;
  data: string;
  basePort: string;
  capacity: string;
  nfs: string;
  portmap: string;
  s3: string;
}

/** The volume a new local cluster gets, so that the printed mount command works at once. */
const DEFAULT_VOLUME = 'vol';
/** The user of the S3 key a local cluster prints (made on first run, the same one after). */
const DEFAULT_KEY_USER = 'admin';

const SHOAL_BIN = fileURLToPath(new URL('../../../../bin/shoal.js', import.meta.url));

/** Starts one node (or gateway) and resolves once its log says `event`, with that log line. */
function startProcess<E>(args: string[], logFile: string, event: string): Promise<{ child: ChildProcess; line: E }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [SHOAL_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logFile, { flags: 'a' });
    let buffered = '';
    const onExit = (code: number | null): void => reject(new ShoalError('Unavailable', `${args[0]} exited with code ${code} before serving; see ${logFile}`, { subject: 'node' }));
    child.once('exit', onExit);
    child.stderr?.pipe(log);
    child.stdout?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes(`"${event}"`)) continue;
        child.off('exit', onExit);
        buffered = '';
        resolvePromise({ child, line: JSON.parse(line) as E });
      }
    });
  });
}

export function registerClusterUp(program: Command): void {
  const cluster = program.commands.find((c) => c.name() === 'cluster') ?? program.command('cluster');
  cluster.command('up')
    .description('run a local cluster of separate node processes (created on first run, reused after); Ctrl-C stops it')
    .option('--nodes <n>', 'storage nodes to run', '3')
    .option('--data <dir>', 'where the cluster directory, node data and logs live', './data')
    .option('--base-port <port>', 'first node listens here, the next on the port after', '7001')
    .option('--capacity <size>', 'capacity of each node', '10GiB')
    .option('--nfs <port>', 'NFSv3 and MOUNT port of the gateway ("off": no gateway, so no S3 either)', '2049')
    .option('--portmap <port>', 'portmapper port of the gateway ("off": none); when it cannot bind, its log says so', '111')
    .option('--s3 <port>', 'S3 port of the gateway ("off": none; 0: any free port)', '9000')
    .action(async (flags: ClusterUpFlags) => {
      const count = Number(flags.nodes);
      const basePort = Number(flags.basePort);
      if (!Number.isInteger(count) || count < 1 || count > 64) throw new ShoalError('Invalid', '--nodes: give a whole number from 1 to 64', { subject: 'config' });
      if (!Number.isInteger(basePort) || basePort < 1 || basePort + count > 65535) throw new ShoalError('Invalid', '--base-port: give a free TCP port', { subject: 'config' });
      const data = resolve(flags.data);
      const clusterDir = join(data, 'cluster');
      await mkdir(data, { recursive: true });
      if (!hasClusterDir(clusterDir)) {
        const info = await initClusterDir(clusterDir, 'local');
        console.log(`created cluster ${info.id} in ${clusterDir}`);
      }
      const children: ChildProcess[] = [];
      let gateway: ChildProcess | undefined;
      // The gateway first, so that it commits what clients wrote while the nodes still serve; then the nodes.
      const stopAll = (): void => {
        const stopNodes = (): void => {
          for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
        };
        if (gateway === undefined || gateway.exitCode !== null) return stopNodes();
        const timer = setTimeout(stopNodes, 15_000);
        gateway.once('exit', () => {
          clearTimeout(timer);
          stopNodes();
        });
        gateway.kill('SIGTERM');
      };
      process.on('SIGINT', stopAll);
      process.on('SIGTERM', stopAll);
      const addresses: string[] = [];
      try {
        for (let i = 1; i <= count; i++) {
          const args = [
            'node', 'run', '--dir', clusterDir, '--data', join(data, `node${i}`), '--listen', `127.0.0.1:${basePort + i - 1}`,
            '--zone', `zone-${i}`, '--rack', 'rack-1', '--capacity', flags.capacity, '--metrics', `127.0.0.1:${basePort + 1000 + i - 1}`,
            ...(addresses[0] === undefined ? [] : ['--join', addresses[0]]),
          ];
          const started = await startProcess<{ address: string }>(args, join(data, `node${i}.log`), 'node.serving');
          children.push(started.child);
          addresses.push(started.line.address);
          console.log(`node ${i}  ${started.line.address}  zone-${i}  metrics http://127.0.0.1:${basePort + 1000 + i - 1}/metrics  log ${join(data, `node${i}.log`)}`);
        }
      } catch (err) {
        stopAll();
        throw err;
      }
      const endpoints: Endpoints = { nodes: addresses };
      await writeFile(join(clusterDir, ENDPOINTS_FILE), `${JSON.stringify(endpoints, null, 2)}\n`);
      console.log(`\n${count} storage nodes up. Try: echo hello > /tmp/hello && node bin/shoal.js block put /tmp/hello --dir ${clusterDir}`);
      if (flags.nfs !== 'off') {
        try {
          const key = await ensureDefaults(clusterDir, addresses, Math.min(3, count), flags.s3 !== 'off');
          const logFile = join(data, 'gateway.log');
          const started = await startProcess<{ nfsPort: number; portmapPort?: number; s3Port?: number }>([
            'gateway', 'run', '--dir', clusterDir, '--join', addresses.join(','), '--nfs', flags.nfs, '--portmap', flags.portmap, '--s3', flags.s3, '--listen-host', '127.0.0.1',
          ], logFile, 'gateway.serving');
          gateway = started.child;
          const { nfsPort, portmapPort, s3Port } = started.line;
          console.log(`gateway  NFSv3 127.0.0.1:${nfsPort} (MOUNT on the same port)  portmap ${portmapPort === undefined ? 'off' : `127.0.0.1:${portmapPort}`}  log ${logFile}`);
          console.log(`  mount -t nfs -o port=${nfsPort},mountport=${nfsPort},nfsvers=3,tcp 127.0.0.1:/${DEFAULT_VOLUME} /mnt`);
          console.log(`  libnfs: nfs-ls 'nfs://127.0.0.1/${DEFAULT_VOLUME}?version=3&nfsport=${nfsPort}&mountport=${nfsPort}'`);
          if (s3Port !== undefined && key !== undefined) {
            console.log(`S3  http://127.0.0.1:${s3Port}  (path style; each volume is a bucket)`);
            console.log(`  access key id ${key.id}  secret ${key.secret}  (user ${key.user}; more with \`shoal key create --user NAME\`)`);
            console.log(`  AWS_ACCESS_KEY_ID=${key.id} AWS_SECRET_ACCESS_KEY=${key.secret} aws --endpoint-url http://127.0.0.1:${s3Port} s3 ls s3://${DEFAULT_VOLUME}/`);
          }
        } catch (err) {
          console.log(`gateway did not start: ${(err as Error).message} (the storage nodes go on; pick other --nfs or --s3 ports, or --nfs off / --s3 off)`);
        }
      }
      console.log('Ctrl-C stops them all.');
      await Promise.all([...children, ...(gateway === undefined ? [] : [gateway])].map((child) => new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(null)))));
      console.log('all nodes stopped');
    });
}

/**
 * Creates volume `vol` when the cluster has no volume yet (a first run), and with `s3` the S3 key of user `admin` when
 * there is none (the same key is printed at every start), as the admin identity.
 */
async function ensureDefaults(clusterDir: string, seeds: readonly string[], replicas: number, s3: boolean): Promise<StoredKey | undefined> {
  const owner = await readAdminIdentity(clusterDir);
  const client = await ClusterClient.connect({ credentials: await clientCredentials(clusterDir, 'cli'), seeds, owner, entropy: systemEntropy });
  try {
    const blocks = new ClusterFsBlocks(client, owner, systemEntropy);
    const clock = new SystemClock();
    const volumes = new Volumes({ blocks, clock, limits: FS_LIMITS_DEFAULT, owner: owner.publicKey });
    if ((await volumes.list()).length === 0) {
      const settings = await volumes.create(DEFAULT_VOLUME, { replicas });
      console.log(`created volume ${settings.name} (${settings.replicas} replicas)`);
    }
    const key = s3 ? await new ClusterKeyStore({ blocks, clock, refreshMs: 0 }).ensure(DEFAULT_KEY_USER) : undefined;
    await client.settled();
    return key;
  } finally {
    // Let the proposer's last flush run before closing (see volume.ts).
    await new Promise((resolve) => setImmediate(resolve));
    client.close();
  }
}
