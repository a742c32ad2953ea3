// Block addresses: 32-byte SHA-256 digests, shown in lower-case hex.
import { createHash } from 'node:crypto';
import { ShoalError } from '../base/errors.js';
import { BLOCK_ADDRESS_BYTES } from '../base/limits.js';

export type Address = Buffer;

export function addressHex(address: Address): string {
  return address.toString('hex');
}

export function parseAddress(text: string): Address {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new ShoalError('Invalid', `"${text}" is not a block address: expected 64 hex digits`, { subject: 'block' });
  }
  return Buffer.from(text, 'hex');
}

export function isAddress(value: unknown): value is Address {
  return Buffer.isBuffer(value) && value.length === BLOCK_ADDRESS_BYTES;
}

export function sha256(...parts: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}
