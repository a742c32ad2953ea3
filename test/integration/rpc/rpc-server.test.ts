// Goal: the RPC server and portmap answer real calls over TCP on 127.0.0.1 with the bytes RFC 5531 and RFC 1833
// prescribe, including every RPC-level refusal, and close only the connection that sends a malformed record.
// Method: a raw client that writes calls word by word and compares each reply record with expected words.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../storage-node/base/log.js';
import { startPortmap } from '../../../gateway/portmap/portmap-program.js';
import { nullProcedure, type RpcProgram } from '../../../gateway/rpc/rpc-program.js';
import { RpcServer } from '../../../gateway/rpc/rpc-server.js';
import { callBody, frame, RawRpcClient, words } from './raw-rpc-client.js';

const PROG = 0x20000001; // RFC 5531 §8.3: 0x20000000 - 0x3fffffff is defined by users
interface LogLine { level: string; event: string }
const recordingLogger = (lines: LogLine[]): Logger => {
  const at = (level: string) => (_fields: Record<string, unknown>, event: string) => void lines.push({ level, event });
  const log: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: () => log };
  return log;
};

function testProgram(stats: { running: number; runningMax: number }): RpcProgram {
  return {
    prog: PROG,
    name: 'test',
    versions: {
      1: { 0: nullProcedure('NULL') },
      3: {
        0: nullProcedure('NULL'),
        1: { name: 'ECHO', handler: async (args) => {
          const text = args.readString(64);
          return (w) => w.writeString(text);
        } },
        2: { name: 'SLEEP', handler: async (args) => {
          const ms = args.readUint();
          stats.running++;
          stats.runningMax = Math.max(stats.runningMax, stats.running);
          await sleep(ms);
          stats.running--;
          return (w) => w.writeUint(ms);
        } },
        3: { name: 'THROW', handler: async () => { throw new TypeError('a bug'); } },
        4: { name: 'WHOAMI', handler: async (_args, call) => {
          const ids = call.auth.flavor === 1 ? [call.auth.parms.uid, call.auth.parms.gid] : [0xffffffff, 0xffffffff];
          return (w) => w.writeUint(ids[0] as number).writeUint(ids[1] as number);
        } },
      },
    },
  };
}

async function start(options: { callsInFlightMax?: number } = {}) {
  const lines: LogLine[] = [];
  const stats = { running: 0, runningMax: 0 };
  const log = recordingLogger(lines);
  const server = new RpcServer({ log, ...options }).register(testProgram(stats));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const portmap = await startPortmap({ host: '127.0.0.1', port: 0, servers: [server], log });
  const pmapPort = portmap.address()?.port as number;
  const clients: RawRpcClient[] = [];
  const client = async (to = port) => {
    const c = await RawRpcClient.connect(to);
    clients.push(c);
    return c;
  };
  const stop = async () => {
    for (const c of clients) c.destroy();
    await Promise.all([server.close(), portmap.close()]);
  };
  return { server, port, pmapPort, lines, stats, client, stop };
}

// Reply words: xid, REPLY = 1, MSG_ACCEPTED = 0, verf AUTH_NONE (0, 0), accept_stat, ...
const accepted = (xid: number, ...rest: number[]) => frame(words(xid, 1, 0, 0, 0, ...rest));
// xid, REPLY = 1, MSG_DENIED = 1, reject_stat, ...
const denied = (xid: number, ...rest: number[]) => frame(words(xid, 1, 1, ...rest));
const string = (s: string) => {
  const bytes = Buffer.from(s);
  return Buffer.concat([words(bytes.length), bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)]);
};

test('NULL, a procedure with arguments and AUTH_SYS, each answered with the exact bytes', async (t) => {
  const s = await start();
  try {
    const c = await s.client();
    const authSys = Buffer.concat([words(1, 28), words(7, 3), Buffer.from('box\0'), words(1000, 100, 1, 100)]);
    c.send(frame(callBody({ xid: 1, prog: PROG, vers: 3, proc: 0 })));
    c.send(frame(callBody({ xid: 2, prog: PROG, vers: 3, proc: 1, args: string('hello') })));
    c.send(frame(callBody({ xid: 3, prog: PROG, vers: 3, proc: 4, cred: authSys })));
    c.send(frame(callBody({ xid: 4, prog: PROG, vers: 1, proc: 0 })));
    const replies = await c.waitForRecords(4);
    const byXid = new Map(replies.map((r) => [r.readUInt32BE(4), r]));
    t.deepEqual(byXid.get(1), accepted(1, 0));
    t.deepEqual(byXid.get(2), Buffer.concat([words(0x80000000 + 24 + 12), words(2, 1, 0, 0, 0, 0), string('hello')]));
    t.deepEqual(byXid.get(3), accepted(3, 0, 1000, 100));
    t.deepEqual(byXid.get(4), accepted(4, 0));
  } finally {
    await s.stop();
  }
});

