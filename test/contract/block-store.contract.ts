// The BlockStore contract: every store (LMDB, memory) runs these tests, so the simulator's store behaves as production's.
// Method: each test opens a fresh store of a chosen capacity through `open`, drives it through the BlockStore
// interface only, and checks results and usage; blocks are made from a seeded entropy stream, so runs repeat.
import test, { type ExecutionContext } from 'ava';
import { isShoalError } from '../../storage-node/base/errors.js';
import { Random, SeededEntropy } from '../../storage-node/base/random.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { contentBlockBytes, newContentBlock, type ContentBlock } from '../../storage-node/blocks/immutable.js';
import type { BlockStore } from '../../storage-node/store/block-store.js';

export interface OpenedBlockStore {
  store: BlockStore;
  /** Closes `store` and opens the same data again, as a restarted node would. */
  reopen?: () => Promise<BlockStore>;
  /** Closes whatever store is open and removes its data. */
  cleanup: () => Promise<void>;
}

type Item = { address: Address; block: ContentBlock };

const DATA_BYTES = 1000;
/** Every test block costs the same: owner (32) + salt (16) + data. */
const BLOCK_BYTES = 32 + 16 + DATA_BYTES;

function makeBlocks(seed: string, count: number): Item[] {
  const entropy = new SeededEntropy(new Random(seed));
  const owner = entropy.bytes(32);
  return Array.from({ length: count }, () => newContentBlock(owner, entropy.bytes(DATA_BYTES), entropy));
}

function sameBlock(t: ExecutionContext, actual: ContentBlock | undefined, expected: ContentBlock): void {
  t.truthy(actual);
  if (actual === undefined) return;
  t.true(actual.owner.equals(expected.owner), 'owner');
  t.true(actual.salt.equals(expected.salt), 'salt');
  t.true(actual.data.equals(expected.data), 'data');
}

function hexes(addresses: readonly Address[]): string[] {
  return addresses.map((address) => address.toString('hex'));
}

