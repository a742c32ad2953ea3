// File content as chunks: the FAT's reads and copy-on-write updates, inline in the inode while small, then a radix
// tree of immutable index blocks in which an update rewrites only the nodes on the paths it touches.
import { assert } from '../../storage-node/base/assert.js';
import type { ChunkStore } from './chunk-store.js';
import { decodeFatNode, encodeFatNode, type ChunkRef, type Fat, type FatNode, type SealedRef } from './fat-record.js';

export interface FatShape {
  readonly fatInlineChunksMax: number;
  readonly fatFanout: number;
}

/** Set a chunk (a reference) or clear it (null, a hole); `dropFrom` clears every index from it on. */
export interface FatChanges {
  readonly set: ReadonlyMap<number, ChunkRef | null>;
  readonly dropFrom?: number;
}

/**
 * What an update of the FAT left behind: chunks and index blocks the new FAT no longer references (freed once it is
 * published), and the index blocks it wrote (freed instead if it is not).
 */
export interface FatGarbage {
  readonly chunks: SealedRef[];
  readonly nodes: SealedRef[];
  readonly created: SealedRef[];
}

export function newFatGarbage(): FatGarbage {
  return { chunks: [], nodes: [], created: [] };
}

export function emptyFat(chunkBytes: number): Fat {
  return { kind: 'chunks', chunkBytes, chunks: [] };
}

/** What an optimistic writer compares: two FATs with the same identity hold the same chunks. */
export function fatIdentity(fat: Fat): string {
  if (fat.kind === 'tree') return `tree:${fat.depth}:${fat.root.address.toString('hex')}`;
  return `chunks:${fat.chunks.map((c) => `${c.index}/${c.length}/${c.address.toString('hex')}`).join(',')}`;
}

function span(depth: number, fanout: number): number {
  return fanout ** depth;
}

/** The chunks with index in [first, last], in order. */
export async function chunksIn(store: ChunkStore, shape: FatShape, fat: Fat, first: number, last: number): Promise<ChunkRef[]> {
  if (fat.kind === 'chunks') return fat.chunks.filter((c) => c.index >= first && c.index <= last);
  const found: ChunkRef[] = [];
  const walk = async (ref: SealedRef, depth: number, base: number): Promise<void> => {
    const node = await loadNode(store, shape, fat.chunkBytes, ref, depth, base);
    const childSpan = span(depth, shape.fatFanout);
    const slots = [...node.slots].sort(([a], [b]) => a - b)
      .filter(([slot]) => base + (slot + 1) * childSpan - 1 >= first && base + slot * childSpan <= last);
    if (depth === 0) {
      for (const [, chunk] of slots) found.push(chunk as ChunkRef);
      return;
    }
    // Children in parallel, then in order: a large read fetches its index blocks at once.
    const parts = await Promise.all(slots.map(async ([slot, child]) => {
      const before = found.length;
      await walk(child, depth - 1, base + slot * childSpan);
      return found.splice(before);
    }));
    for (const part of parts) found.push(...part);
  };
  await walk(fat.root, fat.depth, 0);
  return found;
}

async function loadNode(store: ChunkStore, shape: FatShape, chunkBytes: number, ref: SealedRef, depth: number, base: number): Promise<FatNode> {
  return decodeFatNode(await store.load(ref), depth, base, shape.fatFanout, chunkBytes);
}

/** Every block a FAT references, chunks and index blocks (for freeing a file's whole content). */
export async function allBlocks(store: ChunkStore, shape: FatShape, fat: Fat): Promise<SealedRef[]> {
  if (fat.kind === 'chunks') return [...fat.chunks];
  const garbage = newFatGarbage();
  await collectSubtree(store, shape, fat.chunkBytes, fat.root, fat.depth, 0, garbage);
  return [...garbage.nodes, ...garbage.chunks];
}

/** Chunks of an inline FAT that `changes` replace (another address at their index) or drop. */
export function replacedInline(chunks: readonly ChunkRef[], changes: FatChanges): ChunkRef[] {
  const dropFrom = changes.dropFrom ?? Number.MAX_SAFE_INTEGER;
  return chunks.filter((c) => {
    if (c.index >= dropFrom) return true;
    const next = changes.set.get(c.index);
    return next === null || (next !== undefined && !next.address.equals(c.address));
  });
}

/** The FAT after `changes`: pure while it stays inline, else new index blocks along the changed paths. */
export async function updateFat(store: ChunkStore, shape: FatShape, fat: Fat, changes: FatChanges, garbage = newFatGarbage()): Promise<Fat> {
  if (fat.kind === 'chunks') {
    const chunks = updateInlineChunks(fat.chunks, changes);
    garbage.chunks.push(...replacedInline(fat.chunks, changes));
    if (chunks.length <= shape.fatInlineChunksMax) return { kind: 'chunks', chunkBytes: fat.chunkBytes, chunks };
    // Outgrew the inode: build the tree from nothing, every chunk a change.
    const set = new Map<number, ChunkRef | null>(chunks.map((c) => [c.index, c]));
    return rewriteTree(store, shape, fat.chunkBytes, undefined, 0, { set }, garbage);
  }
  return rewriteTree(store, shape, fat.chunkBytes, { ref: fat.root, depth: fat.depth }, fat.depth, changes, garbage);
}