test('the RPC-level refusals of RFC 5531 §9, and the connection stays usable after each', async (t) => {
  const s = await start();
  try {
    const c = await s.client();
    const cases: [Buffer, Buffer][] = [
      [callBody({ xid: 10, prog: 100003, vers: 3, proc: 0 }), accepted(10, 1)], // PROG_UNAVAIL
      [callBody({ xid: 11, prog: PROG, vers: 2, proc: 0 }), accepted(11, 2, 1, 3)], // PROG_MISMATCH low 1 high 3
      [callBody({ xid: 12, prog: PROG, vers: 3, proc: 99 }), accepted(12, 3)], // PROC_UNAVAIL
      [callBody({ xid: 13, prog: PROG, vers: 3, proc: 1, args: words(60, 1) }), accepted(13, 4)], // GARBAGE_ARGS: truncated
      [callBody({ xid: 14, prog: PROG, vers: 3, proc: 1, args: words(65) }), accepted(14, 4)], // GARBAGE_ARGS: over string<64>
      [callBody({ xid: 15, prog: PROG, vers: 3, proc: 3 }), accepted(15, 5)], // SYSTEM_ERR
      [callBody({ xid: 16, prog: PROG, vers: 3, proc: 0, rpcvers: 3 }), denied(16, 0, 2, 2)], // RPC_MISMATCH low 2 high 2
      [callBody({ xid: 17, prog: PROG, vers: 3, proc: 0, cred: words(1, 4, 0) }), denied(17, 1, 1)], // AUTH_ERROR AUTH_BADCRED
      [callBody({ xid: 18, prog: PROG, vers: 3, proc: 0, cred: words(6, 0) }), denied(18, 1, 1)], // RPCSEC_GSS: AUTH_BADCRED
      [callBody({ xid: 19, prog: PROG, vers: 3, proc: 0, verf: words(1, 0) }), denied(19, 1, 3)], // AUTH_BADVERF
    ];
    for (const [call, expected] of cases) {
      c.send(frame(call));
      const replies = await c.waitForRecords(c.records.length + 1);
      t.deepEqual(replies.at(-1), expected, `xid ${expected.readUInt32BE(4)}`);
    }
    c.send(frame(callBody({ xid: 20, prog: PROG, vers: 3, proc: 0 })));
    t.deepEqual((await c.waitForRecords(cases.length + 1)).at(-1), accepted(20, 0));
    t.is(s.lines.filter((l) => l.event === 'rpc.system_err' && l.level === 'error').length, 1);
  } finally {
    await s.stop();
  }
});

test('portmap: GETPORT, DUMP and SET answered from the registered programs', async (t) => {
  const s = await start();
  try {
    const c = await s.client(s.pmapPort);
    c.send(frame(callBody({ xid: 1, prog: 100000, vers: 2, proc: 3, args: words(PROG, 3, 6, 0) })));
    c.send(frame(callBody({ xid: 2, prog: 100000, vers: 2, proc: 3, args: words(100003, 3, 6, 0) })));
    c.send(frame(callBody({ xid: 3, prog: 100000, vers: 2, proc: 3, args: words(100000, 2, 6, 0) })));
    c.send(frame(callBody({ xid: 4, prog: 100000, vers: 2, proc: 4 })));
    c.send(frame(callBody({ xid: 5, prog: 100000, vers: 2, proc: 1, args: words(100003, 3, 6, 2049) })));
    c.send(frame(callBody({ xid: 6, prog: 100000, vers: 2, proc: 5, args: words(PROG, 3, 0, 0) })));
    c.send(frame(callBody({ xid: 7, prog: 100000, vers: 3, proc: 0 })));
    const byXid = new Map((await c.waitForRecords(7)).map((r) => [r.readUInt32BE(4), r]));
    t.deepEqual(byXid.get(1), accepted(1, 0, s.port));
    t.deepEqual(byXid.get(2), accepted(2, 0, 0));
    t.deepEqual(byXid.get(3), accepted(3, 0, s.pmapPort));
    // pmaplist: portmap itself, then the test program's versions 1 and 3, each TRUE + mapping, then FALSE.
    t.deepEqual(byXid.get(4), accepted(4, 0, 1, 100000, 2, 6, s.pmapPort, 1, PROG, 1, 6, s.port, 1, PROG, 3, 6, s.port, 0));
    t.deepEqual(byXid.get(5), accepted(5, 0, 0), 'SET is refused');
    t.deepEqual(byXid.get(6), accepted(6, 3), 'CALLIT is PROC_UNAVAIL');
    t.deepEqual(byXid.get(7), accepted(7, 2, 2, 2), 'only version 2');
  } finally {
    await s.stop();
  }
});

