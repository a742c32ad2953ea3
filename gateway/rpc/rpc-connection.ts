// One TCP connection of the RPC server: reassembles records, runs up to a bounded number of calls at once, and writes replies as they complete.
import type { Socket } from 'node:net';
import { isShoalError } from '../../storage-node/base/errors.js';
import type { Logger } from '../../storage-node/base/log.js';
import { RPC_CLOSE_LINGER_MS } from './rpc-limits.js';
import { RecordDecoder } from './record-marking.js';

export interface RpcConnectionOptions {
  readonly log: Logger;
  readonly recordBytesMax: number;
  readonly callsInFlightMax: number;
  /** The reply record to a call, or 'close' for a record that is not a call. */
  readonly dispatch: (record: Buffer, signal: AbortSignal) => Promise<Buffer | 'close'>;
  readonly onClose: () => void;
}

/**
 * RFC 5531 §11 over one socket. Calls run concurrently and reply in any order (the xid correlates
 * them, §9). Reading pauses while callsInFlightMax calls run or the peer does not drain our replies,
 * so a client cannot queue unbounded work; records already decoded wait in a queue no longer than one
 * received chunk. A record over the limit or that is not a call closes this connection only, after the
 * calls taken before it are answered.
 */
export class RpcConnection {
  readonly #socket: Socket;
  readonly #options: RpcConnectionOptions;
  readonly #decoder: RecordDecoder;
  readonly #aborter = new AbortController();
  readonly #waiting: Buffer[] = [];
  #inFlight = 0;
  #calls = 0;
  #writeBlocked = false;
  #peerEnded = false;
  /** A malformed or oversized record was seen: read no more calls, answer those in flight, then close. */
  #closing = false;
  #ending = false;

  constructor(socket: Socket, options: RpcConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#decoder = new RecordDecoder(options.recordBytesMax);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => options.log.debug({ err: err.message }, 'rpc.socket_error'));
    socket.on('close', () => {
      this.#aborter.abort();
      options.log.debug({ calls: this.#calls }, 'rpc.connection_closed');
      options.onClose();
    });
    options.log.debug({}, 'rpc.connection_opened');
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    if (this.#closing) return; // keep reading and discarding, so that closing with unread data does not reset the replies
    let records: Buffer[];
    try {
      records = this.#decoder.push(chunk);
    } catch (err) {
      // RFC 5531 §11 gives no way to skip a fragment we will not read: close before allocating for it.
      if (isShoalError(err, 'TooLarge')) this.#options.log.warn({ err: err.message, ...err.detail }, 'rpc.record_refused');
      else this.#options.log.error({ err: String((err as Error)?.stack ?? err) }, 'rpc.decoder_failed');
      this.#close();
      return;
    }
    this.#waiting.push(...records);
    this.#pump();
  }

  /** Starts waiting calls while under the limit, then pauses or resumes reading to match. */
  #pump(): void {
    while (this.#waiting.length > 0 && this.#inFlight < this.#options.callsInFlightMax && !this.#socket.destroyed) {
      this.#start(this.#waiting.shift() as Buffer);
    }
    if (this.#socket.destroyed) return;
    const busy = this.#waiting.length > 0 || this.#inFlight >= this.#options.callsInFlightMax || this.#writeBlocked;
    if (busy && !this.#closing) this.#socket.pause();
    else if (!this.#peerEnded) this.#socket.resume();
    this.#finishIfDone();
  }

  #start(record: Buffer): void {
    this.#inFlight++;
    this.#calls++;
    this.#options.dispatch(record, this.#aborter.signal).then(
      (reply) => {
        this.#inFlight--;
        if (reply === 'close') this.#close();
        else this.#write(reply);
        this.#pump();
      },
      (err: unknown) => {
        // dispatch answers every failure of a procedure itself; reaching here is a bug in the RPC layer.
        this.#inFlight--;
        this.#options.log.error({ err: String((err as Error)?.stack ?? err) }, 'rpc.dispatch_failed');
        this.destroy();
      },
    );
  }

  #write(reply: Buffer): void {
    if (this.#socket.destroyed || !this.#socket.writable) return;
    if (!this.#socket.write(reply) && !this.#writeBlocked) {
      this.#writeBlocked = true;
      this.#socket.once('drain', () => {
        this.#writeBlocked = false;
        this.#pump();
      });
    }
  }

  #onEnd(): void {
    this.#peerEnded = true;
    if (this.#decoder.pendingBytes > 0) this.#options.log.warn({ bytes: this.#decoder.pendingBytes }, 'rpc.truncated_record');
    this.#finishIfDone();
  }

  /** Stops taking calls from this connection; it closes once the calls in flight are answered. */
  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#waiting.length = 0;
    this.#pump();
  }

  /**
   * After the peer's end of stream or a bad record, close our side once every call taken is answered:
   * destroy once the replies are handed to the kernel, or after RPC_CLOSE_LINGER_MS if the peer does not read them.
   */
  #finishIfDone(): void {
    if (!(this.#peerEnded || this.#closing) || this.#inFlight > 0 || this.#waiting.length > 0) return;
    if (this.#ending || this.#socket.destroyed) return;
    this.#ending = true;
    this.#socket.setTimeout(RPC_CLOSE_LINGER_MS, () => this.destroy());
    this.#socket.end(() => this.destroy());
  }
}
