// Goal: the server's dispatch gives every call the RPC-level answer of RFC 5531 §9 (go-nfs's layers) and hands
// decoded calls to their procedure with the caller's identity. Method: dispatch() on hand-made records, no sockets.
import test from 'ava';
import type { Logger } from '../../../../storage-node/base/log.js';
import { encodeAuthsysParms } from '../../../../gateway/rpc/auth-sys.js';
import { rpcAuthError } from '../../../../gateway/rpc/rpc-errors.js';
import { accept_stat, auth_stat, decodeReply, reject_stat, reply_stat } from '../../../../gateway/rpc/rpc-message.js';
import { nullProcedure, type RpcCallContext, type RpcProgram } from '../../../../gateway/rpc/rpc-program.js';
import { RpcServer, type RpcPeer } from '../../../../gateway/rpc/rpc-server.js';

const words = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

interface LogLine { level: string; event: string; fields: Record<string, unknown> }
function recordingLogger(lines: LogLine[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (fields: Record<string, unknown>, event: string) => lines.push({ level, event, fields: { ...bindings, ...fields } });
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

const PROG = 0x20000001;
const makeProgram = (calls: RpcCallContext[]): RpcProgram => ({
  prog: PROG,
  name: 'test',
  versions: {
    1: { 0: nullProcedure('NULL') },
    3: {
      0: nullProcedure('NULL'),
      1: { name: 'ECHO', handler: async (args, call) => {
        calls.push(call);
        const text = args.readString(16);
        args.finish();
        return (w) => w.writeString(text);
      } },
      2: { name: 'THROW', handler: async () => { throw new Error('boom'); } },
      3: { name: 'TOOWEAK', handler: async () => { throw rpcAuthError(auth_stat.AUTH_TOOWEAK, 'AUTH_SYS required'); } },
      4: { name: 'BAD_WRITER', handler: async () => (w) => void w.writeUint(-1) },
    },
  },
});

function setup() {
  const lines: LogLine[] = [];
  const log = recordingLogger(lines);
  const calls: RpcCallContext[] = [];
  const program = makeProgram(calls);
  const server = new RpcServer({ log }).register(program);
  const peer: RpcPeer = { remoteAddress: '127.0.0.1', remotePort: 999, log };
  const call = async (vers: number, proc: number, args: Buffer = Buffer.alloc(0), cred = words(0, 0)) => {
    const result = await server.dispatch(Buffer.concat([words(77, 0, 2, PROG, vers, proc), cred, words(0, 0), args]), peer, new AbortController().signal);
    if (result === 'close') throw new Error('closed');
    return decodeReply(result.subarray(4));
  };
  return { server, lines, call, peer, calls, program };
}

const acceptStat = (reply: Awaited<ReturnType<ReturnType<typeof setup>['call']>>) =>
  reply.body.stat === reply_stat.MSG_ACCEPTED ? reply.body.areply.stat : undefined;

test('a decoded call runs its procedure and the results follow SUCCESS', async (t) => {
  const { call, calls } = setup();
  const cred = Buffer.concat([words(1), words(28), encodeAuthsysParms({ stamp: 1, machinename: 'box', uid: 1000, gid: 50, gids: [50] })]);
  const reply = await call(3, 1, Buffer.concat([words(2), Buffer.from('hi\0\0')]), cred);
  t.is(acceptStat(reply), accept_stat.SUCCESS);
  t.is(reply.results.readString(16), 'hi');
  t.like(calls[0], { xid: 77, prog: PROG, vers: 3, proc: 1, remoteAddress: '127.0.0.1', auth: { flavor: 1, parms: { uid: 1000, gid: 50 } } });
});

test('unknown program, version and procedure get PROG_UNAVAIL, PROG_MISMATCH (low, high), PROC_UNAVAIL', async (t) => {
  const { server, peer } = setup();
  const raw = async (prog: number, vers: number, proc: number) => {
    const result = await server.dispatch(words(1, 0, 2, prog, vers, proc, 0, 0, 0, 0), peer, new AbortController().signal);
    return result === 'close' ? undefined : decodeReply(result.subarray(4)).body;
  };
  t.like(await raw(100003, 3, 0), { stat: reply_stat.MSG_ACCEPTED, areply: { stat: accept_stat.PROG_UNAVAIL } });
  t.like(await raw(PROG, 2, 0), { stat: reply_stat.MSG_ACCEPTED, areply: { stat: accept_stat.PROG_MISMATCH, mismatch_info: { low: 1, high: 3 } } });
  t.like(await raw(PROG, 1, 1), { stat: reply_stat.MSG_ACCEPTED, areply: { stat: accept_stat.PROC_UNAVAIL } });
  // Object.prototype must not be mistaken for procedures or versions.
  t.like(await raw(PROG, 3, 0x7fffffff), { areply: { stat: accept_stat.PROC_UNAVAIL } });
});

test('undecodable arguments are GARBAGE_ARGS, an exception SYSTEM_ERR (logged), rpcAuthError AUTH_ERROR', async (t) => {
  const { call, lines } = setup();
  t.is(acceptStat(await call(3, 1, words(100))), accept_stat.GARBAGE_ARGS);
  t.is(acceptStat(await call(3, 1, Buffer.concat([words(1), Buffer.from('x\0\0\0'), words(0)]))), accept_stat.GARBAGE_ARGS, 'bytes left over');
  t.is(acceptStat(await call(3, 2)), accept_stat.SYSTEM_ERR);
  t.is(acceptStat(await call(3, 4)), accept_stat.SYSTEM_ERR, 'a results writer that fails');
  t.is(lines.filter((l) => l.level === 'error' && l.event === 'rpc.system_err').length, 2);
  t.like(lines.find((l) => l.event === 'rpc.system_err')?.fields, { xid: 77, proc: 'THROW', err: 'boom' });
  t.like((await call(3, 3)).body, { stat: reply_stat.MSG_DENIED, rreply: { stat: reject_stat.AUTH_ERROR, auth_stat: auth_stat.AUTH_TOOWEAK } });
});

test('a bad credential is AUTH_BADCRED before the program is looked up', async (t) => {
  const { call } = setup();
  const reply = await call(99, 99, Buffer.alloc(0), words(1, 4, 0));
  t.like(reply.body, { stat: reply_stat.MSG_DENIED, rreply: { stat: reject_stat.AUTH_ERROR, auth_stat: auth_stat.AUTH_BADCRED } });
});

test('a record that is not a call closes the connection; a program registers once', async (t) => {
  const { server, peer, lines, program } = setup();
  t.is(await server.dispatch(words(1, 1, 0), peer, new AbortController().signal), 'close');
  t.is(await server.dispatch(Buffer.alloc(0), peer, new AbortController().signal), 'close');
  t.is(lines.filter((l) => l.event === 'rpc.malformed_record').length, 2);
  t.throws(() => server.register(program), { name: 'AssertionFailed' });
  t.deepEqual(server.programs(), [{ prog: PROG, name: 'test', versions: [1, 3] }]);
});
