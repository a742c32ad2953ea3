// Round trips on an echo connection (plain TCP or TLS): the latency baseline beside which request/response figures are read.
import type { Duplex } from 'node:stream';
import { measureLoad, type LoadOptions, type Measurement } from '../measure.js';

/** Requests of `size` bytes on an echo connection; each done when its echo is back (replies come in order). */
export async function echoRoundTrips(socket: Duplex, name: string, size: number, options: LoadOptions): Promise<Measurement> {
  const waiting: { resolve(): void; reject(err: unknown): void }[] = [];
  let buffered = 0;
  socket.on('data', (data: Buffer) => {
    buffered += data.length;
    while (buffered >= size && waiting.length > 0) {
      buffered -= size;
      waiting.shift()?.resolve();
    }
  });
  socket.on('error', (err) => waiting.splice(0).forEach((w) => w.reject(err)));
  const request = Buffer.alloc(size, 0x5a);
  return measureLoad(name, size, () => new Promise<void>((resolve, reject) => {
    waiting.push({ resolve, reject });
    socket.write(request);
  }), options);
}

