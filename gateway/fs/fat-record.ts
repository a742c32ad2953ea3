// The FAT's records: chunk references (offset = index × chunk size, length, content-block address, data key), the
// FAT header kept in the inode, and the index blocks of a FAT that outgrew its inode.
import { ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { DATA_KEY_BYTES } from '../../storage-node/blocks/seal.js';
import { checkAddress, checkBytes, checkTuple, checkUint, packRecord, RecordReader } from './record-packer.js';

export const FAT_NODE_FORMAT_VERSION = 1;

/** A sealed content block and the key that opens it. */
export interface SealedRef {
  readonly address: Address;
  readonly key: Buffer;
}

/** Chunk `index` covers bytes [index × chunkBytes, + length) of the file; its plaintext past `length` is ignored (a truncate only shortens `length`). */
export interface ChunkRef extends SealedRef {
  readonly index: number;
  readonly length: number;
}

export type Fat =
  | { readonly kind: 'chunks'; readonly chunkBytes: number; readonly chunks: readonly ChunkRef[] }
  /** A radix tree: a node of depth d covers fanout^(d+1) chunks; depth 0 holds chunk references. */
  | { readonly kind: 'tree'; readonly chunkBytes: number; readonly depth: number; readonly root: SealedRef };

/** One index block: sparse slots, chunk references at depth 0, child nodes above. */
export type FatNode = { readonly depth: 0; readonly slots: ReadonlyMap<number, ChunkRef> } | { readonly depth: number; readonly slots: ReadonlyMap<number, SealedRef> };

const fail = (what: string, detail: string) => () => new ShoalError('Invalid', `${what}: ${detail}`, { subject: 'block' });

function decodeSealedRef(address: unknown, key: unknown, what: string): SealedRef {
  const k = checkBytes(key, fail(what, 'a data key'));
  if (k.length !== DATA_KEY_BYTES) throw fail(what, `a data key is ${DATA_KEY_BYTES} bytes`)();
  return { address: checkAddress(address, fail(what, 'an address')), key: k };
}

export function encodeChunkRef(ref: ChunkRef, index = ref.index): unknown[] {
  return [index, ref.length, ref.address, ref.key];
}

export function decodeChunkRef(value: unknown, what: string, base = 0, chunkBytes?: number): ChunkRef {
  const [index, length, address, key] = checkTuple(value, 4, fail(what, 'a chunk reference is a 4-tuple'));
  const ref = { index: base + checkUint(index, fail(what, 'chunk index')), length: checkUint(length, fail(what, 'chunk length')), ...decodeSealedRef(address, key, what) };
  if (chunkBytes !== undefined && (ref.length === 0 || ref.length > chunkBytes)) throw fail(what, 'a chunk length is within the chunk size')();
  return ref;
}

export function encodeFat(fat: Fat): Record<string, unknown> {
  if (fat.kind === 'chunks') return { b: fat.chunkBytes, c: fat.chunks.map((ref) => encodeChunkRef(ref)) };
  return { b: fat.chunkBytes, d: fat.depth, r: [fat.root.address, fat.root.key] };
}

export function decodeFat(value: unknown, what: string): Fat {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(what, 'a FAT is a map')();
  const record = value as Record<string, unknown>;
  const chunkBytes = checkUint(record['b'], fail(what, 'chunk size'));
  if (chunkBytes === 0) throw fail(what, 'a chunk size is positive')();
  if (record['r'] !== undefined) {
    const [address, key] = checkTuple(record['r'], 2, fail(what, 'a root reference is a pair'));
    return { kind: 'tree', chunkBytes, depth: checkUint(record['d'], fail(what, 'tree depth')), root: decodeSealedRef(address, key, what) };
  }
  if (!Array.isArray(record['c'])) throw fail(what, 'a FAT holds chunks or a root')();
  const chunks = record['c'].map((item) => decodeChunkRef(item, what, 0, chunkBytes));
  for (let i = 1; i < chunks.length; i++) {
    if ((chunks[i - 1] as ChunkRef).index >= (chunks[i] as ChunkRef).index) throw fail(what, 'chunks are not sorted by index')();
  }
  return { kind: 'chunks', chunkBytes, chunks };
}

/** Slots are relative to the node's first index, so a node is the same bytes wherever it sits. */
export function encodeFatNode(node: FatNode): Buffer {
  const slots = [...node.slots].sort(([a], [b]) => a - b);
  const s = node.depth === 0
    ? slots.map(([slot, ref]) => encodeChunkRef(ref as ChunkRef, slot))
    : slots.map(([slot, ref]) => [slot, ref.address, ref.key]);
  return packRecord({ v: FAT_NODE_FORMAT_VERSION, d: node.depth, s });
}

export function decodeFatNode(bytes: Buffer, expectedDepth: number, base: number, fanout: number, chunkBytes: number): FatNode {
  const r = new RecordReader('FAT index block', bytes);
  r.formatVersion(FAT_NODE_FORMAT_VERSION);
  const depth = r.uint('d');
  if (depth !== expectedDepth) throw r.fail('d', `depth ${expectedDepth}`);
  const what = 'FAT index block';
  if (depth === 0) {
    const slots = new Map<number, ChunkRef>();
    for (const item of r.array('s')) {
      const ref = decodeChunkRef(item, what, base, chunkBytes);
      const slot = ref.index - base;
      if (slot >= fanout || slots.has(slot)) throw r.fail('s', 'distinct slots within the fanout');
      slots.set(slot, ref);
    }
    return { depth: 0, slots };
  }
  const slots = new Map<number, SealedRef>();
  for (const item of r.array('s')) {
    const [slot, address, key] = checkTuple(item, 3, fail(what, 'a child reference is a triple'));
    const at = checkUint(slot, fail(what, 'slot'));
    if (at >= fanout || slots.has(at)) throw r.fail('s', 'distinct slots within the fanout');
    slots.set(at, decodeSealedRef(address, key, what));
  }
  return { depth, slots };
}
