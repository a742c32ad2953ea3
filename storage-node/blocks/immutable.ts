// Content blocks: immutable, addressed by H(owner ‖ salt ‖ ciphertext), removable only with the owner's signature.
import { ShoalError } from '../base/errors.js';
import { BLOCK_SALT_BYTES_MAX, CONTENT_BLOCK_BYTES_MAX, OWNER_KEY_BYTES } from '../base/limits.js';
import type { Entropy } from '../base/random.js';
import { addressHex, isAddress, sha256, type Address } from './address.js';
import { signBytes, verifySignature, type Identity } from './sign.js';

export interface ContentBlock {
  /** The owner's raw Ed25519 public key. */
  readonly owner: Buffer;
  readonly salt: Buffer;
  /** Ciphertext: storage nodes never see plaintext. */
  readonly data: Buffer;
}

const REMOVE_DOMAIN = Buffer.from('shoal/remove-content/v1\0');
export const CONTENT_SALT_BYTES = 16;

export function contentAddress(block: ContentBlock): Address {
  return sha256(block.owner, block.salt, block.data);
}

export function contentBlockBytes(block: ContentBlock): number {
  return block.owner.length + block.salt.length + block.data.length;
}

export function newContentBlock(owner: Buffer, data: Buffer, entropy: Entropy): { address: Address; block: ContentBlock } {
  const block: ContentBlock = { owner, salt: entropy.bytes(CONTENT_SALT_BYTES), data };
  checkContentShape(block);
  return { address: contentAddress(block), block };
}

/** Shape checks on a block that arrived from outside; throws ShoalError('Invalid' | 'TooLarge'). */
export function checkContentShape(block: ContentBlock): void {
  if (!Buffer.isBuffer(block.owner) || block.owner.length !== OWNER_KEY_BYTES) {
    throw new ShoalError('Invalid', `a content block's owner is a ${OWNER_KEY_BYTES}-byte Ed25519 public key`, { subject: 'block' });
  }
  if (!Buffer.isBuffer(block.salt) || block.salt.length > BLOCK_SALT_BYTES_MAX) {
    throw new ShoalError('Invalid', `a content block's salt is at most ${BLOCK_SALT_BYTES_MAX} bytes`, { subject: 'block' });
  }
  if (!Buffer.isBuffer(block.data)) throw new ShoalError('Invalid', "a content block's data must be bytes", { subject: 'block' });
  if (contentBlockBytes(block) > CONTENT_BLOCK_BYTES_MAX) {
    throw new ShoalError('TooLarge', `a content block holds at most ${CONTENT_BLOCK_BYTES_MAX} bytes`, { subject: 'block' });
  }
}

/** What a storage node checks before it stores: the shape, then that the address is the block's hash. */
export function verifyContentBlock(address: Address, block: ContentBlock): void {
  if (!isAddress(address)) throw new ShoalError('Invalid', 'a block address is 32 bytes', { subject: 'block' });
  checkContentShape(block);
  if (!contentAddress(block).equals(address)) {
    throw new ShoalError('Invalid', `block ${addressHex(address)}: content does not hash to its address`, { subject: 'block' });
  }
}

function removeMessage(address: Address): Buffer {
  return Buffer.concat([REMOVE_DOMAIN, address]);
}

export function signContentRemoval(owner: Identity, address: Address): Buffer {
  return signBytes(owner, removeMessage(address));
}

export function verifyContentRemoval(block: ContentBlock, address: Address, signature: Uint8Array): void {
  if (!verifySignature(block.owner, removeMessage(address), signature)) {
    throw new ShoalError('Forbidden', `block ${addressHex(address)}: removal is not signed by the block's owner`, { subject: 'block' });
  }
}
