// Suite nfs: the NFSv3 gateway (three node processes, R = 3, one gateway process) beside nfs-ganesha (FSAL VFS on a
// local directory, ../shared/tools/nfs-vm/peer-ganesha.sh) on the same machine in the same run, as ratios:
// sequential write and read of 1 GiB with nfs-cp (libnfs) from the host, and create + stat + remove of 10,000 files
// through the Linux kernel client in nfs-vm (QEMU). Goal (issue 6): reads ≥ 1.0× ganesha, writes ≥ 0.5× ganesha.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TestCluster } from '../integration/harness/spawn-cluster.js';
import { nfsUrl, shoal, startGateway } from '../integration/gateway/gateway-process.js';
import { MiB, type Measurement } from './measure.js';
import type { Comparison, Metric, Suite, SuiteContext, SuiteOutput } from './report.js';

const run = promisify(execFile);
const NFS_VM_DIR = resolve(process.env['SHOAL_NFS_VM_DIR'] ?? '../shared/tools/nfs-vm');
const NFS_VM = join(NFS_VM_DIR, 'nfs-vm');
const PEER_GANESHA = join(NFS_VM_DIR, 'peer-ganesha.sh');
const GANESHA_PORT = 12049;

/** Guest script: create, stat and remove NFILES empty files in one directory; prints `PHASE <name> <seconds>`. */
const GUEST_SCRIPT = `#!/bin/sh
M=\${NFSVM_MNT:-/mnt}; N=\${NFILES:-10000}
up() { read -r u _ < /proc/uptime; echo "$u"; }
el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
D=$M/small.$$; mkdir $D || exit 3
drop; t0=$(up); i=0; while [ $i -lt $N ]; do : > $D/f$i; i=$((i+1)); done; sync; t1=$(up)
echo "PHASE create $(el $t0 $t1)"
drop; t0=$(up); i=0; m=0; while [ $i -lt $N ]; do [ -e $D/f$i ] || m=$((m+1)); i=$((i+1)); done; t1=$(up)
echo "PHASE stat $(el $t0 $t1)"
echo "MISSING $m"
drop; t0=$(up); rm -rf $D; t1=$(up)
echo "PHASE remove $(el $t0 $t1)"
[ -e $D ] && echo "ERROR: $D still there"
exit 0
`;

interface ServerTarget {
  readonly label: string;
  /** libnfs URL of a path on the server's export. */
  url(path: string): string;
  /** nfs-vm arguments reaching the server. */
  readonly vmArgs: readonly string[];
}

interface Sizes {
  readonly mib: number;
  readonly files: number;
}

