// The serving end: accepts mutual-TLS connections from holders of cluster certificates, decodes frames,
// runs handlers concurrently and replies by id. A bad frame closes that connection only.
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ShoalError } from '../base/errors.js';
import { FRAME_BYTES_MAX, SERVER_INFLIGHT_REQUESTS_MAX } from '../base/limits.js';
import type { Logger } from '../base/log.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { encodeFrame, FrameDecoder } from './frame.js';
import { TAG_ERROR, TAG_OK, TAG_REQUEST, type WireRequest } from './messages.js';
import { toRemoteError } from './remote-error.js';
import { peerId, peerRole, type TlsCredentials } from './tls-credentials.js';

export interface RequestContext {
  /** The id in the caller's cluster certificate. */
  readonly peerId: string;
  /** The role the cluster CA wrote in the caller's certificate: 'node', 'gateway' or 'client'. */
  readonly peerRole: string;
  readonly signal: AbortSignal;
}

export type Handler = (body: unknown, context: RequestContext) => Promise<unknown> | unknown;

export interface WireServerOptions {
  readonly credentials: TlsCredentials;
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly log: Logger;
  readonly onTraffic?: (direction: 'in' | 'out', bytes: number) => void;
}

export class WireServer {
  readonly #server: Server;
  readonly #options: WireServerOptions;
  readonly #sockets = new Set<TLSSocket>();

  constructor(options: WireServerOptions) {
    this.#options = options;
    this.#server = createServer({
      key: options.credentials.key,
      cert: options.credentials.cert,
      ca: options.credentials.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
    });
    this.#server.on('secureConnection', (socket) => this.#serve(socket));
    this.#server.on('tlsClientError', (err, socket) => {
      options.log.warn({ err: err.message, remote: socket.remoteAddress }, 'wire.handshake_refused');
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #serve(socket: TLSSocket): void {
    const log = this.#options.log.child({ peer: peerId(socket.getPeerCertificate()), remote: `${socket.remoteAddress}:${socket.remotePort}` });
    const caller = peerId(socket.getPeerCertificate()) ?? 'unknown';
    const callerRole = peerRole(socket.getPeerCertificate()) ?? 'unknown';
    const decoder = new FrameDecoder(FRAME_BYTES_MAX);
    const aborter = new AbortController();
    let running = 0;
    this.#sockets.add(socket);
    socket.setNoDelay(true);

    const reply = (frame: Buffer): void => {
      if (socket.destroyed) return;
      this.#options.onTraffic?.('out', frame.length);
      // Stop reading while the peer does not drain our replies: its requests wait in its own send queue.
      if (!socket.write(frame)) {
        socket.pause();
        socket.once('drain', () => running < SERVER_INFLIGHT_REQUESTS_MAX && socket.resume());
      }
    };
    const run = async (request: WireRequest): Promise<void> => {
      const [, id, op, body] = request;
      const handler = this.#options.handlers.get(op);
      running++;
      if (running >= SERVER_INFLIGHT_REQUESTS_MAX) socket.pause();
      try {
        if (!handler) throw new ShoalError('Invalid', `unknown operation "${op}"`);
        const result = await handler(body, { peerId: caller, peerRole: callerRole, signal: aborter.signal });
        reply(encodeFrame(encodeMessage([TAG_OK, id, result ?? null])));
      } catch (err) {
        if (!(err instanceof ShoalError)) log.error({ op, err: String((err as Error)?.stack ?? err) }, 'wire.handler_failed');
        reply(encodeFrame(encodeMessage([TAG_ERROR, id, toRemoteError(err)])));
      } finally {
        running--;
        if (running < SERVER_INFLIGHT_REQUESTS_MAX && socket.writableNeedDrain === false) socket.resume();
      }
    };

    socket.on('data', (chunk: Buffer) => {
      this.#options.onTraffic?.('in', chunk.length);
      try {
        for (const frame of decoder.push(chunk)) {
          const message = decodeMessage(frame);
          if (message[0] !== TAG_REQUEST) throw new ShoalError('Invalid', 'a client sent a reply', { subject: 'frame' });
          void run(message);
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'wire.connection_dropped');
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (decoder.pendingBytes > 0) log.warn({ bytes: decoder.pendingBytes }, 'wire.truncated_frame');
      aborter.abort();
      this.#sockets.delete(socket);
    });
  }
}
