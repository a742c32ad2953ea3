// Goal: the Linux kernel NFSv3 client mounts a volume served by `shoal gateway run` (mount.nfs with explicit ports,
// TCP) and creates, writes, appends, reads back, renames and removes files, and writes 8 MiB with dd whose checksum
// matches after the guest's caches are dropped; the host then reads the same bytes through libnfs. Then a plain
// `mount gateway:/vol /mnt` (no options) through the gateway's portmapper.
// Method: three `shoal node run`, `shoal gateway run`, and ../shared/tools/nfs-vm (QEMU, Debian's stock kernel; the
// guest reaches only forwarded loopback ports). Skipped, saying why, where QEMU or nfs-vm is missing (CI: .ci/run
// installs qemu-system-x86 and friends and runs `nfs-vm --build-only` first).
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TestCluster } from '../harness/spawn-cluster.js';
import { hasLibnfs, nfsUrl, shoal, startGateway } from './gateway-process.js';

const run = promisify(execFile);
const NFS_VM = process.env['SHOAL_NFS_VM'] ?? resolve('../shared/tools/nfs-vm/nfs-vm');

const GUEST_SCRIPT = `#!/bin/sh
set -e
cd "$NFSVM_MNT"
echo "hello kernel" > hello.txt
echo "second line" >> hello.txt
cat hello.txt
mkdir -p a/b/c
echo moved > a/b/c/f
mv a/b/c/f a/g
test "$(cat a/g)" = moved
test ! -e a/b/c/f
ln -s hello.txt link
test "$(readlink link)" = hello.txt
dd if=/dev/urandom of=/tmp/src bs=1M count=8 2>/dev/null
dd if=/tmp/src of=big.bin bs=1M conv=fsync 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
src=$(md5sum /tmp/src | cut -d' ' -f1)
dst=$(md5sum big.bin | cut -d' ' -f1)
echo "SRC=$src"
echo "DST=$dst"
test "$src" = "$dst"
rm -r a
ls -l
echo GUEST-OK
`;

test.serial('the Linux kernel client (nfs-vm) mounts, writes and reads back through the gateway', async (t) => {
  t.timeout(600_000);
  if (!existsSync(NFS_VM)) {
    t.log(`skipped: nfs-vm not found at ${NFS_VM} (set SHOAL_NFS_VM)`);
    t.pass();
    return;
  }
  const qemu = await run('sh', ['-c', 'command -v qemu-system-x86_64']).then(() => true, () => false);
  if (!qemu) {
    t.log('skipped: QEMU is not installed (apt-get install qemu-system-x86 qemu-system-data busybox-static nfs-common rpcbind socat cpio kmod xz-utils, then nfs-vm --build-only)');
    t.pass();
    return;
  }
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  await shoal(cluster, 'volume', 'create', 'vol');
  const gateway = await startGateway(cluster);
  t.teardown(() => gateway.kill());
  const scratch = await mkdtemp(join(tmpdir(), 'shoal-vm-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const script = join(scratch, 'guest.sh');
  await writeFile(script, GUEST_SCRIPT, { mode: 0o755 });

  const started = Date.now();
  const vm = await run(NFS_VM, ['--port', String(gateway.nfsPort), '--export', '/vol', '--script', script, '--timeout', '400'], {
    timeout: 450_000, maxBuffer: 16 << 20,
  }).then((r) => ({ code: 0, out: r.stdout, err: r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }));
  t.log(`nfs-vm: ${((Date.now() - started) / 1000).toFixed(1)} s; ${vm.err.trim().split('\n').at(-1) ?? ''}`);
  t.is(vm.code, 0, `guest output:\n${vm.out}\nnfs-vm:\n${vm.err}\ngateway:\n${gateway.output().slice(-4000)}`);
  t.regex(vm.out, /hello kernel\nsecond line/);
  t.regex(vm.out, /GUEST-OK/);
  const md5 = /DST=([0-9a-f]{32})/.exec(vm.out)?.[1];
  t.truthy(md5);

  // The host reads what the guest wrote, through the same gateway (committed: the guest ran dd conv=fsync and umount).
  if (await hasLibnfs()) {
    const { createHash } = await import('node:crypto');
    const big = (await run('nfs-cat', [nfsUrl(gateway.nfsPort, '/vol/big.bin')], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout;
    t.is(big.length, 8 << 20);
    t.is(createHash('md5').update(big).digest('hex'), md5 ?? '');
  }
  t.is(await gateway.stop(), 0);

  // A plain `mount gateway:/vol /mnt` with no options, through a second gateway's portmapper (forwarded to the
  // guest's port 111): the client probes NFSv4, falls back to v3 and asks the portmapper for NFS and MOUNT.
  const mapped = await startGateway(cluster, { name: 'gateway-pm', extraArgs: ['--portmap', '0'] });
  t.teardown(() => mapped.kill());
  t.truthy(mapped.portmapPort, 'the portmapper is on');
  const plainScript = join(scratch, 'plain.sh');
  await writeFile(plainScript, '#!/bin/sh\nset -e\ncat /mnt/hello.txt\necho plain >> /mnt/plain.txt\ncat /mnt/plain.txt\ngrep -w /mnt /proc/mounts\n', { mode: 0o755 });
  const plain = await run(NFS_VM, ['--port', String(mapped.nfsPort), '--portmap', String(mapped.portmapPort), '--plain', '--export', '/vol', '--script', plainScript, '--timeout', '400'], {
    timeout: 450_000, maxBuffer: 16 << 20,
  }).then((r) => ({ code: 0, out: r.stdout, err: r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }));
  t.log(`nfs-vm --plain: ${plain.err.trim().split('\n').at(-1) ?? ''}`);
  t.is(plain.code, 0, `guest output:\n${plain.out}\nnfs-vm:\n${plain.err}\ngateway:\n${mapped.output().slice(-4000)}`);
  t.regex(plain.out, /hello kernel\nsecond line\nplain\n/);
  t.regex(plain.out, /vers=3/);
  t.is(await mapped.stop(), 0);
});
