// Loopback TCP baseline: what plain node:net moves between two threads on 127.0.0.1 (one-way MB/s, and
// request/response ops/s), the ceiling for anything the cluster sends over its TLS connections.
import { echoRoundTrips } from './echo-round-trips.js';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { measureLoad, stopwatch, summarize, type LoadOptions, type Measurement } from '../measure.js';
import type { PeerPorts } from './loopback-peer.js';

export class LoopbackTcp {
  readonly #worker: Worker;
  readonly #ports: PeerPorts;

  private constructor(worker: Worker, ports: PeerPorts) {
    this.#worker = worker;
    this.#ports = ports;
  }

  static async start(): Promise<LoopbackTcp> {
    const worker = new Worker(new URL('./loopback-peer.js', import.meta.url));
    const [ports] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([err]) => Promise.reject(err))])) as [PeerPorts];
    return new LoopbackTcp(worker, ports);
  }

  /**
   * Writes `chunk` over and over for `minMs` (respecting backpressure), then ends the stream; the clock stops when
   * the receiver has counted every byte and said so, so bytes still in socket buffers are not counted as moved.
   */
  async oneWay(name: string, chunk: Buffer, minMs: number): Promise<Measurement> {
    const socket = await open(this.#ports.sink);
    try {
      const reply = readExactly(socket, 8);
      const elapsed = stopwatch();
      let writes = 0;
      while (elapsed() < minMs) {
        writes++;
        if (!socket.write(chunk)) await once(socket, 'drain');
      }
      socket.end();
      const received = Number((await reply).readBigUInt64BE(0));
      const elapsedMs = elapsed();
      const bytes = writes * chunk.length;
      if (received !== bytes) throw new Error(`loopback sink received ${received} of ${bytes} bytes`);
      return summarize(name, { ops: writes, bytes, elapsedMs, concurrency: 1 });
    } finally {
      socket.destroy();
    }
  }

  /** Requests of `size` bytes pipelined on one connection, `options.concurrency` in flight; each done when its echo is back. */
  async requestResponse(name: string, size: number, options: LoadOptions): Promise<Measurement> {
    const socket = await open(this.#ports.echo);
    socket.setNoDelay(true);
    try {
      return await echoRoundTrips(socket, name, size, options);
    } finally {
      socket.destroy();
    }
  }

  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  return socket;
}

function readExactly(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      have += data.length;
      if (have >= length) resolve(Buffer.concat(chunks).subarray(0, length));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`connection closed after ${have} of ${length} bytes`)));
  });
}
