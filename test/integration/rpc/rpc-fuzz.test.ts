// Goal: 10,000 mutated, truncated and misframed RPC records never crash or hang a running server: each is answered
// with a well-formed reply or its connection is closed, no procedure fails on bad input (no SYSTEM_ERR), and a good
// call is answered afterwards. Method: valid calls mutated by a seeded Random (SHOAL_SEED to replay), sent in batches
// over four concurrent connections, each batch ending with a good call and a shutdown of the client's sending side.
import test from 'ava';
import type { Logger } from '../../../storage-node/base/log.js';
import { Random } from '../../../storage-node/base/random.js';
import { mappingsOf, portmapProgram } from '../../../gateway/portmap/portmap-program.js';
import { decodeReply, reply_stat } from '../../../gateway/rpc/rpc-message.js';
import { nullProcedure, type RpcProgram } from '../../../gateway/rpc/rpc-program.js';
import { RpcServer } from '../../../gateway/rpc/rpc-server.js';
import { callBody, frame, RawRpcClient, words } from './raw-rpc-client.js';
import { framedRecord, mutateCall } from './record-mutator.js';

const RECORDS = 10_000;
const BATCH = 20;
const LANES = 4;
const BATCH_TIMEOUT_MS = 5000;
const PROG = 0x20000002;
const SEED = process.env['SHOAL_SEED'] ?? 'rpc-fuzz-1';

const fuzzProgram: RpcProgram = {
  prog: PROG,
  name: 'fuzz',
  versions: {
    1: {
      0: nullProcedure('NULL'),
      1: { name: 'ECHO', handler: async (args) => {
        const text = args.readString(64);
        args.finish();
        return (w) => w.writeString(text);
      } },
      2: { name: 'SUM', handler: async (args) => {
        const values = args.readArray(16, (r) => r.readUint());
        args.finish();
        return (w) => w.writeUhyper(values.reduce((a, b) => a + BigInt(b), 0n));
      } },
      3: { name: 'LIST', handler: async (args) => {
        const items = args.readList(8, (r) => ({ id: r.readHyper(), name: r.readOptional((x) => x.readOpaque(32)) }));
        args.finish();
        return (w) => w.writeUint(items.length);
      } },
      4: { name: 'WHOAMI', handler: async (_args, call) => {
        const uid = call.auth.flavor === 1 ? call.auth.parms.uid : 65534;
        return (w) => w.writeUint(uid);
      } },
    },
  },
};

const str = (s: string) => Buffer.concat([words(s.length), Buffer.from(s), Buffer.alloc((4 - (s.length % 4)) % 4)]);
const AUTH_SYS = Buffer.concat([words(1, 32), words(1, 4), Buffer.from('fuzz'), words(1000, 1000, 2, 1000, 27)]);
const SEEDS: Buffer[] = [
  callBody({ xid: 1, prog: PROG, vers: 1, proc: 0 }),
  callBody({ xid: 2, prog: PROG, vers: 1, proc: 1, args: str('hello, fuzz') }),
  callBody({ xid: 3, prog: PROG, vers: 1, proc: 2, args: words(3, 1, 2, 3) }),
  callBody({ xid: 4, prog: PROG, vers: 1, proc: 3, args: Buffer.concat([words(1, 0, 7, 1), str('a'), words(1, 0, 8, 0, 0)]) }),
  callBody({ xid: 5, prog: PROG, vers: 1, proc: 4, cred: AUTH_SYS }),
  callBody({ xid: 6, prog: 100000, vers: 2, proc: 3, args: words(PROG, 1, 6, 0) }),
  callBody({ xid: 7, prog: 100000, vers: 2, proc: 4 }),
  callBody({ xid: 8, prog: 100000, vers: 2, proc: 1, args: words(PROG, 1, 6, 9) }),
];
const INTERESTING = [0, 1, 2, 3, 4, 16, 17, 64, 65, 255, 256, 400, 401, 0x7fffffff, 0x80000000, 0xffffffff, 100000, PROG];

function countingLogger(counts: Map<string, number>): Logger {
  const count = (_fields: Record<string, unknown>, event: string) => void counts.set(event, (counts.get(event) ?? 0) + 1);
  const log: Logger = { info: count, warn: count, error: count, debug: count, child: () => log };
  return log;
}

test(`${RECORDS} mutated records: answered or closed, never a crash, a hang or a SYSTEM_ERR (seed ${SEED})`, async (t) => {
  const events = new Map<string, number>();
  const server = new RpcServer({ log: countingLogger(events) }).register(fuzzProgram);
  server.register(portmapProgram(() => mappingsOf([server])));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const random = new Random(SEED);
  const outcome = { replies: 0, sentinels: 0, closedEarly: 0, byStat: new Map<string, number>() };

  const runBatch = async (lane: Random, batch: number): Promise<void> => {
    const records = Array.from({ length: BATCH }, () => framedRecord(lane, mutateCall(lane, lane.pick(SEEDS), { interesting: INTERESTING })));
    const sentinelXid = 0x5e000000 + batch;
    const client = await RawRpcClient.connect(port);
    client.send(Buffer.concat([...records, frame(callBody({ xid: sentinelXid, prog: PROG, vers: 1, proc: 0 }))]));
    client.end();
    await client.waitForClose(BATCH_TIMEOUT_MS).catch((err: Error) => {
      client.destroy();
      throw new Error(`batch ${batch} (seed ${SEED}): ${err.message}`);
    });
    for (const record of client.records) {
      const reply = decodeReply(record.subarray(4)); // throws on a malformed reply
      const stat = reply.body.stat === reply_stat.MSG_ACCEPTED ? `accepted:${reply.body.areply.stat}` : `denied:${reply.body.rreply.stat}`;
      outcome.byStat.set(stat, (outcome.byStat.get(stat) ?? 0) + 1);
      if (reply.xid === sentinelXid) outcome.sentinels++;
    }
    outcome.replies += client.records.length;
    if (!client.records.some((r) => r.readUInt32BE(4) === sentinelXid)) outcome.closedEarly++;
  };

  const batches = RECORDS / BATCH;
  let next = 0;
  await Promise.all(Array.from({ length: LANES }, async (_, i) => {
    const lane = random.fork(`lane-${i}`);
    while (next < batches) await runBatch(lane, next++);
  }));

  const good = await RawRpcClient.connect(port);
  good.send(frame(callBody({ xid: 42, prog: PROG, vers: 1, proc: 1, args: str('still here') })));
  const [reply] = await good.waitForRecords(1);
  t.deepEqual(reply, Buffer.concat([words(0x80000000 + 24 + 16), words(42, 1, 0, 0, 0, 0), str('still here')]));
  good.destroy();
  await server.close();

  t.log(`seed ${SEED}: ${outcome.replies} replies, ${outcome.sentinels}/${batches} batches answered to the end, ${outcome.closedEarly} closed early`);
  t.log(`replies by stat: ${JSON.stringify(Object.fromEntries(outcome.byStat))}`);
  t.log(`server events: ${JSON.stringify(Object.fromEntries(events))}`);
  t.is(events.get('rpc.system_err') ?? 0, 0, 'no procedure failed on bad input');
  t.is(events.get('rpc.dispatch_failed') ?? 0, 0);
  t.true(outcome.sentinels > 0 && outcome.closedEarly > 0, 'both outcomes occur, so the mutations reach both paths');
  t.true((outcome.byStat.get('accepted:4') ?? 0) > 0, 'some calls reach GARBAGE_ARGS');
});
