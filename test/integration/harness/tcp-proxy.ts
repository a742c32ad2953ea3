// A TCP proxy in front of one process, for fault tests: passes bytes through, delays them, drops them (a black hole:
// connections stay open and go silent) or cuts every connection and refuses new ones (a partition), for everyone or
// for the connections from one source address (the other side of a partition, when each node connects from its own
// loopback address). 127.0.0.1 only.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'drop' | 'cut';

export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Source addresses cut off: their connections are closed and new ones refused. */
  readonly #refusedFrom = new Set<string>();
  #mode: ProxyMode = 'pass';
  #delayMs = 0;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Listens on 127.0.0.1:`listenPort` and forwards to 127.0.0.1:`targetPort`. */
  static async start(listenPort: number, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    proxy = new TcpProxy(server, listenPort);
    return proxy;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Bytes that arrive from now on wait this long in each direction (order kept). */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Connections stay open but nothing more gets through, either way: the peer sees timeouts, not errors. */
  drop(): void {
    this.#mode = 'drop';
  }

  /** Every connection is closed and new ones are closed at once: a partition the peer notices. */
  cut(): void {
    this.#mode = 'cut';
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Closes the connections that come from `address` and refuses its new ones, until heal(). */
  cutFrom(address: string): void {
    this.#refusedFrom.add(address);
    for (const socket of this.#sockets) if (socket.remoteAddress === address) socket.destroy();
  }

  /** Back to passing bytes, with no delay. Connections a drop silenced are closed, so that peers reconnect cleanly. */
  heal(): void {
    if (this.#mode === 'drop') {
      for (const socket of this.#sockets) socket.destroy();
      this.#sockets.clear();
    }
    this.#mode = 'pass';
    this.#delayMs = 0;
    this.#refusedFrom.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.#mode === 'cut' || this.#refusedFrom.has(client.remoteAddress ?? '')) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    this.#forward(client, upstream);
    this.#forward(upstream, client);
  }

  #forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.#mode !== 'pass') return;
      const write = (): void => {
        if (!to.destroyed) to.write(chunk);
      };
      if (this.#delayMs > 0) setTimeout(write, this.#delayMs);
      else write();
    });
  }
}
