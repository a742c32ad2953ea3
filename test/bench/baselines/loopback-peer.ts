// The far end of the loopback TCP baseline, run in a worker thread so that sender and receiver have an event
// loop each, as the bench client and the node processes do. A sink that reports what it received, and an echo.
import { createServer, type Server } from 'node:net';
import { parentPort } from 'node:worker_threads';

export interface PeerPorts {
  readonly sink: number;
  readonly echo: number;
}

if (parentPort === null) throw new Error('loopback-peer runs only as a worker thread');
const parent = parentPort;

// allowHalfOpen: the sender ends its side to say "that was all", and the sink still answers on its own side.
const sink = createServer({ allowHalfOpen: true }, (socket) => {
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.on('end', () => {
    const reply = Buffer.alloc(8);
    reply.writeBigUInt64BE(BigInt(received));
    socket.end(reply);
  });
  socket.on('error', () => socket.destroy());
});

const echo = createServer((socket) => {
  // As the wire layer does: no Nagle delay on small replies.
  socket.setNoDelay(true);
  socket.pipe(socket);
  socket.on('error', () => socket.destroy());
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no TCP port'));
      else resolve(address.port);
    });
  });
}

const ports: PeerPorts = { sink: await listen(sink), echo: await listen(echo) };
parent.postMessage(ports);
