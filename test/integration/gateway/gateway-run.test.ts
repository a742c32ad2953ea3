// Goal: `shoal gateway run` serves a volume to libnfs (nfs-ls, nfs-cp, nfs-cat) as a real process, and two gateways on
// one cluster see each other's committed files (DESIGN §7: gateways keep no durable state). SIGTERM stops a gateway
// cleanly (exit 0) after committing.
// Method: three `shoal node run` processes, `shoal volume create`, two `shoal gateway run` processes on free ports
// (NFS and MOUNT on one port, no portmapper), libnfs-utils from the host.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestCluster } from '../harness/spawn-cluster.js';
import { hasLibnfs, nfsUrl, shoal, startGateway } from './gateway-process.js';

const run = promisify(execFile);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const cat = async (url: string): Promise<Buffer> => (await run('nfs-cat', [url], { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 60_000 })).stdout;

test.serial('gateway run: libnfs writes and reads through one gateway, and a second gateway reads it', async (t) => {
  if (!(await hasLibnfs())) {
    t.log('libnfs-utils (nfs-ls, nfs-cp, nfs-cat) is not installed: apt-get install libnfs-utils');
    t.pass();
    return;
  }
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  await shoal(cluster, 'volume', 'create', 'vol', '--chunk-size', '256KiB');
  const one = await startGateway(cluster);
  t.teardown(() => one.kill());
  const two = await startGateway(cluster, { name: 'gateway-2' });
  t.teardown(() => two.kill());
  const scratch = await mkdtemp(join(tmpdir(), 'shoal-gw-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));

  const listed = await run('nfs-ls', [nfsUrl(one.nfsPort, '/vol')], { timeout: 30_000 });
  t.is(listed.stdout.trim(), '', 'a new volume is empty');

  // 3 MiB + 123 bytes: twelve full 256 KiB chunks and a tail, sent by nfs-cp as UNSTABLE writes and a COMMIT.
  const data = randomBytes(3 * 1024 * 1024 + 123);
  await writeFile(join(scratch, 'big.bin'), data);
  await run('nfs-cp', [join(scratch, 'big.bin'), nfsUrl(one.nfsPort, '/vol/big.bin')], { timeout: 120_000 });
  await writeFile(join(scratch, 'hello.txt'), 'hello through shoal\n');
  await run('nfs-cp', [join(scratch, 'hello.txt'), nfsUrl(one.nfsPort, '/vol/hello.txt')], { timeout: 30_000 });

  const ls = await run('nfs-ls', [nfsUrl(one.nfsPort, '/vol')], { timeout: 30_000 });
  t.regex(ls.stdout, /big\.bin/);
  t.regex(ls.stdout, /hello\.txt/);
  t.is((await cat(nfsUrl(one.nfsPort, '/vol/hello.txt'))).toString(), 'hello through shoal\n');
  t.is(sha256(await cat(nfsUrl(one.nfsPort, '/vol/big.bin'))), sha256(data), 'read back through the same gateway');

  // The other gateway: same handles, same bytes; and the way back.
  t.is(sha256(await cat(nfsUrl(two.nfsPort, '/vol/big.bin'))), sha256(data), 'read through the second gateway');
  await writeFile(join(scratch, 'back.txt'), 'from gateway two\n');
  await run('nfs-cp', [join(scratch, 'back.txt'), nfsUrl(two.nfsPort, '/vol/back.txt')], { timeout: 30_000 });
  t.is((await cat(nfsUrl(one.nfsPort, '/vol/back.txt'))).toString(), 'from gateway two\n');

  // nfs-cp reads too (NFS → local file).
  await run('nfs-cp', [nfsUrl(two.nfsPort, '/vol/big.bin'), join(scratch, 'copy.bin')], { timeout: 120_000 });
  t.is(sha256(await readFile(join(scratch, 'copy.bin'))), sha256(data));

  t.is(await one.stop(), 0, 'SIGTERM: commit, then exit 0');
  t.regex(one.output(), /"gateway\.stopped"/);
  t.is(await two.stop(), 0);
});
