// One connection per node address, opened on first use and opened again after it drops.
import { ShoalError } from '../base/errors.js';
import type { TlsCredentials } from './tls-credentials.js';
import { WireConnection, type RequestOptions } from './wire-connection.js';

export class ConnectionPool {
  readonly #credentials: TlsCredentials;
  readonly #connections = new Map<string, Promise<WireConnection>>();
  readonly #connectTimeoutMs: number;
  readonly #localAddress: string | undefined;
  #closed = false;

  /** `localAddress`: the address outgoing connections come from (a multi-homed host picks its interface). */
  constructor(credentials: TlsCredentials, options: { connectTimeoutMs?: number; localAddress?: string | undefined } = {}) {
    this.#credentials = credentials;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#localAddress = options.localAddress;
  }

  /** Sends one request to the node at `address`; `expectedId` guards against a different node on that port. */
  async request(target: { address: string; id?: string }, op: string, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    // A closed pool opens nothing new: a late request must not keep the process alive.
    if (this.#closed) throw new ShoalError('Unavailable', `connection pool closed; ${op} to ${target.address} not sent`, { subject: 'node' });
    const connection = await this.#connection(target);
    return connection.request(op, body, options);
  }

  #connection(target: { address: string; id?: string }): Promise<WireConnection> {
    const key = target.id === undefined ? target.address : `${target.id}@${target.address}`;
    const existing = this.#connections.get(key);
    if (existing) {
      return existing.then(
        (connection) => (connection.closed ? this.#open(key, target) : connection),
        () => this.#open(key, target),
      );
    }
    return this.#open(key, target);
  }

  #open(key: string, target: { address: string; id?: string }): Promise<WireConnection> {
    const opening = WireConnection.open(target.address, this.#credentials, {
      timeoutMs: this.#connectTimeoutMs,
      ...(this.#localAddress === undefined ? {} : { localAddress: this.#localAddress }),
      ...(target.id === undefined ? {} : { expectedId: target.id }),
    });
    this.#connections.set(key, opening);
    opening.catch(() => {
      if (this.#connections.get(key) === opening) this.#connections.delete(key);
    });
    return opening;
  }

  close(): void {
    this.#closed = true;
    for (const opening of this.#connections.values()) opening.then((c) => c.close(), () => {});
    this.#connections.clear();
  }
}
