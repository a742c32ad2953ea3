// Goal: call headers decode to the case the server must answer (call, RPC_MISMATCH, AUTH_ERROR, or close) and
// replies encode as RFC 5531 §9 lays them out. Method: golden bytes written word by word from the RFC's XDR.
import test from 'ava';
import {
  accept_stat, auth_flavor, auth_stat, AUTH_NONE_VERF, decodeCall, decodeReply, reject_stat, reply_stat, writeReplyHeader, type reply_body,
} from '../../../../gateway/rpc/rpc-message.js';
import { isXdrError } from '../../../../gateway/rpc/rpc-errors.js';
import { XdrWriter } from '../../../../gateway/rpc/xdr-writer.js';

const words = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};
// xid, CALL, rpcvers 2, prog, vers, proc, cred AUTH_NONE (flavor, length), verf AUTH_NONE, then arguments.
const NULL_CALL = words(0x1234, 0, 2, 100003, 3, 0, 0, 0, 0, 0);

test('golden: an AUTH_NONE call decodes to its call_body, arguments left in the reader', (t) => {
  const decoded = decodeCall(Buffer.concat([NULL_CALL, words(42)]));
  if (decoded.kind !== 'call') return t.fail(decoded.kind);
  t.is(decoded.xid, 0x1234);
  t.like(decoded.body, { rpcvers: 2, prog: 100003, vers: 3, proc: 0 });
  t.is(decoded.body.cred.flavor, auth_flavor.AUTH_NONE);
  t.is(decoded.args.readUint(), 42);
});

test('rpcvers other than 2 is RPC_MISMATCH; a REPLY or a cut header is malformed', (t) => {
  t.like(decodeCall(words(7, 0, 3)), { kind: 'rpc-mismatch', xid: 7, rpcvers: 3 });
  t.like(decodeCall(words(7, 1, 0, 0, 0, 0)), { kind: 'malformed' });
  t.like(decodeCall(words(7, 5)), { kind: 'malformed' });
  for (let length = 0; length < 24; length++) t.like(decodeCall(NULL_CALL.subarray(0, length)), { kind: 'malformed' }, `cut at ${length}`);
});

test('a cred or verf that is not an opaque_auth is AUTH_BADCRED or AUTH_BADVERF', (t) => {
  // cred body of 401 bytes: over opaque_auth's body<400>.
  t.like(decodeCall(Buffer.concat([words(9, 0, 2, 1, 1, 0, 1, 401), Buffer.alloc(404), words(0, 0)])), { kind: 'bad-auth', auth_stat: auth_stat.AUTH_BADCRED });
  t.like(decodeCall(NULL_CALL.subarray(0, 28)), { kind: 'bad-auth', xid: 0x1234, auth_stat: auth_stat.AUTH_BADCRED });
  t.like(decodeCall(NULL_CALL.subarray(0, 36)), { kind: 'bad-auth', auth_stat: auth_stat.AUTH_BADVERF });
});

const replyBytes = (xid: number, body: reply_body): Buffer => {
  const w = new XdrWriter();
  writeReplyHeader(w, xid, body);
  return Buffer.from(w.finish());
};

test('golden: every shape of reply_body', (t) => {
  const verf = AUTH_NONE_VERF;
  const cases: [reply_body, Buffer][] = [
    // xid, REPLY, MSG_ACCEPTED, verf (AUTH_NONE, 0), SUCCESS
    [{ stat: reply_stat.MSG_ACCEPTED, areply: { verf, stat: accept_stat.SUCCESS } }, words(5, 1, 0, 0, 0, 0)],
    [{ stat: reply_stat.MSG_ACCEPTED, areply: { verf, stat: accept_stat.PROG_MISMATCH, mismatch_info: { low: 2, high: 3 } } }, words(5, 1, 0, 0, 0, 2, 2, 3)],
    [{ stat: reply_stat.MSG_ACCEPTED, areply: { verf, stat: accept_stat.GARBAGE_ARGS } }, words(5, 1, 0, 0, 0, 4)],
    // xid, REPLY, MSG_DENIED, RPC_MISMATCH, low, high
    [{ stat: reply_stat.MSG_DENIED, rreply: { stat: reject_stat.RPC_MISMATCH, mismatch_info: { low: 2, high: 2 } } }, words(5, 1, 1, 0, 2, 2)],
    // xid, REPLY, MSG_DENIED, AUTH_ERROR, AUTH_TOOWEAK
    [{ stat: reply_stat.MSG_DENIED, rreply: { stat: reject_stat.AUTH_ERROR, auth_stat: auth_stat.AUTH_TOOWEAK } }, words(5, 1, 1, 1, 5)],
  ];
  for (const [body, bytes] of cases) {
    t.deepEqual(replyBytes(5, body), bytes);
    const decoded = decodeReply(bytes);
    t.is(decoded.xid, 5);
    t.deepEqual(decoded.body, body);
    t.is(decoded.results.remaining, 0);
  }
});

test('decodeReply refuses a call and unknown stats with the XDR error', (t) => {
  t.true(isXdrError(t.throws(() => decodeReply(NULL_CALL))));
  t.true(isXdrError(t.throws(() => decodeReply(words(5, 1, 0, 0, 0, 6)))));
  t.true(isXdrError(t.throws(() => decodeReply(words(5, 1, 2)))));
});
