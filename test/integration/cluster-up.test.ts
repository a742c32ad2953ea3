// Goal: `shoal cluster up` (what `npm start` runs) brings up a local cluster that `shoal status` shows alive,
// reuses it on the next run, and stops every node on Ctrl-C. Method: the real CLI as child processes.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freeClusterBasePort } from './harness/free-port.js';

const SHOAL = resolve('bin/shoal.js');

async function clusterUp(data: string, basePort: number): Promise<{ stop(): Promise<string>; output(): string }> {
  const child = spawn(process.execPath, [SHOAL, 'cluster', 'up', '--nodes', '3', '--data', data, '--base-port', String(basePort), '--nfs', '0', '--portmap', 'off', '--s3', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const started = Date.now();
  while (!output.includes('storage nodes up')) {
    if (child.exitCode !== null || Date.now() - started > 30_000) throw new Error(`cluster up did not start:\n${output}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    output: () => output,
    async stop() {
      child.kill('SIGINT');
      await exited;
      return output;
    },
  };
}

async function aliveCount(clusterDir: string): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [SHOAL, 'status', '--dir', clusterDir, '--json']);
  return (JSON.parse(stdout) as { state: string }[]).filter((m) => m.state === 'alive').length;
}

test('cluster up starts three nodes that status shows alive; a second run reuses the cluster; Ctrl-C stops them', async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'shoal-up-'));
  t.teardown(() => rm(data, { recursive: true, force: true }));
  const basePort = await freeClusterBasePort(3);
  const first = await clusterUp(data, basePort);
  t.regex(first.output(), /created cluster/);
  let alive = 0;
  for (let i = 0; i < 50 && alive < 3; i++) {
    alive = await aliveCount(join(data, 'cluster'));
    if (alive < 3) await new Promise((done) => setTimeout(done, 200));
  }
  t.is(alive, 3, 'status shows the three nodes alive');
  t.regex(await first.stop(), /all nodes stopped/);

  const second = await clusterUp(data, basePort);
  t.notRegex(second.output(), /created cluster/, 'the second run reuses the cluster');
  t.regex(await second.stop(), /all nodes stopped/);
});