/** Every index block and chunk under `ref` (a subtree a truncate cuts off, or a whole file). */
async function collectSubtree(store: ChunkStore, shape: FatShape, chunkBytes: number, ref: SealedRef, depth: number, base: number, garbage: FatGarbage): Promise<void> {
  garbage.nodes.push(ref);
  const node = await loadNode(store, shape, chunkBytes, ref, depth, base);
  if (node.depth === 0) {
    for (const chunk of node.slots.values()) garbage.chunks.push(chunk as ChunkRef);
    return;
  }
  const childSpan = span(depth, shape.fatFanout);
  await Promise.all([...node.slots].map(([slot, child]) => collectSubtree(store, shape, chunkBytes, child, depth - 1, base + slot * childSpan, garbage)));
}

export function updateInlineChunks(chunks: readonly ChunkRef[], changes: FatChanges): ChunkRef[] {
  const byIndex = new Map(chunks.map((c) => [c.index, c]));
  for (const [index, ref] of changes.set) {
    if (ref === null) byIndex.delete(index);
    else byIndex.set(index, ref);
  }
  const dropFrom = changes.dropFrom ?? Number.MAX_SAFE_INTEGER;
  return [...byIndex.values()].filter((c) => c.index < dropFrom).sort((a, b) => a.index - b.index);
}

async function rewriteTree(
  store: ChunkStore, shape: FatShape, chunkBytes: number, root: { ref: SealedRef; depth: number } | undefined, depth: number, changes: FatChanges, garbage: FatGarbage,
): Promise<Fat> {
  // Grow until the highest index set fits: the old root becomes slot 0 of a new root.
  const highest = Math.max(-1, ...[...changes.set].filter(([, ref]) => ref !== null).map(([index]) => index));
  let ref = root?.ref;
  let treeDepth = root?.depth ?? depth;
  while (highest >= span(treeDepth + 1, shape.fatFanout)) {
    if (ref !== undefined) {
      ref = await store.store(encodeFatNode({ depth: treeDepth + 1, slots: new Map([[0, ref]]) }));
      garbage.created.push(ref);
    }
    treeDepth++;
  }
  const sorted = [...changes.set].sort(([a], [b]) => a - b);
  const next = await rewriteNode({ store, shape, chunkBytes, dropFrom: changes.dropFrom, garbage }, ref, treeDepth, 0, sorted);
  if (next === undefined) return { kind: 'chunks', chunkBytes, chunks: [] };
  return { kind: 'tree', chunkBytes, depth: treeDepth, root: next };
}

type Change = readonly [number, ChunkRef | null];

interface Rewrite {
  readonly store: ChunkStore;
  readonly shape: FatShape;
  readonly chunkBytes: number;
  readonly dropFrom: number | undefined;
  readonly garbage: FatGarbage;
}

/**
 * The node covering [base, base + span(depth + 1)) after the changes within it; undefined when it ends up empty. The
 * node it replaces, the chunks it drops or replaces and the subtrees it cuts off go to `garbage`.
 */
async function rewriteNode(rw: Rewrite, ref: SealedRef | undefined, depth: number, base: number, changes: readonly Change[]): Promise<SealedRef | undefined> {
  const { store, shape, chunkBytes, dropFrom, garbage } = rw;
  const end = base + span(depth + 1, shape.fatFanout);
  const dropsHere = dropFrom !== undefined && dropFrom < end;
  if (changes.length === 0 && !dropsHere) return ref;
  if (dropFrom !== undefined && dropFrom <= base) {
    if (ref !== undefined) await collectSubtree(store, shape, chunkBytes, ref, depth, base, garbage);
    return undefined;
  }
  const node = ref === undefined ? undefined : await loadNode(store, shape, chunkBytes, ref, depth, base);
  if (ref !== undefined) garbage.nodes.push(ref);
  const childSpan = span(depth, shape.fatFanout);
  const slots = new Map<number, SealedRef | ChunkRef>(node?.slots ?? []);
  if (depth === 0) {
    const replaced = (slot: number, next: ChunkRef | null): void => {
      const old = slots.get(slot);
      if (old !== undefined && (next === null || !next.address.equals(old.address))) garbage.chunks.push(old);
    };
    for (const [index, chunk] of changes) {
      replaced(index - base, chunk);
      if (chunk === null) slots.delete(index - base);
      else slots.set(index - base, chunk);
    }
    if (dropFrom !== undefined) {
      for (const slot of [...slots.keys()]) {
        if (base + slot < dropFrom) continue;
        replaced(slot, null);
        slots.delete(slot);
      }
    }
  } else {
    const bySlot = new Map<number, Change[]>();
    for (const change of changes) {
      const slot = Math.floor((change[0] - base) / childSpan);
      assert(slot >= 0 && slot < shape.fatFanout, 'a change falls within its node');
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), change]);
    }
    if (dropFrom !== undefined) for (const slot of slots.keys()) if (base + (slot + 1) * childSpan > dropFrom && !bySlot.has(slot)) bySlot.set(slot, []);
    const rewritten = await Promise.all([...bySlot].map(async ([slot, within]) =>
      [slot, await rewriteNode(rw, slots.get(slot), depth - 1, base + slot * childSpan, within)] as const));
    for (const [slot, child] of rewritten) {
      if (child === undefined) slots.delete(slot);
      else slots.set(slot, child);
    }
  }
  if (slots.size === 0) return undefined;
  const encoded = depth === 0
    ? encodeFatNode({ depth: 0, slots: slots as Map<number, ChunkRef> })
    : encodeFatNode({ depth, slots: slots as Map<number, SealedRef> });
  const stored = await store.store(encoded);
  garbage.created.push(stored);
  return stored;
}
