// Goal: 100,000 mutated and truncated RPC records against a running `shoal gateway run` (its real NFS and MOUNT
// programs) never crash or hang it: each batch is answered or its connection closed, no procedure fails on bad input
// (no SYSTEM_ERR), the process is alive at the end and a real client (libnfs, else a raw call) is still served.
// Method: seeds are real calls with real handles (MNT's root handle, a file CREATEd for the purpose): GETATTR, LOOKUP,
// ACCESS, READ, WRITE, SETATTR, CREATE, MKDIR, REMOVE, RENAME, READDIR, READDIRPLUS, FSSTAT, FSINFO, PATHCONF, COMMIT,
// MNT, UMNT, EXPORT, DUMP, mostly with an AUTH_SYS credential, so that most mutations reach the NFS decoders and
// procedures, not only the RPC layer; a seeded Random (SHOAL_SEED to replay, SHOAL_FUZZ_RECORDS to resize) mutates
// them (bit flips, interesting words, truncation, extension, a dropped word, noise) and frames them (fragments,
// lying record marks); batches go over four concurrent connections, each ending with an NFS NULL and a shutdown.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Random } from '../../../storage-node/base/random.js';
import { decodeReply, reply_stat } from '../../../gateway/rpc/rpc-message.js';
import { TestCluster } from '../harness/spawn-cluster.js';
import { callBody, frame, RawRpcClient, words } from '../rpc/raw-rpc-client.js';
import { framedRecord, mutateCall } from '../rpc/record-mutator.js';
import { hasLibnfs, nfsUrl, shoal, startGateway } from './gateway-process.js';

const run = promisify(execFile);
const RECORDS = Number(process.env['SHOAL_FUZZ_RECORDS'] ?? 100_000);
const BATCH = 50;
const LANES = 4;
const BATCH_TIMEOUT_MS = 30_000;
const SEED = process.env['SHOAL_SEED'] ?? 'gateway-fuzz-1';
const NFS = 100003;
const MOUNT = 100005;