function measurement(name: string, ops: number, bytes: number, seconds: number, concurrency = 1): Measurement {
  return { name, ops, bytes, seconds, opsPerSec: ops / seconds, mbPerSec: bytes / 1e6 / seconds, concurrency };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function filesEqual(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (sa.size !== sb.size) return false;
  const [fa, fb] = await Promise.all([open(a), open(b)]);
  try {
    const ba = Buffer.alloc(8 * MiB);
    const bb = Buffer.alloc(8 * MiB);
    for (let pos = 0; pos < sa.size; pos += ba.length) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length, pos), fb.read(bb, 0, bb.length, pos)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** nfs-cp write then read of the source file; the read-back is checked byte for byte. */
async function measureLibnfs(context: SuiteContext, target: ServerTarget, source: string, scratch: string, sizes: Sizes): Promise<Measurement[]> {
  const bytes = sizes.mib * MiB;
  const remote = target.url(`/bench-${process.pid}-${Date.now()}.big`);
  context.log(`${target.label}: nfs-cp write ${sizes.mib} MiB`);
  const writeS = await timed(() => run('nfs-cp', [source, remote], { maxBuffer: 1 << 20, timeout: 1_800_000 }));
  const back = join(scratch, `back-${target.label}`);
  context.log(`${target.label}: nfs-cp read ${sizes.mib} MiB`);
  const readS = await timed(() => run('nfs-cp', [remote, back], { maxBuffer: 1 << 20, timeout: 1_800_000 }));
  const same = await filesEqual(source, back);
  await rm(back, { force: true });
  if (!same) throw new Error(`${target.label}: the file read back with nfs-cp differs from the one written`);
  return [
    measurement(`${target.label} nfs-cp write ${sizes.mib} MiB`, 1, bytes, writeS),
    measurement(`${target.label} nfs-cp read ${sizes.mib} MiB`, 1, bytes, readS),
  ];
}

/** The kernel client in nfs-vm: create, stat, remove `files` files; one measurement per phase and one for all three. */
async function measureVm(context: SuiteContext, target: ServerTarget, script: string, sizes: Sizes): Promise<{ measurements: Measurement[]; summary: string }> {
  context.log(`${target.label}: nfs-vm create+stat+remove of ${sizes.files} files (kernel client, TCG)`);
  const timeoutS = Math.max(600, Math.ceil(sizes.files * 0.3));
  const vm = await run(NFS_VM, [...target.vmArgs, '--export', '/vol', '--script', script, '--env', `NFILES=${sizes.files}`, '--timeout', String(timeoutS)], {
    timeout: (timeoutS + 60) * 1000, maxBuffer: 16 << 20,
  }).then((r) => ({ code: 0, out: r.stdout, err: r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout ?? '', err: e.stderr ?? '' }));
  const summary = vm.err.trim().split('\n').at(-1) ?? '';
  if (vm.code !== 0) throw new Error(`${target.label}: nfs-vm exited ${vm.code}\n${vm.out}\n${vm.err.slice(-3000)}`);
  const phases = new Map<string, number>();
  for (const m of vm.out.matchAll(/^PHASE (\w+) ([\d.]+)$/gm)) phases.set(m[1] ?? '', Number(m[2]));
  const missing = /^MISSING (\d+)$/m.exec(vm.out)?.[1];
  if (missing !== '0' || /ERROR/.test(vm.out)) throw new Error(`${target.label}: guest reported a problem:\n${vm.out}`);
  const result: Measurement[] = [];
  let total = 0;
  for (const phase of ['create', 'stat', 'remove']) {
    const s = phases.get(phase);
    if (s === undefined) throw new Error(`${target.label}: no ${phase} figure in the guest output:\n${vm.out}`);
    total += s;
    result.push(measurement(`${target.label} kernel ${phase} ${sizes.files} files`, sizes.files, 0, s));
  }
  result.unshift(measurement(`${target.label} kernel create+stat+remove ${sizes.files} files`, 3 * sizes.files, 0, total));
  return { measurements: result, summary };
}

async function ganeshaAvailable(): Promise<string | undefined> {
  if (!existsSync(PEER_GANESHA)) return `peer-ganesha.sh not found at ${PEER_GANESHA}`;
  return undefined;
}

export const nfsSuite: Suite = {
  name: 'nfs',
  description: 'NFSv3 gateway (3 node processes, R = 3) vs nfs-ganesha FSAL VFS on a local directory: nfs-cp 1 GiB, kernel-client small files',
  async run(context: SuiteContext): Promise<SuiteOutput> {
    const sizes: Sizes = context.quick ? { mib: 128, files: 1_000 } : { mib: 1024, files: 10_000 };
    const notes: string[] = [];
    const scratch = await mkdtemp(join(tmpdir(), 'shoal-nfs-bench-'));
    const measurements = new Map<string, Measurement>();
    const add = (ms: readonly Measurement[]): void => ms.forEach((m) => measurements.set(m.name, m));
    const vmSummaries: string[] = [];
    const vmOk = existsSync(NFS_VM) && (await run('sh', ['-c', 'command -v qemu-system-x86_64']).then(() => true, () => false));
    if (!vmOk) notes.push(`kernel-client figures missing: nfs-vm (${NFS_VM}) or QEMU is not available`);
    const libnfsOk = await run('sh', ['-c', 'command -v nfs-cp']).then(() => true, () => false);
    if (!libnfsOk) notes.push('nfs-cp figures missing: libnfs-utils is not installed (apt-get install libnfs-utils)');

    try {
      const source = join(scratch, 'source');
      // Random bytes, so that neither server can gain from compression or zero detection.
      await run('sh', ['-c', `head -c ${sizes.mib * MiB} /dev/urandom > '${source}'`]);
      const script = join(scratch, 'guest.sh');
      await writeFile(script, GUEST_SCRIPT, { mode: 0o755 });

      // ganesha first, while no node process competes for the two cores; stopped before the cluster starts.
      const ganeshaMissing = await ganeshaAvailable();
      if (ganeshaMissing !== undefined) {
        notes.push(`ganesha NOT measured: ${ganeshaMissing}; only the gateway figures are reported`);
      } else {
        const exportDir = join(scratch, 'ganesha-export');
        const started = await run(PEER_GANESHA, ['start', exportDir, String(GANESHA_PORT)], { timeout: 600_000, maxBuffer: 16 << 20 })
          .then((r) => ({ ok: true, text: r.stdout + r.stderr }), (e: { stdout?: string; stderr?: string; message: string }) => ({ ok: false, text: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message }));
        if (!started.ok) {
          notes.push(`ganesha NOT measured: peer-ganesha.sh start failed: ${started.text.trim().split('\n').slice(-3).join(' | ')}; only the gateway figures are reported`);
        } else {
          context.log(started.text.trim());
          const ganesha: ServerTarget = {
            label: 'ganesha',
            url: (path) => `nfs://127.0.0.1/vol${path}?version=3&nfsport=${GANESHA_PORT}&mountport=${GANESHA_PORT + 1}`,
            vmArgs: ['--port', String(GANESHA_PORT), '--mountport', String(GANESHA_PORT + 1)],
          };
          try {
            if (libnfsOk) add(await measureLibnfs(context, ganesha, source, scratch, sizes));
            if (vmOk) {
              const vm = await measureVm(context, ganesha, script, sizes);
              add(vm.measurements);
              vmSummaries.push(`ganesha: ${vm.summary}`);
            }
          } finally {
            await run(PEER_GANESHA, ['stop', exportDir, String(GANESHA_PORT)], { timeout: 60_000 }).catch(() => undefined);
          }
        }
      }

      context.log('starting 3 node processes and a gateway');
      const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
      try {
        await shoal(cluster, 'volume', 'create', 'vol', '--replicas', '3');
        const gatewayProcess = await startGateway(cluster);
        try {
          const gateway: ServerTarget = {
            label: 'gateway',
            url: (path) => nfsUrl(gatewayProcess.nfsPort, `/vol${path}`),
            vmArgs: ['--port', String(gatewayProcess.nfsPort)],
          };
          if (libnfsOk) add(await measureLibnfs(context, gateway, source, scratch, sizes));
          if (vmOk) {
            const vm = await measureVm(context, gateway, script, sizes);
            add(vm.measurements);
            vmSummaries.push(`gateway: ${vm.summary}`);
          }
        } finally {
          await gatewayProcess.stop();
        }
      } finally {
        await cluster.stop();
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }

    const comparisons: Comparison[] = [];
    const pair = (figure: string, baseline: string, metric: Metric): Comparison | undefined => {
      const f = measurements.get(`gateway ${figure}`);
      const b = measurements.get(`ganesha ${baseline}`);
      if (!f || !b) return undefined;
      const value = metric === 'mbPerSec' ? f.mbPerSec : f.opsPerSec;
      const baselineValue = metric === 'mbPerSec' ? b.mbPerSec : b.opsPerSec;
      const c: Comparison = { figure: f.name, baseline: b.name, metric, value, baselineValue, ratio: value / baselineValue };
      comparisons.push(c);
      return c;
    };
    const write = pair(`nfs-cp write ${sizes.mib} MiB`, `nfs-cp write ${sizes.mib} MiB`, 'mbPerSec');
    const read = pair(`nfs-cp read ${sizes.mib} MiB`, `nfs-cp read ${sizes.mib} MiB`, 'mbPerSec');
    for (const what of ['create+stat+remove', 'create', 'stat', 'remove']) pair(`kernel ${what} ${sizes.files} files`, `kernel ${what} ${sizes.files} files`, 'opsPerSec');

    const mb = (name: string): string => {
      const m = measurements.get(name);
      return m ? `${m.mbPerSec.toFixed(1)} MB/s (${m.seconds.toFixed(2)} s)` : 'not measured';
    };
    const verdict = (c: Comparison | undefined, goal: number): string =>
      c === undefined ? 'NOT MEASURED (no ganesha figure)' : `${c.ratio >= goal ? 'MET' : 'NOT MET'} (${c.ratio.toFixed(2)}×)`;
    notes.unshift(
      `goal reads ≥ 1.0× ganesha: ${verdict(read, 1.0)}; gateway ${mb(`gateway nfs-cp read ${sizes.mib} MiB`)}, ganesha ${mb(`ganesha nfs-cp read ${sizes.mib} MiB`)}.`,
      `goal writes ≥ 0.5× ganesha with three replicas: ${verdict(write, 0.5)}; gateway ${mb(`gateway nfs-cp write ${sizes.mib} MiB`)}, ganesha ${mb(`ganesha nfs-cp write ${sizes.mib} MiB`)}.`,
      `nfs-cp (libnfs-utils) from the host over loopback, one ${sizes.mib} MiB file of random bytes, one process each way; the read follows the write (server caches warm for both servers) and is compared byte for byte with the source.`,
      'gateway: volume with R = 3 on three `shoal node run` processes and one `shoal gateway run`, all on this machine; ganesha: FSAL VFS on a local temp directory (one copy, the kernel page cache, no TLS). ganesha runs first and is stopped before the cluster starts.',
      `kernel client: Debian's stock kernel in nfs-vm (QEMU), mount.nfs vers=3,proto=tcp,nolock; ${sizes.files} empty files created (shell builtin), checked with test -e after dropping caches, removed with rm -rf; create+stat+remove = 3 × ${sizes.files} operations over the sum of the three phases. Each guest connection goes through a socat process (QEMU guestfwd).`,
      'machine: 2 cores shared by the client, the servers and (for the kernel figures) QEMU; /dev/kvm is kvm-pvm, so the guest runs under TCG emulation: the emulated CPU caps the kernel-client rates, which bounds the ganesha figures more than the gateway ones (ganesha answers faster than the guest can ask); the kernel-client ratios are therefore, if anything, flattering to the gateway. The nfs-cp figures (no VM) are the ones the goals are judged on.',
      ...vmSummaries.map((s) => `nfs-vm ${s}`),
    );
    return { measurements: [...measurements.values()], comparisons, notes };
  },
};
