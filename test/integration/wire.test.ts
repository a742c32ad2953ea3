// Goal: the wire keeps its promises over real mutual TLS: typed remote errors, per-request timeouts,
// AbortSignal, bounded bytes in flight, many requests in flight answered out of order.
// Method: an in-process WireServer with handlers the test controls, and a storage node on a small memory store.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import { CONNECTION_INFLIGHT_BYTES_MAX } from '../../storage-node/base/limits.js';
import { SystemClock } from '../../storage-node/base/clock.js';
import { silentLogger } from '../../storage-node/base/log.js';
import { Random, SeededEntropy } from '../../storage-node/base/random.js';
import { newContentBlock } from '../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../storage-node/blocks/sign.js';
import { ClusterClient } from '../../storage-node/client/cluster-client.js';
import { clientCredentials, initClusterDir } from '../../storage-node/cli/cluster-dir.js';
import { startStorageNode } from '../../storage-node/server/node.js';
import { MemoryAcceptorStore } from '../../storage-node/store/acceptor-store.js';
import { MemoryBlockStore } from '../../storage-node/store/memory-block-store.js';
import { issueCertificate } from '../../storage-node/wire/cluster-ca.js';
import { readClusterCa } from '../../storage-node/cli/cluster-dir.js';
import type { TlsCredentials } from '../../storage-node/wire/tls-credentials.js';
import { WireConnection } from '../../storage-node/wire/wire-connection.js';
import { WireServer, type Handler } from '../../storage-node/wire/wire-server.js';

let dir: string;
let serverCredentials: TlsCredentials;
let clientCreds: TlsCredentials;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-wire-'));
  await initClusterDir(dir, 'wire');
  serverCredentials = issueCertificate(await readClusterCa(dir), 'server-under-test', 'node');
  clientCreds = await clientCredentials(dir, 'wire-test');
});
test.after.always(() => rm(dir, { recursive: true, force: true }));

async function serve(handlers: Record<string, Handler>): Promise<{ address: string; close(): Promise<void> }> {
  const server = new WireServer({ credentials: serverCredentials, handlers: new Map(Object.entries(handlers)), log: silentLogger });
  const bound = await server.listen('127.0.0.1', 0);
  return { address: `127.0.0.1:${bound.port}`, close: () => server.close() };
}

test('replies come back by id, in any order, and remote errors arrive typed', async (t) => {
  const server = await serve({
    echo: async (body) => {
      const { n } = body as { n: number };
      await new Promise((done) => setTimeout(done, (n * 7919) % 20));
      return n;
    },
    full: () => {
      throw new ShoalError('NoSpace', 'disk full', { subject: 'block' });
    },
    broken: () => {
      throw new Error('a programmer error');
    },
  });
  t.teardown(() => server.close());
  const connection = await WireConnection.open(server.address, clientCreds, { expectedId: 'server-under-test' });
  t.teardown(() => connection.close());
  const replies = await Promise.all(Array.from({ length: 200 }, (_, n) => connection.request('echo', { n })));
  t.deepEqual(replies, Array.from({ length: 200 }, (_, n) => n));
  const full = await t.throwsAsync(connection.request('full', null));
  t.true(isShoalError(full, 'NoSpace'));
  t.is((full as ShoalError).subject, 'block');
  t.is((full as ShoalError).detail?.['nodeId'], 'server-under-test');
  const broken = await t.throwsAsync(connection.request('broken', null));
  t.true(isShoalError(broken, 'Unavailable'), 'a crash in a handler is reported, not leaked');
  t.true(isShoalError(await t.throwsAsync(connection.request('no-such-op', null)), 'Invalid'));
});

test('a node with an unexpected id is refused', async (t) => {
  const server = await serve({});
  t.teardown(() => server.close());
  const error = await t.throwsAsync(WireConnection.open(server.address, clientCreds, { expectedId: 'someone-else' }));
  t.true(isShoalError(error, 'Unavailable'));
});

test('per-request timeout and AbortSignal', async (t) => {
  const server = await serve({ slow: () => new Promise((done) => setTimeout(() => done('late'), 2000)), fast: () => 'ok' });
  t.teardown(() => server.close());
  const connection = await WireConnection.open(server.address, clientCreds);
  t.teardown(() => connection.close());
  t.true(isShoalError(await t.throwsAsync(connection.request('slow', null, { timeoutMs: 100 })), 'Timeout'));
  const controller = new AbortController();
  const pending = connection.request('slow', null, { signal: controller.signal });
  controller.abort();
  t.true(isShoalError(await t.throwsAsync(pending), 'Aborted'));
  t.is(await connection.request('fast', null), 'ok', 'the connection survives both');
  t.is(connection.inflightBytes, 0, 'timed-out and aborted requests release their bytes');
});

test('bytes in flight stay under the limit; requests over it wait rather than buffer', async (t) => {
  let peak = 0;
  let connectionRef: WireConnection | undefined;
  const server = await serve({
    sink: async () => {
      peak = Math.max(peak, connectionRef?.inflightBytes ?? 0);
      await new Promise((done) => setTimeout(done, 5));
      return null;
    },
  });
  t.teardown(() => server.close());
  const connection = await WireConnection.open(server.address, clientCreds);
  connectionRef = connection;
  t.teardown(() => connection.close());
  const payload = Buffer.alloc(4 * 1024 * 1024);
  const count = Math.ceil((2 * CONNECTION_INFLIGHT_BYTES_MAX) / payload.length);
  await Promise.all(Array.from({ length: count }, () => connection.request('sink', { payload })));
  t.true(peak > 0);
  t.true(peak <= CONNECTION_INFLIGHT_BYTES_MAX, `peak ${peak} bytes in flight`);
  t.log(`${count} requests of 4 MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB in flight (limit ${CONNECTION_INFLIGHT_BYTES_MAX / 2 ** 20} MiB)`);
});

test("a node's NoSpace reaches the client typed", async (t) => {
  const store = new MemoryBlockStore({ capacityBytes: 100_000 });
  const node = await startStorageNode({
    id: 'small-node', host: '127.0.0.1', port: 0, zone: 'z', rack: 'r', incarnation: 1,
    credentials: issueCertificate(await readClusterCa(dir), 'small-node', 'node'), store, log: silentLogger,
    clock: new SystemClock(), random: new Random('small-node'), acceptorStore: new MemoryAcceptorStore(),
  });
  t.teardown(() => node.close());
  const client = await ClusterClient.connect({ credentials: clientCreds, seeds: [node.address], replicas: 1 });
  t.teardown(() => client.close());
  const entropy = new SeededEntropy(new Random('nospace'));
  const owner = newIdentity(entropy).identity;
  const small = newContentBlock(owner.publicKey, entropy.bytes(50_000), entropy);
  await client.putContent(small.address, small.block);
  const big = newContentBlock(owner.publicKey, entropy.bytes(60_000), entropy);
  const error = await t.throwsAsync(client.putContent(big.address, big.block));
  t.true(isShoalError(error, 'NoSpace'), String(error));
  t.is(store.usage().blocks, 1);
});
