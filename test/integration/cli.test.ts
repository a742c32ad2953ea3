// Goal: the `shoal` command does what the README says, and bad input gets a message with the fix.
// Method: run the real CLI as a child process against a two-node cluster of real processes.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TestCluster } from './harness/spawn-cluster.js';

const run = promisify(execFile);
const SHOAL = resolve('bin/shoal.js');

async function shoal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SHOAL, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('cluster init makes the CA and the admin identity, and refuses to overwrite them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const target = join(dir, 'c');
  const first = await shoal(['cluster', 'init', '--dir', target, '--name', 'demo']);
  t.is(first.code, 0, first.stderr);
  for (const file of ['ca.crt', 'ca.key', 'admin.key', 'admin.pub', 'cluster.json']) t.true(existsSync(join(target, file)), file);
  const again = await shoal(['cluster', 'init', '--dir', target]);
  t.not(again.code, 0);
  t.regex(again.stderr, /already holds a cluster/);
});

test('block put, stat, get and rm through the CLI', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }]);
  t.teardown(() => cluster.stop());
  const nodeArgs = ['--dir', cluster.clusterDir, '--node', cluster.nodes[0]!.address, '--replicas', '2'];
  const file = join(cluster.root, 'hello.txt');
  const content = 'hello, shoal\n'.repeat(1000);
  await writeFile(file, content);

  const put = await shoal(['block', 'put', file, ...nodeArgs, '--json']);
  t.is(put.code, 0, put.stderr);
  const stored = JSON.parse(put.stdout) as { address: string; key: string; holders: string[]; placed: string[] };
  t.regex(stored.address, /^[0-9a-f]{64}$/);
  t.deepEqual([...stored.holders].sort(), [...stored.placed].sort());
  t.is(stored.holders.length, 2);

  const stat = await shoal(['block', 'stat', stored.address, ...nodeArgs]);
  t.is(stat.code, 0, stat.stderr);
  t.regex(stat.stdout, /held by 2, placed on 2/);

  const out = join(cluster.root, 'out.txt');
  const get = await shoal(['block', 'get', stored.address, '--key', stored.key, '-o', out, ...nodeArgs]);
  t.is(get.code, 0, get.stderr);
  t.is(await readFile(out, 'utf8'), content);

  const raw = await shoal(['block', 'get', stored.address, '--raw', ...nodeArgs]);
  t.false(raw.stdout.includes('hello, shoal'), 'the nodes hold ciphertext only');

  const wrongKey = await shoal(['block', 'get', stored.address, '--key', 'ab'.repeat(32), ...nodeArgs]);
  t.is(wrongKey.code, 1);
  t.regex(wrongKey.stderr, /does not open this block/);

  const rm = await shoal(['block', 'rm', stored.address, ...nodeArgs]);
  t.is(rm.code, 0, rm.stderr);
  t.regex(rm.stdout, /removed from/);
  const gone = await shoal(['block', 'get', stored.address, '--key', stored.key, ...nodeArgs]);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /is on none of the/);
});

test('bad input gets a message with the fix and exit code 2', async (t) => {
  const badAddress = await shoal(['block', 'stat', 'not-an-address', '--node', '127.0.0.1:1']);
  t.is(badAddress.code, 2);
  t.regex(badAddress.stderr, /expected 64 hex digits/);
  const badListen = await shoal(['node', 'run', '--data', '/tmp/x', '--listen', 'nowhere']);
  t.is(badListen.code, 2);
  t.regex(badListen.stderr, /HOST:PORT/);
  const badCapacity = await shoal(['node', 'run', '--data', '/tmp/x', '--capacity', 'lots']);
  t.is(badCapacity.code, 2);
  t.regex(badCapacity.stderr, /e\.g\. 512MiB/);
});
