// Goal: `shoal cluster up` (what `npm start` runs) adds a gateway after the nodes, creates volume `vol` on first run,
// prints the mount command and the libnfs URL, and the printed URL works; Ctrl-C stops the gateway then the nodes.
// Method: the real CLI as a child process with --nfs 0 (a free port) so that runs do not collide on 2049.
import test from 'ava';
import { existsSync } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeClusterBasePort } from '../harness/free-port.js';
import { hasLibnfs, SHOAL_BIN } from './gateway-process.js';

const run = promisify(execFile);

test('cluster up: a gateway, volume vol, the mount command and a working libnfs URL', async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'shoal-up-gw-'));
  t.teardown(() => rm(data, { recursive: true, force: true }));
  const child = spawn(process.execPath, [SHOAL_BIN, 'cluster', 'up', '--nodes', '3', '--data', data, '--base-port', String(await freeClusterBasePort(3)), '--nfs', '0', '--portmap', 'off', '--s3', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const started = Date.now();
  while (!output.includes('Ctrl-C stops them all')) {
    if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`cluster up did not start:\n${output}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  t.regex(output, /created volume vol \(3 replicas\)/);
  t.regex(output, /portmap off/);
  const port = /mount -t nfs -o port=(\d+),mountport=\1,nfsvers=3,tcp 127\.0\.0\.1:\/vol \/mnt/.exec(output)?.[1];
  t.truthy(port, output);
  const url = /nfs-ls '([^']+)'/.exec(output)?.[1] ?? '';
  t.is(url, `nfs://127.0.0.1/vol?version=3&nfsport=${port}&mountport=${port}`);
  if (await hasLibnfs()) await t.notThrowsAsync(run('nfs-ls', [url], { timeout: 30_000 }));
  // S3 on a free port (--s3 0), with the admin key it made and the example command printed.
  const s3 = /AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+) aws --endpoint-url (http:\/\/127\.0\.0\.1:\d+) s3 ls s3:\/\/vol\//.exec(output);
  t.truthy(s3, output);
  if (s3 !== null && existsSync('/usr/bin/aws')) {
    const { stdout } = await run('/usr/bin/aws', ['--endpoint-url', s3[3] as string, 's3', 'ls'], {
      timeout: 60_000, env: { ...process.env, AWS_ACCESS_KEY_ID: s3[1], AWS_SECRET_ACCESS_KEY: s3[2], AWS_CA_BUNDLE: '', AWS_DEFAULT_REGION: 'us-east-1' },
    });
    t.regex(stdout, /\bvol$/m);
  }
  child.kill('SIGINT');
  await exited;
  t.regex(output, /all nodes stopped/);
});
