// Goal: changes submitted while a write of the same block is in flight go into the next write together, each gets the
// outcome of the last replay of the batch, a failing change fails alone, and a batch that changes nothing writes nothing.
// Method: a writer over an in-memory value that can be told to replay `apply` on a newer value (as consensus does when
// another gateway won the version) and records every write.
import test from 'ava';
import { isShoalError, ShoalError } from '../../../../storage-node/base/errors.js';
import { ChangeBatcher, type BatchWriter } from '../../../../gateway/fs/change-batcher.js';

class FakeBlock {
  value: readonly string[] = [];
  writes: (readonly string[])[] = [];
  /** Before the next write lands, another writer appends this (so `apply` runs again on the newer value). */
  interloper: string | undefined;
  #gate: Promise<void> = Promise.resolve();
  #open: () => void = () => {};

  hold(): void {
    this.#gate = new Promise((resolve) => { this.#open = resolve; });
  }

  release(): void {
    this.#open();
  }

  readonly write: BatchWriter<readonly string[]> = async (_key, apply) => {
    await this.#gate;
    let next = apply(this.value);
    if (this.interloper !== undefined && !isShoalError(next)) {
      this.value = [...this.value, this.interloper];
      this.interloper = undefined;
      next = apply(this.value);
    }
    if (isShoalError(next)) throw next;
    this.value = next;
    this.writes.push(next);
    return next;
  };
}

const add = (name: string) => (value: readonly string[]) =>
  value.includes(name) ? new ShoalError('Exists', `${name} exists`) : { next: [...value, name], result: value.length };

test('changes that arrive during a write go into the next one together, each with its own outcome', async (t) => {
  const block = new FakeBlock();
  const batcher = new ChangeBatcher(block.write);
  block.hold();
  const first = batcher.submit('k', add('a'));
  const rest = ['b', 'c', 'a', 'd'].map((name) => batcher.submit('k', add(name)));
  block.release();
  t.deepEqual((await first).result, 0);
  const settled = await Promise.allSettled(rest);
  t.is(block.writes.length, 2, 'the first write alone, then one write for the four that waited');
  t.deepEqual(block.value, ['a', 'b', 'c', 'd']);
  t.deepEqual(settled.map((s) => (s.status === 'fulfilled' ? s.value.result : (s.reason as Error).message)), [1, 2, 'a exists', 3]);
  const last = settled[3];
  t.deepEqual(last?.status === 'fulfilled' ? last.value.written : undefined, ['a', 'b', 'c', 'd'], 'each learns the value its write stored');
});

test('a replay on a newer value gives every change the outcome of the replay', async (t) => {
  const block = new FakeBlock();
  const batcher = new ChangeBatcher(block.write);
  block.interloper = 'x';
  const outcomes = await Promise.allSettled([batcher.submit('k', add('x')), batcher.submit('k', add('y'))]);
  t.is(outcomes[0]?.status, 'rejected', 'x was taken by the other writer before our version');
  t.deepEqual(outcomes[1]?.status === 'fulfilled' ? outcomes[1].value.result : undefined, 1);
  t.deepEqual(block.value, ['x', 'y']);
});

test('a batch in which nothing changes writes nothing and still answers every change', async (t) => {
  const block = new FakeBlock();
  block.value = ['a'];
  const batcher = new ChangeBatcher(block.write);
  const same = (value: readonly string[]) => ({ next: value, result: 'same' });
  const outcomes = await Promise.allSettled([batcher.submit('k', same), batcher.submit('k', add('a'))]);
  t.is(block.writes.length, 0);
  t.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected']);
});

test('a failed write fails the changes of its batch only; the next batch still runs', async (t) => {
  const block = new FakeBlock();
  let fail = true;
  const batcher = new ChangeBatcher<readonly string[], number>(async (key, apply) => {
    if (fail) {
      fail = false;
      throw new ShoalError('Timeout', 'no quorum');
    }
    return block.write(key, apply);
  });
  // 'a' is written alone (the writer starts at once); 'b' and 'c' wait for it and go together.
  const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((name) => batcher.submit('k', add(name))));
  t.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled', 'fulfilled']);
  t.deepEqual(block.value, ['b', 'c']);
  t.is(block.writes.length, 1);
});

test('exclusive work runs after the writes queued before it and holds back the changes queued after it', async (t) => {
  const block = new FakeBlock();
  const batcher = new ChangeBatcher(block.write);
  block.hold();
  const first = batcher.submit('k', add('a'));
  const before = batcher.submit('k', add('b'));
  const seen: (readonly string[])[] = [];
  const exclusive = batcher.exclusive('k', async () => {
    seen.push(block.value);
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen.push(block.value);
  });
  const after = batcher.submit('k', add('c'));
  block.release();
  await Promise.all([first, before, exclusive, after]);
  t.deepEqual(seen, [['a', 'b'], ['a', 'b']], 'the block held still while the exclusive work ran');
  t.deepEqual(block.value, ['a', 'b', 'c']);
});