const str = (s: string): Buffer => Buffer.concat([words(s.length), Buffer.from(s), Buffer.alloc((4 - (s.length % 4)) % 4)]);
const opaque = (b: Buffer): Buffer => Buffer.concat([words(b.length), b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
const authSys = (uid: number, gid: number): Buffer => {
  const body = Buffer.concat([words(7), str('fuzz'), words(uid, gid, 2, gid, 27)]);
  return Buffer.concat([words(1), opaque(body)]);
};
const ROOT = authSys(0, 0);
const USER = authSys(1000, 1000);
/** sattr3 (RFC 1813 §2.6): mode set, the rest not; then DONT_CHANGE times. */
const sattrMode = (mode: number): Buffer => words(1, mode, 0, 0, 0, 0, 0);

/** The call at offset 24 of a reply record (mark included): the accept_stat, then the results. */
function results(record: Buffer): Buffer {
  const reply = record.subarray(4);
  if (reply.readUInt32BE(8) !== 0 || reply.readUInt32BE(20) !== 0) throw new Error('call not accepted');
  return reply.subarray(24);
}

async function call(port: number, body: Buffer): Promise<Buffer> {
  const client = await RawRpcClient.connect(port);
  try {
    client.send(frame(body));
    const [record] = await client.waitForRecords(1, 10_000);
    return results(record!);
  } finally {
    client.destroy();
  }
}

function seedCalls(rootFh: Buffer, fileFh: Buffer): Buffer[] {
  const root = opaque(rootFh);
  const file = opaque(fileFh);
  const nfs = (proc: number, args: Buffer, cred = ROOT): Buffer => callBody({ xid: 0x1000 + proc, prog: NFS, vers: 3, proc, cred, args });
  const mount = (proc: number, args: Buffer): Buffer => callBody({ xid: 0x2000 + proc, prog: MOUNT, vers: 3, proc, cred: ROOT, args });
  return [
    nfs(0, Buffer.alloc(0), Buffer.from(words(0, 0))),
    nfs(1, root), nfs(1, file, USER),
    nfs(2, Buffer.concat([file, sattrMode(0o644), words(0)])),
    nfs(2, Buffer.concat([file, words(0, 0, 0, 1, 0, 0x1000, 0, 0), words(0)])), // size 4096
    nfs(3, Buffer.concat([root, str('seed.txt')])), nfs(3, Buffer.concat([root, str('..')]), USER),
    nfs(4, Buffer.concat([root, words(0x3f)])), nfs(4, Buffer.concat([file, words(0x3f)]), USER),
    nfs(5, file),
    nfs(6, Buffer.concat([file, words(0, 0, 4096)])),
    nfs(7, Buffer.concat([file, words(0, 100, 11, 0), opaque(Buffer.from('hello fuzz!'))])),
    nfs(7, Buffer.concat([file, words(0, 0, 8, 2), opaque(Buffer.from('stable!!'))])),
    nfs(8, Buffer.concat([root, str('made.txt'), words(0), sattrMode(0o600)])),
    nfs(8, Buffer.concat([root, str('excl.txt'), words(2), Buffer.from('verifier')])),
    nfs(9, Buffer.concat([root, str('made.dir'), sattrMode(0o755)])),
    nfs(10, Buffer.concat([root, str('sym'), sattrMode(0o777), str('seed.txt')])),
    nfs(12, Buffer.concat([root, str('made.txt')])),
    nfs(13, Buffer.concat([root, str('made.dir')])),
    nfs(14, Buffer.concat([root, str('made.txt'), root, str('renamed.txt')])),
    nfs(15, Buffer.concat([file, root, str('hard.txt')])),
    nfs(16, Buffer.concat([root, words(0, 0, 0, 0, 4096)])),
    nfs(17, Buffer.concat([root, words(0, 0, 0, 0, 1024, 8192)])),
    nfs(17, Buffer.concat([root, words(0, 3, 0, 0, 512, 65536)]), USER),
    nfs(18, root), nfs(19, root), nfs(20, file),
    nfs(21, Buffer.concat([file, words(0, 0, 0)])),
    mount(0, Buffer.alloc(0)), mount(1, str('/vol')), mount(2, Buffer.alloc(0)), mount(3, str('/vol')), mount(5, Buffer.alloc(0)),
  ];
}

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 16, 17, 22, 63, 64, 65, 255, 256, 1024, 4096, 65536, 1 << 20, (1 << 20) + 1,
  0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, NFS, MOUNT];

test.serial(`${RECORDS} mutated NFS/MOUNT records against a gateway process: answered or closed, never a crash or a hang (seed ${SEED})`, async (t) => {
  t.timeout(1_200_000);
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  await shoal(cluster, 'volume', 'create', 'vol');
  const gateway = await startGateway(cluster);
  t.teardown(() => gateway.kill());
  const port = gateway.nfsPort;

  // Real handles: the root from MNT, a file from CREATE.
  const mnt = await call(port, callBody({ xid: 1, prog: MOUNT, vers: 3, proc: 1, cred: ROOT, args: str('/vol') }));
  t.is(mnt.readUInt32BE(0), 0, 'MNT /vol');
  const rootFh = Buffer.from(mnt.subarray(8, 8 + mnt.readUInt32BE(4)));
  const made = await call(port, callBody({ xid: 2, prog: NFS, vers: 3, proc: 8, cred: ROOT, args: Buffer.concat([opaque(rootFh), str('seed.txt'), words(0), sattrMode(0o666)]) }));
  t.is(made.readUInt32BE(0), 0, 'CREATE seed.txt');
  t.is(made.readUInt32BE(4), 1, 'with its handle');
  const fileFh = Buffer.from(made.subarray(12, 12 + made.readUInt32BE(8)));
  const seeds = seedCalls(rootFh, fileFh);

  const random = new Random(SEED);
  const outcome = { records: 0, replies: 0, sentinels: 0, closedEarly: 0, byStat: new Map<string, number>() };
  const runBatch = async (lane: Random, batch: number): Promise<void> => {
    const records = Array.from({ length: BATCH }, () => framedRecord(lane, mutateCall(lane, lane.pick(seeds), { interesting: INTERESTING, argsFromWord: 16 })));
    const sentinelXid = 0x5e000000 + batch;
    const client = await RawRpcClient.connect(port);
    client.send(Buffer.concat([...records, frame(callBody({ xid: sentinelXid, prog: NFS, vers: 3, proc: 0 }))]));
    client.end();
    await client.waitForClose(BATCH_TIMEOUT_MS).catch((err: Error) => {
      client.destroy();
      throw new Error(`batch ${batch} (seed ${SEED}): ${err.message}; gateway exit ${gateway.child.exitCode}\n${gateway.output().slice(-3000)}`);
    });
    outcome.records += BATCH;
    for (const record of client.records) {
      const reply = decodeReply(record.subarray(4)); // throws on a malformed reply
      const stat = reply.body.stat === reply_stat.MSG_ACCEPTED ? `accepted:${reply.body.areply.stat}` : `denied:${reply.body.rreply.stat}`;
      outcome.byStat.set(stat, (outcome.byStat.get(stat) ?? 0) + 1);
      if (reply.xid === sentinelXid) outcome.sentinels++;
    }
    outcome.replies += client.records.length;
    if (!client.records.some((r) => r.readUInt32BE(4) === sentinelXid)) outcome.closedEarly++;
  };

  const started = Date.now();
  const batches = Math.ceil(RECORDS / BATCH);
  let next = 0;
  await Promise.all(Array.from({ length: LANES }, async (_, i) => {
    const lane = random.fork(`lane-${i}`);
    while (next < batches) await runBatch(lane, next++);
  }));
  const seconds = (Date.now() - started) / 1000;

  t.log(`seed ${SEED}: ${outcome.records} records in ${batches} batches over ${LANES} connections at a time, ${seconds.toFixed(1)} s; ${outcome.replies} replies, ${outcome.sentinels} batches answered to the end, ${outcome.closedEarly} closed early`);
  t.log(`replies by stat: ${JSON.stringify(Object.fromEntries(outcome.byStat))}`);
  t.is(gateway.child.exitCode, null, 'the gateway is alive');
  t.is(gateway.child.signalCode, null);
  t.is(outcome.byStat.get('accepted:5') ?? 0, 0, 'no SYSTEM_ERR: no procedure failed on bad input');
  t.true(outcome.sentinels > 0 && outcome.closedEarly > 0, 'both outcomes occur');
  t.true((outcome.byStat.get('accepted:4') ?? 0) > 0, 'some calls reach GARBAGE_ARGS');
  t.true((outcome.byStat.get('accepted:0') ?? 0) > outcome.records / 10, 'many calls reach the procedures');

  // Still serving: a raw GETATTR of the root, and a real client.
  const attr = await call(port, callBody({ xid: 3, prog: NFS, vers: 3, proc: 1, cred: ROOT, args: opaque(rootFh) }));
  t.is(attr.readUInt32BE(0), 0, 'GETATTR of the root after the fuzz');
  if (await hasLibnfs()) {
    const ls = await run('nfs-ls', [nfsUrl(port, '/vol')], { timeout: 60_000, maxBuffer: 64 << 20 });
    t.regex(ls.stdout, /seed\.txt/);
    const cat = await run('nfs-cat', [nfsUrl(port, '/vol/seed.txt')], { timeout: 60_000, encoding: 'buffer', maxBuffer: 64 << 20 });
    t.true(cat.stdout.length >= 0);
  }
  t.is(gateway.child.exitCode, null, 'still alive after the real client');
  t.is(await gateway.stop(), 0);
});
