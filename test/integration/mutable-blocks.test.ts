// Goal: per-block Paxos between real processes keeps every acknowledged update, with and without a node dying.
// Method: three `shoal node run` processes; four clients (each its own connections and proposer) increment one
// counter block 250 times each, concurrently; once more with one node killed by SIGKILL halfway through.
import test from 'ava';
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import { readAdminIdentity } from '../../storage-node/cli/cluster-dir.js';
import type { ClusterClient } from '../../storage-node/client/cluster-client.js';
import { systemEntropy } from '../../storage-node/system.js';
import { TestCluster } from './harness/spawn-cluster.js';

const CLIENTS = 4;
const INCREMENTS = 250;
const IN_FLIGHT_PER_CLIENT = 8;

const encode = (n: number): Buffer => Buffer.from(String(n));
const decode = (b: Buffer): number => Number(b.toString());

async function clients(cluster: TestCluster): Promise<ClusterClient[]> {
  const owner = await readAdminIdentity(cluster.clusterDir);
  return Promise.all(Array.from({ length: CLIENTS }, () => cluster.client({ owner, entropy: systemEntropy })));
}

/** Each client increments `INCREMENTS` times, a few at once; returns how many were acknowledged and how many ended unknown. */
async function incrementAll(all: ClusterClient[], address: Buffer, onProgress: (acked: number) => void): Promise<{ acked: number; unknown: number; errors: string[] }> {
  let acked = 0;
  let unknown = 0;
  const errors: string[] = [];
  await Promise.all(all.map(async (client) => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < INCREMENTS) {
        next++;
        try {
          await client.mutable.update(address, (current) => encode(decode(current) + 1));
          acked++;
          onProgress(acked);
        } catch (err) {
          if (isShoalError(err) && (err as ShoalError).detail?.['outcome'] === 'unknown') unknown++;
          else errors.push(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT_PER_CLIENT }, worker));
  }));
  return { acked, unknown, errors };
}

test.serial('four clients increment one counter 1,000 times: it ends at 1,000', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const all = await clients(cluster);
  t.teardown(() => all.forEach((c) => c.close()));
  const { address, version } = await all[0]!.mutable.create(encode(0));
  t.is(version, 1);
  const started = Date.now();
  const result = await incrementAll(all, address, () => {});
  t.log(`${result.acked} increments acknowledged in ${Date.now() - started} ms; ${result.unknown} unknown; ${result.errors.length} failed`);
  t.deepEqual(result.errors, []);
  const final = await all[1]!.mutable.read(address);
  t.true('content' in final);
  if ('content' in final) t.is(decode(final.content), CLIENTS * INCREMENTS);
  t.is(result.acked, CLIENTS * INCREMENTS);
});

test.serial('the same with one node killed by SIGKILL halfway: no acknowledged increment is lost', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const all = await clients(cluster);
  t.teardown(() => all.forEach((c) => c.close()));
  const { address } = await all[0]!.mutable.create(encode(0));
  let killed: Promise<void> | undefined;
  const result = await incrementAll(all, address, (acked) => {
    if (acked === (CLIENTS * INCREMENTS) / 2 && killed === undefined) killed = cluster.kill(cluster.nodes[1]!);
  });
  await killed;
  t.log(`${result.acked} acknowledged, ${result.unknown} unknown, ${result.errors.length} failed, node ${cluster.nodes[1]!.id} killed after ${(CLIENTS * INCREMENTS) / 2}`);
  t.deepEqual(result.errors, []);
  const final = await all[2]!.mutable.read(address);
  const value = 'content' in final ? decode(final.content) : -1;
  // Every acknowledged increment is in; an unknown one may or may not be.
  t.true(value >= result.acked && value <= result.acked + result.unknown, `value ${value}, acknowledged ${result.acked}, unknown ${result.unknown}`);
  t.is(value, CLIENTS * INCREMENTS, 'and with two of three acceptors up, every increment completes');
});

test.serial('reads are linearizable across clients, and conditional reads skip what the caller has', async (t) => {
  const cluster = await TestCluster.start([{ zone: 'a' }, { zone: 'b' }, { zone: 'c' }]);
  t.teardown(() => cluster.stop());
  const [writer, reader] = await clients(cluster);
  t.teardown(() => [writer, reader].forEach((c) => c!.close()));
  const { address } = await writer!.mutable.create(encode(1));
  for (let i = 2; i <= 20; i++) {
    await writer!.mutable.update(address, () => encode(i));
    const seen = await reader!.mutable.read(address);
    t.true('content' in seen && decode(seen.content) === i, `read after write ${i} sees it`);
  }
  const latest = await reader!.mutable.read(address);
  const unchanged = await reader!.mutable.read(address, { ifNewerThan: latest.version });
  t.true('notModified' in unchanged);
  const missing = await t.throwsAsync(reader!.mutable.read(Buffer.alloc(32, 9)));
  t.true(isShoalError(missing, 'NotFound'));
  const taken = await t.throwsAsync(writer!.mutable.update(address, () => new ShoalError('Exists', 'no longer applies')));
  t.true(isShoalError(taken, 'Exists'), 'an op that no longer applies fails with its own typed error');
});
