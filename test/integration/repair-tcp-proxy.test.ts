// Goal: the fault-injection proxy does what partition tests rely on: passes bytes both ways, cuts every connection
// and refuses new ones, silences open connections on drop, and passes again once healed. Method: an echo server on
// 127.0.0.1 behind the proxy, a plain TCP client.
import test from 'ava';
import { connect, createServer, type Socket } from 'node:net';
import { freePort } from './harness/free-port.js';
import { TcpProxy } from './harness/tcp-proxy.js';

async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { port, close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }) };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `text` and resolves with what comes back within `withinMs`, or with what it got then ('' for nothing). */
function roundTrip(socket: Socket, text: string, withinMs: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.length >= text.length) finish();
    };
    const timer = setTimeout(() => finish(), withinMs);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(got);
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

const closed = (socket: Socket): Promise<void> => new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

test('pass, cut, drop and heal', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const proxy = await TcpProxy.start(await freePort(), echo.port);
  t.teardown(() => proxy.close());

  const first = await open(proxy.port);
  t.is(await roundTrip(first, 'hello', 5_000), 'hello', 'bytes pass both ways');

  proxy.cut();
  await closed(first);
  t.pass('a cut closes open connections');
  const refused = await open(proxy.port);
  await closed(refused);
  t.pass('and closes new ones at once');

  proxy.heal();
  const second = await open(proxy.port);
  t.is(await roundTrip(second, 'again', 5_000), 'again', 'healed: bytes pass again');

  proxy.drop();
  t.is(await roundTrip(second, 'lost', 300), '', 'a drop silences an open connection');
  t.false(second.destroyed, 'without closing it');
  proxy.heal();
  await closed(second);
  const third = await open(proxy.port);
  t.is(await roundTrip(third, 'back', 5_000), 'back');
  third.destroy();
});
