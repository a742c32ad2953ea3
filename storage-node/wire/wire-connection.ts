// The client end of one mutual-TLS connection: many requests in flight, matched to replies by id,
// with bounded bytes in flight, per-request timeouts and AbortSignal.
import { connect, type TLSSocket } from 'node:tls';
import { ShoalError } from '../base/errors.js';
import { CONNECTION_INFLIGHT_BYTES_MAX, FRAME_BYTES_MAX, REQUEST_TIMEOUT_MS_DEFAULT } from '../base/limits.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { encodeFrame, FrameDecoder } from './frame.js';
import { TAG_OK, TAG_REQUEST, type WireReply } from './messages.js';
import { fromRemoteError } from './remote-error.js';
import { peerId, type TlsCredentials } from './tls-credentials.js';

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  resolve(body: unknown): void;
  reject(err: unknown): void;
  bytes: number;
  cleanup(): void;
}

interface Waiter {
  bytes: number;
  go(): void;
}

export class WireConnection {
  readonly #socket: TLSSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #waiters: Waiter[] = [];
  #nextId = 1;
  #inflightBytes = 0;
  #closedError: ShoalError | undefined;
  /** The id in the peer's certificate, known once the handshake is done. */
  readonly remoteId: string;
  readonly address: string;

  private constructor(socket: TLSSocket, address: string, remoteId: string) {
    this.#socket = socket;
    this.address = address;
    this.remoteId = remoteId;
    const decoder = new FrameDecoder(FRAME_BYTES_MAX);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) this.#onReply(decodeMessage(frame));
      } catch (err) {
        this.#fail(new ShoalError('Unavailable', `node ${this.remoteId} sent an unreadable reply`, { subject: 'node', cause: err }));
      }
    });
    socket.on('close', () => this.#fail(new ShoalError('Unavailable', `connection to node ${this.remoteId} at ${address} closed`, { subject: 'node' })));
    socket.on('error', () => {});
  }

  static open(address: string, credentials: TlsCredentials, options: { expectedId?: string; timeoutMs?: number; localAddress?: string } = {}): Promise<WireConnection> {
    const { host, port } = splitHostPort(address);
    return new Promise((resolve, reject) => {
      const socket = connect({
        host, port, key: credentials.key, cert: credentials.cert, ca: credentials.ca,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        rejectUnauthorized: true, minVersion: 'TLSv1.3',
        // Nodes are known by the id in their certificate, not by a host name.
        checkServerIdentity: (_host, cert) => {
          const id = peerId(cert);
          if (options.expectedId !== undefined && id !== options.expectedId) {
            return new Error(`expected node ${options.expectedId} at ${address}, found ${id ?? 'no id'}`);
          }
          return undefined;
        },
      });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ShoalError('Unavailable', `could not connect to ${address} within ${options.timeoutMs ?? 5000} ms`, { subject: 'node' }));
      }, options.timeoutMs ?? 5000);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new ShoalError('Unavailable', `cannot reach node at ${address}: ${err.message}`, { subject: 'node', cause: err }));
      };
      socket.once('error', onError);
      socket.once('close', () => onError(new Error('closed during the TLS handshake (is this a node of this cluster?)')));
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error').removeAllListeners('close');
        resolve(new WireConnection(socket, address, peerId(socket.getPeerCertificate()) ?? 'unknown'));
      });
    });
  }

  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  get inflightBytes(): number {
    return this.#inflightBytes;
  }

  async request(op: string, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.#closedError) throw this.#closedError;
    options.signal?.throwIfAborted();
    const id = this.#nextId++;
    const frame = encodeFrame(encodeMessage([TAG_REQUEST, id, op, body]));
    if (frame.length > FRAME_BYTES_MAX) {
      throw new ShoalError('TooLarge', `request ${op} of ${frame.length} bytes is over the frame limit`, { subject: 'frame' });
    }
    await this.#admit(frame.length, options.signal);
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
      const timer = setTimeout(() => settle(new ShoalError('Timeout', `node ${this.remoteId} did not answer ${op} within ${timeoutMs} ms`, { subject: 'node' })), timeoutMs);
      const onAbort = (): void => settle(new ShoalError('Aborted', `${op} aborted`, { cause: options.signal?.reason }));
      const settle = (err: unknown): void => {
        const entry = this.#pending.get(id);
        if (entry) this.#release(id, entry);
        reject(err);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve, reject, bytes: frame.length,
        cleanup: () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      });
      if (this.#closedError) return settle(this.#closedError);
      // The signal may have fired while this request waited for room in flight.
      if (options.signal?.aborted) return onAbort();
      this.#socket.write(frame);
    });
  }

  close(): void {
    this.#socket.end();
    this.#fail(new ShoalError('Unavailable', `connection to node ${this.remoteId} closed by this side`, { subject: 'node' }));
  }

  /** Waits until the bytes in flight leave room for this frame: backpressure instead of unbounded buffering. */
  #admit(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#waiters.length === 0 && this.#inflightBytes + bytes <= CONNECTION_INFLIGHT_BYTES_MAX) {
      this.#inflightBytes += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        go: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#inflightBytes += bytes;
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new ShoalError('Aborted', 'request aborted while waiting to be sent', { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #release(id: number, entry: Pending): void {
    this.#pending.delete(id);
    entry.cleanup();
    this.#inflightBytes -= entry.bytes;
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0] as Waiter;
      if (this.#inflightBytes + next.bytes > CONNECTION_INFLIGHT_BYTES_MAX && this.#inflightBytes > 0) break;
      this.#waiters.shift();
      next.go();
    }
  }

  #onReply(message: ReturnType<typeof decodeMessage>): void {
    if (message[0] === TAG_REQUEST) throw new ShoalError('Invalid', 'a node sent a request on a client connection', { subject: 'frame' });
    const reply = message as WireReply;
    const entry = this.#pending.get(reply[1]);
    if (!entry) return; // timed out or aborted already
    this.#release(reply[1], entry);
    if (reply[0] === TAG_OK) entry.resolve(reply[2]);
    else entry.reject(fromRemoteError(reply[2], this.remoteId));
  }

  #fail(err: ShoalError): void {
    if (this.#closedError) return;
    this.#closedError = err;
    this.#socket.destroy();
    for (const [id, entry] of [...this.#pending]) {
      this.#release(id, entry);
      entry.reject(err);
    }
    for (const waiter of this.#waiters.splice(0)) waiter.go();
  }
}

export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match || !(port > 0 && port < 65536)) {
    throw new ShoalError('Invalid', `"${address}" is not HOST:PORT (e.g. 127.0.0.1:7001)`, { subject: 'config' });
  }
  return { host: match[1] as string, port };
}