test('calls run concurrently and replies come in completion order', async (t) => {
  const s = await start();
  try {
    const c = await s.client();
    c.send(Buffer.concat([
      frame(callBody({ xid: 1, prog: PROG, vers: 3, proc: 2, args: words(150) })),
      frame(callBody({ xid: 2, prog: PROG, vers: 3, proc: 2, args: words(1) })),
      frame(callBody({ xid: 3, prog: PROG, vers: 3, proc: 0 })),
    ]));
    const replies = await c.waitForRecords(3);
    t.deepEqual(replies.map((r) => r.readUInt32BE(4)).slice(-1), [1], 'the slow call answers last');
    t.deepEqual(replies.find((r) => r.readUInt32BE(4) === 1), accepted(1, 0, 150));
  } finally {
    await s.stop();
  }
});

test('calls in flight per connection are bounded; the rest wait and are all answered', async (t) => {
  const s = await start({ callsInFlightMax: 2 });
  try {
    const c = await s.client();
    const calls = Array.from({ length: 10 }, (_, i) => frame(callBody({ xid: 100 + i, prog: PROG, vers: 3, proc: 2, args: words(20) })));
    c.send(Buffer.concat(calls));
    const replies = await c.waitForRecords(10);
    t.deepEqual(replies.map((r) => r.readUInt32BE(4)).sort(), Array.from({ length: 10 }, (_, i) => 100 + i));
    t.is(s.stats.runningMax, 2);
  } finally {
    await s.stop();
  }
});

test('a call split into fragments and sent byte by byte is answered', async (t) => {
  const s = await start();
  try {
    const c = await s.client();
    const body = callBody({ xid: 9, prog: PROG, vers: 3, proc: 1, args: string('fragmented') });
    const stream = Buffer.concat([words(10), body.subarray(0, 10), words(0), words(20), body.subarray(10, 30), words(0x80000000 + body.length - 30), body.subarray(30)]);
    for (const byte of stream) {
      c.send(Buffer.from([byte]));
      await sleep(0);
    }
    const [reply] = await c.waitForRecords(1);
    t.deepEqual(reply, Buffer.concat([words(0x80000000 + 24 + 16), words(9, 1, 0, 0, 0, 0), string('fragmented')]));
  } finally {
    await s.stop();
  }
});

test('a 2 GiB fragment header, a reply, and garbage each close that connection only, without a reply', async (t) => {
  const s = await start();
  try {
    const bad: [string, Buffer][] = [
      ['2 GiB header', words(0xffffffff)],
      ['2 GiB non-last header', words(0x7fffffff)],
      ['a REPLY sent to the server', frame(words(1, 1, 0, 0, 0, 0))],
      ['garbage', frame(Buffer.from('GET / HTTP/1.1\r\n\r\n'))],
      ['a cut call header', frame(words(5, 0, 2, PROG))],
    ];
    for (const [name, bytes] of bad) {
      const c = await s.client();
      c.send(bytes);
      await t.notThrowsAsync(c.waitForClose(), name);
      t.is(c.records.length, 0, name);
    }
    t.is(s.lines.filter((l) => l.event === 'rpc.record_refused').length, 2);
    const good = await s.client();
    good.send(frame(callBody({ xid: 1, prog: PROG, vers: 3, proc: 0 })));
    t.deepEqual(await good.waitForRecords(1), [accepted(1, 0)]);
  } finally {
    await s.stop();
  }
});

test('a client that shuts down its sending side still gets its replies, then the close', async (t) => {
  const s = await start();
  try {
    const c = await s.client();
    c.send(frame(callBody({ xid: 1, prog: PROG, vers: 3, proc: 2, args: words(30) })));
    c.end();
    await c.waitForClose();
    t.deepEqual(c.records, [accepted(1, 0, 30)]);
  } finally {
    await s.stop();
  }
});

test('portmap on a port that cannot be bound rejects, so the caller can log that it is off', async (t) => {
  const s = await start();
  try {
    const error = await t.throwsAsync(startPortmap({ host: '127.0.0.1', port: s.pmapPort, servers: [], log: recordingLogger([]) }));
    t.is((error as NodeJS.ErrnoException).code, 'EADDRINUSE');
  } finally {
    await s.stop();
  }
});
