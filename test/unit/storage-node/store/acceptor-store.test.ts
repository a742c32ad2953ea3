// Goal: the LMDB acceptor store gives back, after a close and a reopen, exactly the states its persists resolved for,
// the last one per block, and walks its blocks in key order. Method: a temporary directory, states of several blocks
// written over several transactions (Buffers inside, as accepted values carry), then a fresh open of the same path.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdbAcceptorStore } from '../../../../storage-node/store/acceptor-store.js';

interface FakeState {
  readonly promised: number;
  readonly value?: Buffer;
}

test('persisted states survive a reopen, the last write per block wins, and blocks list in key order', async (t) => {
  const path = await mkdtemp(join(tmpdir(), 'shoal-acceptor-store-'));
  t.teardown(() => rm(path, { recursive: true, force: true }));

  const first = await openLmdbAcceptorStore<FakeState>(path);
  await first.persist(new Map([['b2', { promised: 1 }], ['b1', { promised: 1, value: Buffer.from('one') }]]));
  await first.persist(new Map([['b2', { promised: 7, value: Buffer.alloc(2000, 0xab) }]]));
  await first.persist(new Map());
  t.deepEqual(first.load('b2'), { promised: 7, value: Buffer.alloc(2000, 0xab) }, 'read back before the close');
  await first.close();

  const again = await openLmdbAcceptorStore<FakeState>(path);
  t.teardown(() => again.close());
  t.deepEqual(again.load('b1'), { promised: 1, value: Buffer.from('one') });
  t.deepEqual(again.load('b2'), { promised: 7, value: Buffer.alloc(2000, 0xab) });
  t.is(again.load('b3'), undefined);
  t.deepEqual(again.listBlocks({ limit: 10 }), ['b1', 'b2']);
  t.deepEqual(again.listBlocks({ after: 'b1', limit: 10 }), ['b2']);
});