export function blockStoreContract(name: string, open: (capacityBytes: number) => Promise<OpenedBlockStore>): void {
  async function setup(t: ExecutionContext, capacityBytes = 100 * BLOCK_BYTES): Promise<OpenedBlockStore> {
    const opened = await open(capacityBytes);
    t.teardown(opened.cleanup);
    return opened;
  }

  test(`${name}: a put block reads back whole; unknown addresses are absent`, async (t) => {
    const { store } = await setup(t);
    const [a, b] = makeBlocks('round-trip', 2) as [Item, Item];
    t.true(BLOCK_BYTES === contentBlockBytes(a.block), 'the test blocks cost what the tests assume');
    await store.putContent(a.address, a.block);
    sameBlock(t, store.getContent(a.address), a.block);
    t.true(store.hasContent(a.address));
    await t.notThrowsAsync(store.durable(), 'what it holds can be awaited durable');
    t.is(store.getContent(b.address), undefined);
    t.false(store.hasContent(b.address));
    t.deepEqual(store.usage(), { blocks: 1, usedBytes: BLOCK_BYTES, capacityBytes: 100 * BLOCK_BYTES });
  });

  test(`${name}: a block keeps the replica count it was put with, until it is removed`, async (t) => {
    const { store, reopen } = await setup(t);
    const [counted, plain] = makeBlocks('replicas', 2) as [Item, Item];
    await store.putContentMany([{ ...counted, replicas: 5 }, plain]);
    t.is(store.replicasOf(counted.address), 5);
    t.is(store.replicasOf(plain.address), undefined);
    sameBlock(t, store.getContent(counted.address), counted.block);
    t.is(store.usage().usedBytes, 2 * BLOCK_BYTES, 'the count is not charged as block bytes');
    const current = reopen === undefined ? store : await reopen();
    t.is(current.replicasOf(counted.address), 5, 'the count survives a reopen');
    await current.removeContent(counted.address);
    t.is(current.replicasOf(counted.address), undefined);
  });

  test(`${name}: the store keeps its own copy of a block`, async (t) => {
    const { store } = await setup(t);
    const [a] = makeBlocks('copies', 1) as [Item];
    const original = Buffer.from(a.block.data);
    const given = { owner: Buffer.from(a.block.owner), salt: Buffer.from(a.block.salt), data: Buffer.from(a.block.data) };
    await store.putContent(a.address, given);
    given.data.fill(0);
    const first = store.getContent(a.address);
    first?.data.fill(1);
    t.true(store.getContent(a.address)?.data.equals(original));
  });

  test(`${name}: putting a held block again, one after another or at once, charges it once`, async (t) => {
    const { store } = await setup(t);
    const [a] = makeBlocks('idempotent', 1) as [Item];
    await store.putContent(a.address, a.block);
    await store.putContent(a.address, a.block);
    await Promise.all([store.putContent(a.address, a.block), store.putContent(a.address, a.block)]);
    t.deepEqual(store.usage(), { blocks: 1, usedBytes: BLOCK_BYTES, capacityBytes: 100 * BLOCK_BYTES });
    t.deepEqual(hexes(store.listContent({ limit: 10 })), hexes([a.address]));
  });

  test(`${name}: a put that fits exactly succeeds; one past capacity fails NoSpace with the numbers`, async (t) => {
    const { store } = await setup(t, 2 * BLOCK_BYTES);
    const [a, b, c] = makeBlocks('capacity', 3) as [Item, Item, Item];
    await store.putContent(a.address, a.block);
    await store.putContent(b.address, b.block);
    const error = await t.throwsAsync(store.putContent(c.address, c.block));
    t.true(isShoalError(error, 'NoSpace'), String(error));
    t.is((error as { subject?: unknown }).subject, 'block');
    t.regex(error?.message ?? '', new RegExp(`${c.address.toString('hex')}.*${BLOCK_BYTES}.*${2 * BLOCK_BYTES}`));
    t.false(store.hasContent(c.address));
    t.deepEqual(store.usage(), { blocks: 2, usedBytes: 2 * BLOCK_BYTES, capacityBytes: 2 * BLOCK_BYTES });
    await store.putContent(a.address, a.block); // held already: needs no room
  });

  test(`${name}: racing puts cannot take the store past capacity`, async (t) => {
    const { store } = await setup(t, 3 * BLOCK_BYTES + BLOCK_BYTES / 2);
    const items = makeBlocks('race', 10);
    const results = await Promise.allSettled(items.map((item) => store.putContent(item.address, item.block)));
    const stored = results.filter((result) => result.status === 'fulfilled').length;
    const refused = results.filter((result) => result.status === 'rejected' && isShoalError(result.reason, 'NoSpace')).length;
    t.is(stored, 3);
    t.is(refused, 7);
    t.is(store.usage().usedBytes, 3 * BLOCK_BYTES);
    t.is(items.filter((item) => store.hasContent(item.address)).length, 3);
  });

  test(`${name}: remove frees the bytes; removing a block not held returns false`, async (t) => {
    const { store } = await setup(t, 2 * BLOCK_BYTES);
    const [a, b, c] = makeBlocks('remove', 3) as [Item, Item, Item];
    await store.putContent(a.address, a.block);
    await store.putContent(b.address, b.block);
    t.true(await store.removeContent(a.address));
    t.false(store.hasContent(a.address));
    t.is(store.getContent(a.address), undefined);
    t.deepEqual(store.usage(), { blocks: 1, usedBytes: BLOCK_BYTES, capacityBytes: 2 * BLOCK_BYTES });
    t.false(await store.removeContent(a.address));
    t.false(await store.removeContent(c.address));
    await store.putContent(c.address, c.block); // the freed room is usable
    t.deepEqual(store.usage(), { blocks: 2, usedBytes: 2 * BLOCK_BYTES, capacityBytes: 2 * BLOCK_BYTES });
  });

  test(`${name}: putContentMany settles each item on its own, in order`, async (t) => {
    const { store } = await setup(t, 3 * BLOCK_BYTES);
    const [a, b, c, d] = makeBlocks('many', 4) as [Item, Item, Item, Item];
    await store.putContent(a.address, a.block);
    t.deepEqual(await store.putContentMany([]), []);
    const outcomes = await store.putContentMany([a, b, b, c, d]);
    t.deepEqual(outcomes.map((outcome) => outcome.ok), [true, true, true, true, false]);
    const last = outcomes[4];
    t.true(last !== undefined && !last.ok && last.kind === 'NoSpace' && last.message.includes(d.address.toString('hex')));
    t.deepEqual(store.usage(), { blocks: 3, usedBytes: 3 * BLOCK_BYTES, capacityBytes: 3 * BLOCK_BYTES });
    t.true(store.hasContent(c.address));
    t.false(store.hasContent(d.address));
  });

  test(`${name}: listContent walks addresses in ascending order, a page at a time`, async (t) => {
    const { store } = await setup(t);
    const items = makeBlocks('list', 7);
    await store.putContentMany(items);
    const expected = hexes(items.map((item) => item.address)).sort();
    const walked: string[] = [];
    let after: Address | undefined;
    for (let page = 0; page < 10; page++) {
      const addresses = store.listContent(after === undefined ? { limit: 3 } : { after, limit: 3 });
      t.true(addresses.length <= 3);
      if (addresses.length === 0) break;
      walked.push(...hexes(addresses));
      after = addresses.at(-1);
    }
    t.deepEqual(walked, expected);
    t.deepEqual(store.listContent({ limit: 0 }), []);
    // From an address not held: the walk resumes at the next one (repair resumes after a block it removed).
    const [, removed, next] = expected as [string, string, string];
    await store.removeContent(Buffer.from(removed, 'hex'));
    t.deepEqual(hexes(store.listContent({ after: Buffer.from(removed, 'hex'), limit: 1 })), [next]);
    t.deepEqual(store.listContent({ after: Buffer.alloc(32, 0xff), limit: 5 }), []);
    t.true(isShoalError(t.throws(() => store.listContent({ limit: -1 })), 'Invalid'));
  });

  test(`${name}: a closed store refuses calls as Unavailable`, async (t) => {
    const { store } = await setup(t);
    const [a] = makeBlocks('closed', 1) as [Item];
    await store.close();
    await store.close();
    t.true(isShoalError(t.throws(() => store.usage()), 'Unavailable'));
    t.true(isShoalError(t.throws(() => store.hasContent(a.address)), 'Unavailable'));
    t.true(isShoalError(await t.throwsAsync(store.putContent(a.address, a.block)), 'Unavailable'));
    t.true(isShoalError(await t.throwsAsync(store.durable()), 'Unavailable'));
  });

  test(`${name}: blocks and usage survive close and reopen`, async (t) => {
    const { store, reopen } = await setup(t, 4 * BLOCK_BYTES);
    if (reopen === undefined) {
      // Registered anyway, so that the suite's list of tests is the same for every store.
      t.log('this store keeps nothing across a reopen');
      t.pass();
      return;
    }
    const items = makeBlocks('reopen', 3) as [Item, Item, Item];
    await store.putContentMany(items);
    await store.removeContent(items[1].address);
    const before = store.usage();
    const reopened = await reopen();
    t.deepEqual(reopened.usage(), before);
    t.deepEqual(before, { blocks: 2, usedBytes: 2 * BLOCK_BYTES, capacityBytes: 4 * BLOCK_BYTES });
    sameBlock(t, reopened.getContent(items[0].address), items[0].block);
    t.false(reopened.hasContent(items[1].address));
    sameBlock(t, reopened.getContent(items[2].address), items[2].block);
    t.is(reopened.listContent({ limit: 10 }).length, 2);
    // The usage record is still charged correctly after the reopen: two more fit, a third does not.
    const more = makeBlocks('reopen-more', 3) as [Item, Item, Item];
    t.deepEqual((await reopened.putContentMany(more)).map((outcome) => outcome.ok), [true, true, false]);
  });
}
