// Free TCP ports on 127.0.0.1 for processes a test starts (asked of the kernel, then released).
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port for `shoal cluster up`, which listens on base + i and base + 1000 + i for each of `count` nodes.
 * Chosen below the kernel's ephemeral range (32768 and up), where the ports that other tests' servers and
 * connections take at random cannot land between this check and the cluster's start.
 */
export async function freeClusterBasePort(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 9_000);
    const ports = Array.from({ length: count }, (_, i) => [base + i, base + 1000 + i]).flat();
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no free range of ports for a local cluster between 20000 and 30000');
}
