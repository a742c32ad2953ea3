// Weighted rendezvous (highest-random-weight) scores: how strongly each node claims a block address, computed locally.
import { createHash } from 'node:crypto';
import { ShoalError } from '../base/errors.js';
import { BLOCK_ADDRESS_BYTES } from '../base/limits.js';

/**
 * Node keys kept at most; a cluster of 10,000 nodes fits, and a cache that only grows would leak as
 * node ids churn over months, so it is cleared when full (a miss costs one sha256).
 */
export const NODE_KEY_CACHE_ENTRIES_MAX = 65_536;

/** The address half of the hash input, read once per address and reused for every node. */
export interface AddressKey {
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

/** The node half: two 32-bit murmur3 seeds from sha256(nodeId), so nodes draw independent numbers. */
interface NodeKey {
  readonly seed0: number;
  readonly seed1: number;
}

const nodeKeys = new Map<string, NodeKey>();

function nodeKeyOf(nodeId: string): NodeKey {
  const cached = nodeKeys.get(nodeId);
  if (cached !== undefined) return cached;
  const digest = createHash('sha256').update(nodeId, 'utf8').digest();
  const key: NodeKey = { seed0: digest.readUInt32LE(0), seed1: digest.readUInt32LE(4) };
  if (nodeKeys.size >= NODE_KEY_CACHE_ENTRIES_MAX) nodeKeys.clear();
  nodeKeys.set(nodeId, key);
  return key;
}

/**
 * Block addresses are SHA-256 digests, so their first 16 bytes are already uniform; the murmur mixing
 * below still makes the node's draw depend on every one of those bits, even for hand-made addresses.
 */
export function addressKey(address: Buffer): AddressKey {
  if (address.length !== BLOCK_ADDRESS_BYTES) {
    throw new ShoalError('Invalid', `a block address is ${BLOCK_ADDRESS_BYTES} bytes, got ${address.length}: pass the SHA-256 digest, not its hex`, {
      subject: 'block',
    });
  }
  return {
    w0: address.readUInt32LE(0),
    w1: address.readUInt32LE(4),
    w2: address.readUInt32LE(8),
    w3: address.readUInt32LE(12),
  };
}

// murmur3_x86_32 body and finaliser (Appleby), in 32-bit Math.imul arithmetic: no BigInt, no allocation.
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function murmur16(seed: number, key: AddressKey): number {
  let h = seed | 0;
  h = mixWord(h, key.w0);
  h = mixWord(h, key.w1);
  h = mixWord(h, key.w2);
  h = mixWord(h, key.w3);
  h ^= 16; // input length in bytes, as murmur3 does
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO_POW_20 = 2 ** 20;
const TWO_POW_52 = 2 ** 52;

/** The node's uniform draw u for this address, strictly inside (0, 1), with 52 bits of precision. */
export function unitAt(key: AddressKey, nodeId: string): number {
  const node = nodeKeyOf(nodeId);
  const high = murmur16(node.seed0, key);
  const low = murmur16(node.seed1, key) >>> 12;
  // The +0.5 keeps u off 0 and 1, so ln(u) is finite and negative.
  return (high * TWO_POW_20 + low + 0.5) / TWO_POW_52;
}

/**
 * -weight / ln(u) is the exponential-race form of weighted rendezvous: the node with the highest score
 * wins with probability weight / total weight, and a new node only takes addresses from the others.
 * A weight that is not a positive finite number scores 0, so such nodes rank last (ties go by node id).
 */
export function scoreAt(key: AddressKey, nodeId: string, weight: number): number {
  if (!(weight > 0) || !Number.isFinite(weight)) return 0;
  return -weight / Math.log(unitAt(key, nodeId));
}

/** One-shot form of scoreAt; callers ranking many nodes should compute addressKey once. */
export function rendezvousScore(address: Buffer, nodeId: string, weight: number): number {
  return scoreAt(addressKey(address), nodeId, weight);
}
