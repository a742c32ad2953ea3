// Goal: a node refuses what it must refuse and keeps serving everyone else. Method: one real node process;
// each refusal is sent over a real TLS connection, then a well-behaved client checks the node still serves.
import test from 'ava';
import { connect } from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isShoalError } from '../../storage-node/base/errors.js';
import { Random, SeededEntropy } from '../../storage-node/base/random.js';
import { newContentBlock, signContentRemoval } from '../../storage-node/blocks/immutable.js';
import { newIdentity } from '../../storage-node/blocks/sign.js';
import { ClusterClient } from '../../storage-node/client/cluster-client.js';
import { clientCredentials, initClusterDir } from '../../storage-node/cli/cluster-dir.js';
import { encodeFrame } from '../../storage-node/wire/frame.js';
import type { TlsCredentials } from '../../storage-node/wire/tls-credentials.js';
import { TestCluster } from './harness/spawn-cluster.js';

const entropy = new SeededEntropy(new Random('refusals'));
const owner = newIdentity(entropy).identity;
let cluster: TestCluster;

test.before(async () => {
  cluster = await TestCluster.start([{ zone: 'z1' }]);
});
test.after.always(async () => {
  await cluster?.stop();
});

async function stillServes(t: { is: (a: unknown, b: unknown, m?: string) => void }): Promise<void> {
  const client = await cluster.client({ replicas: 1 });
  try {
    const { address, block } = newContentBlock(owner.publicKey, entropy.bytes(1000), entropy);
    await client.putContent(address, block);
    t.is((await client.getContent(address)).data.length, 1000, 'the node still serves a well-behaved client');
  } finally {
    client.close();
  }
}

/** Opens a raw TLS connection and resolves with what happened: the bytes received and whether the node closed it. */
function rawExchange(credentials: Partial<TlsCredentials>, payload: Buffer | undefined, waitMs = 3000): Promise<{ connected: boolean; received: number; closed: boolean }> {
  const { port } = { port: cluster.nodes[0]!.port };
  return new Promise((resolve) => {
    let connected = false;
    let received = 0;
    const socket = connect({ host: '127.0.0.1', port, ...credentials, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ connected, received, closed: false });
    }, waitMs);
    socket.on('secureConnect', () => {
      connected = true;
      if (payload) socket.write(payload);
    });
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ connected, received, closed: true });
    });
  });
}

test.serial('a client without a certificate is refused', async (t) => {
  const probe = encodeFrame(Buffer.from([0x94, 0x00, 0x01, 0xa9, ...Buffer.from('node.info'), 0xc0]));
  const result = await rawExchange({ ca: (await cluster.credentials()).ca }, probe);
  t.true(result.closed, 'the node closes the connection');
  t.is(result.received, 0, 'and answers nothing');
  await stillServes(t);
});

test.serial("a certificate from another cluster's CA is refused", async (t) => {
  const otherDir = await mkdtemp(join(tmpdir(), 'shoal-other-'));
  t.teardown(() => rm(otherDir, { recursive: true, force: true }));
  await initClusterDir(otherDir, 'other');
  const foreign = await clientCredentials(otherDir, 'intruder');
  const error = await t.throwsAsync(ClusterClient.connect({ credentials: { ...foreign, ca: (await cluster.credentials()).ca }, seeds: [cluster.nodes[0]!.address] }));
  t.true(isShoalError(error, 'Unavailable'), `refused as unavailable, got ${String(error)}`);
  const raw = await rawExchange({ key: foreign.key, cert: foreign.cert }, encodeFrame(Buffer.from([0x90])));
  t.true(raw.closed);
  t.is(raw.received, 0);
  await stillServes(t);
});

test.serial('a block whose content does not match its address is refused', async (t) => {
  const client = await cluster.client({ replicas: 1 });
  t.teardown(() => client.close());
  const { address, block } = newContentBlock(owner.publicKey, entropy.bytes(4096), entropy);
  const tampered = { ...block, data: Buffer.concat([block.data.subarray(1), Buffer.from([0])]) };
  const error = await t.throwsAsync(client.putContent(address, tampered));
  t.true(isShoalError(error, 'Invalid'), String(error));
  t.regex(error?.message ?? '', /does not hash to its address/);
  const missing = await t.throwsAsync(client.getContent(address));
  t.true(isShoalError(missing, 'NotFound'), 'nothing was stored');
});

test.serial("a remove without the owner's signature is refused", async (t) => {
  const client = await cluster.client({ replicas: 1 });
  t.teardown(() => client.close());
  const { address, block } = newContentBlock(owner.publicKey, entropy.bytes(2048), entropy);
  await client.putContent(address, block);
  const stranger = newIdentity(entropy).identity;
  const error = await t.throwsAsync(client.removeContent(address, signContentRemoval(stranger, address)));
  t.true(isShoalError(error, 'Forbidden'), String(error));
  t.deepEqual((await client.getContent(address)).data, block.data, 'the block is still there');
  const removed = await client.removeContent(address, signContentRemoval(owner, address));
  t.is(removed.removedFrom.length, 1, "the owner's signature removes it");
  t.true(isShoalError(await t.throwsAsync(client.getContent(address)), 'NotFound'));
});

test.serial('a truncated frame, a 100 MiB frame header and garbage close only their own connection', async (t) => {
  const credentials = await cluster.credentials();
  // Another connection is open throughout and must keep working.
  const bystander = await cluster.client({ replicas: 1 });
  t.teardown(() => bystander.close());
  const { address, block } = newContentBlock(owner.publicKey, entropy.bytes(512), entropy);
  await bystander.putContent(address, block);

  const truncated = encodeFrame(Buffer.alloc(100, 0x91)).subarray(0, 40);
  const truncatedResult = await rawExchange(credentials, truncated, 1500);
  t.is(truncatedResult.received, 0, 'a truncated frame gets no answer');

  const hugeHeader = Buffer.alloc(4);
  hugeHeader.writeUInt32BE(100 * 1024 * 1024);
  const huge = await rawExchange(credentials, Buffer.concat([hugeHeader, Buffer.alloc(1024)]));
  t.true(huge.closed, 'a 100 MiB frame header closes the connection at once');
  t.is(huge.received, 0);

  const garbage = await rawExchange(credentials, encodeFrame(Buffer.from('this is not msgpack \xc1\xc1\xc1', 'latin1')));
  t.true(garbage.closed, 'garbage closes the connection');

  t.deepEqual((await bystander.getContent(address)).data, block.data, 'the connection opened before is still served');
  await stillServes(t);
});

test.serial('a client certificate cannot gossip membership', async (t) => {
  const { ConnectionPool } = await import('../../storage-node/wire/connection-pool.js');
  const { OVERLAY_OP } = await import('../../storage-node/overlay/overlay-driver.js');
  const pool = new ConnectionPool(await cluster.credentials());
  t.teardown(() => pool.close());
  const forged = { from: '127.0.0.1:1', message: { kind: 'join', record: ['ffff', '127.0.0.1:1', 'z', 'r', 1, 0, 'alive', 1] } };
  const error = await t.throwsAsync(pool.request({ address: cluster.nodes[0]!.address }, OVERLAY_OP, forged));
  t.true(isShoalError(error, 'Forbidden'), String(error));
  const members = await cluster.membersSeenBy(cluster.nodes[0]!);
  t.is(members.length, 1, 'nothing was added');
});
