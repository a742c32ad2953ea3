// `shoal cluster up`: a whole local cluster as separate processes, made on first run and reused after,
// stopped together on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { hasClusterDir, initClusterDir } from '../../../storage-node/cli/cluster-dir.js';
import { ENDPOINTS_FILE, type Endpoints } from '../cli-context.js';

interface ClusterUpFlags {
  nodes: string;
  data: string;
  basePort: string;
  capacity: string;
}

const SHOAL_BIN = fileURLToPath(new URL('../../../../bin/shoal.js', import.meta.url));

/** Starts one node and resolves once its log says it serves, with the address it serves on. */
function startNode(args: string[], logFile: string): Promise<{ child: ChildProcess; address: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [SHOAL_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logFile, { flags: 'a' });
    let buffered = '';
    const onExit = (code: number | null): void => reject(new ShoalError('Unavailable', `node exited with code ${code} before serving; see ${logFile}`, { subject: 'node' }));
    child.once('exit', onExit);
    child.stderr?.pipe(log);
    child.stdout?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('"node.serving"')) continue;
        const event = JSON.parse(line) as { address: string };
        child.off('exit', onExit);
        buffered = '';
        resolvePromise({ child, address: event.address });
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
      const stopAll = (): void => {
        for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
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
          const started = await startNode(args, join(data, `node${i}.log`));
          children.push(started.child);
          addresses.push(started.address);
          console.log(`node ${i}  ${started.address}  zone-${i}  metrics http://127.0.0.1:${basePort + 1000 + i - 1}/metrics  log ${join(data, `node${i}.log`)}`);
        }
      } catch (err) {
        stopAll();
        throw err;
      }
      const endpoints: Endpoints = { nodes: addresses };
      await writeFile(join(clusterDir, ENDPOINTS_FILE), `${JSON.stringify(endpoints, null, 2)}\n`);
      console.log(`\n${count} storage nodes up. Try: echo hello > /tmp/hello && node bin/shoal.js block put /tmp/hello --dir ${clusterDir}`);
      console.log('Ctrl-C stops them all.');
      await Promise.all(children.map((child) => new Promise((done) => (child.exitCode === null ? child.once('exit', done) : done(null)))));
      console.log('all nodes stopped');
    });
}
