// A raw TCP client for RPC tests: builds calls word by word and splits replies itself, sharing no code with the server.
import { connect, type Socket } from 'node:net';

export const words = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

export interface CallSpec {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  /** Whole opaque_auth (flavor, length, body); AUTH_NONE by default. */
  readonly cred?: Buffer;
  readonly verf?: Buffer;
  readonly args?: Buffer;
  readonly rpcvers?: number;
}

/** rpc_msg with a CALL body, not framed. */
export function callBody(spec: CallSpec): Buffer {
  const head = words(spec.xid, 0, spec.rpcvers ?? 2, spec.prog, spec.vers, spec.proc);
  return Buffer.concat([head, spec.cred ?? words(0, 0), spec.verf ?? words(0, 0), spec.args ?? Buffer.alloc(0)]);
}

/** One last fragment (RFC 5531 §11): the length with the top bit set. */
export function frame(body: Buffer): Buffer {
  return Buffer.concat([words(0x80000000 + body.length), body]);
}

export class RawRpcClient {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  /** Whole reply records, record mark included, in arrival order. */
  readonly records: Buffer[] = [];
  closed = false;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4) {
        const length = (this.#buffer.readUInt32BE(0) & 0x7fffffff) + 4;
        if (this.#buffer.length < length) break;
        this.records.push(this.#buffer.subarray(0, length));
        this.#buffer = this.#buffer.subarray(length);
      }
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static connect(port: number): Promise<RawRpcClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        resolve(new RawRpcClient(socket));
      });
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  /** Shuts down our sending side; the server answers what it has and closes. */
  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Resolves when `count` replies have arrived; rejects if the connection closes first or after timeoutMs. */
  waitForRecords(count: number, timeoutMs = 3000): Promise<Buffer[]> {
    return this.#waitFor(() => this.records.length >= count, `${count} replies (have ${this.records.length})`, timeoutMs, true)
      .then(() => this.records.slice(0, count));
  }

  /** Resolves when the server has closed the connection; rejects after timeoutMs. */
  waitForClose(timeoutMs = 3000): Promise<void> {
    return this.#waitFor(() => this.closed, 'the server to close', timeoutMs, false);
  }

  #waitFor(done: () => boolean, what: string, timeoutMs: number, failOnClose: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done()) finish(undefined);
        else if (failOnClose && this.closed) finish(new Error(`closed while waiting for ${what}`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const finish = (error: Error | undefined): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
