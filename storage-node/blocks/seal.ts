// Content encryption: AES-256-GCM with a random nonce; the sealed form is nonce ‖ ciphertext ‖ tag.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ShoalError } from '../base/errors.js';
import type { Entropy } from '../base/random.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;
export const SEAL_OVERHEAD_BYTES = NONCE_BYTES + TAG_BYTES;

export function newDataKey(entropy: Entropy): Buffer {
  return entropy.bytes(DATA_KEY_BYTES);
}

export function sealData(key: Buffer, plaintext: Uint8Array, entropy: Entropy): Buffer {
  if (key.length !== DATA_KEY_BYTES) throw new ShoalError('Invalid', 'a data key is 32 bytes');
  const nonce = entropy.bytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function openData(key: Buffer, sealed: Uint8Array): Buffer {
  if (key.length !== DATA_KEY_BYTES) throw new ShoalError('Invalid', 'a data key is 32 bytes');
  if (sealed.length < SEAL_OVERHEAD_BYTES) throw new ShoalError('Invalid', 'sealed data is shorter than its nonce and tag', { subject: 'block' });
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new ShoalError('Forbidden', 'the data key does not open this block (wrong key or corrupted content)', { subject: 'block', cause });
  }
}
