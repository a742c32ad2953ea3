// Goal: portmap v2 answers GETPORT and DUMP from the gateway's own programs and refuses SET/UNSET (RFC 1833 §3).
// Method: the program's procedures through RpcServer.dispatch, replies checked word by word.
import test from 'ava';
import { silentLogger } from '../../../../storage-node/base/log.js';
import { getport, mappingsOf, portmapProgram } from '../../../../gateway/portmap/portmap-program.js';
import { IPPROTO_TCP, IPPROTO_UDP, PMAP_PROG, type mapping } from '../../../../gateway/portmap/types.js';
import { RpcServer } from '../../../../gateway/rpc/rpc-server.js';

const words = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};
const MAPS: mapping[] = [
  { prog: 100003, vers: 3, prot: IPPROTO_TCP, port: 2049 },
  { prog: 100005, vers: 3, prot: IPPROTO_TCP, port: 20048 },
  { prog: 100005, vers: 1, prot: IPPROTO_TCP, port: 20049 },
];

test('GETPORT: the exact mapping, else another version of the program on that protocol, else 0', (t) => {
  t.is(getport(MAPS, { prog: 100003, vers: 3, prot: IPPROTO_TCP, port: 0 }), 2049);
  t.is(getport(MAPS, { prog: 100005, vers: 1, prot: IPPROTO_TCP, port: 0 }), 20049);
  t.is(getport(MAPS, { prog: 100003, vers: 4, prot: IPPROTO_TCP, port: 0 }), 2049, 'the server answers PROG_MISMATCH with its range');
  t.is(getport(MAPS, { prog: 100003, vers: 3, prot: IPPROTO_UDP, port: 0 }), 0, 'no UDP');
  t.is(getport(MAPS, { prog: 100021, vers: 4, prot: IPPROTO_TCP, port: 0 }), 0);
});

test('mappingsOf lists listening servers only', (t) => {
  const server = new RpcServer({ log: silentLogger }).register(portmapProgram(() => []));
  t.deepEqual(mappingsOf([server]), []);
});

async function call(proc: number, args: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const server = new RpcServer({ log: silentLogger }).register(portmapProgram(() => MAPS));
  const record = words(3, 0, 2, PMAP_PROG, 2, proc, 0, 0, 0, 0);
  const reply = await server.dispatch(Buffer.concat([record, args]), { remoteAddress: '', remotePort: 0, log: silentLogger }, new AbortController().signal);
  if (reply === 'close') throw new Error('closed');
  return reply.subarray(4 + 24); // record mark, then xid, REPLY, MSG_ACCEPTED, verf, SUCCESS
}

test('golden: DUMP is the pmaplist chain, GETPORT one unsigned int, SET and UNSET FALSE', async (t) => {
  t.deepEqual(
    await call(4),
    words(1, 100003, 3, 6, 2049, 1, 100005, 3, 6, 20048, 1, 100005, 1, 6, 20049, 0),
  );
  t.deepEqual(await call(3, words(100005, 3, 6, 0)), words(20048));
  t.deepEqual(await call(1, words(100003, 3, 6, 9999)), words(0));
  t.deepEqual(await call(2, words(100003, 3, 6, 0)), words(0));
  t.deepEqual(await call(0), Buffer.alloc(0));
});
