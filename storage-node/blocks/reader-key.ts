// Readers' keys: X25519 key pairs, and a block's data key sealed for one reader (ephemeral X25519 + HKDF + AES-256-GCM).
//
// Sealing: a fresh ephemeral key pair (from Entropy), the shared secret DH(ephemeral, reader), a key-encryption key
// HKDF-SHA256(secret, salt = ephemeral ‖ reader public keys, info = domain), then AES-256-GCM of the data key.
// The sealed form is ephemeral public key ‖ nonce ‖ ciphertext ‖ tag. diffieHellman and hkdfSync are pure given
// their inputs; only the ephemeral seed and the nonce come from Entropy.
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import { ShoalError } from '../base/errors.js';
import type { Entropy } from '../base/random.js';
import { DATA_KEY_BYTES, openData, sealData } from './seal.js';
import { READER_KEY_BYTES, SEALED_KEY_BYTES } from './version-record.js';

// RFC 8410 wrappings of raw X25519 keys.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const KEK_INFO = Buffer.from('shoal/reader-key/v1');

export interface ReaderKey {
  /** The raw 32-byte X25519 public key, as listed in an ACL. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

export function readerKeyFromSeed(seed: Buffer): ReaderKey {
  if (seed.length !== 32) throw new ShoalError('Invalid', 'an X25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { publicKey: Buffer.from(spki.subarray(SPKI_X25519_PREFIX.length)), privateKey };
}

export function newReaderKey(entropy: Entropy): ReaderKey {
  return readerKeyFromSeed(entropy.bytes(32));
}

function publicKeyObject(raw: Buffer): KeyObject {
  if (raw.length !== READER_KEY_BYTES) throw new ShoalError('Invalid', 'an X25519 public key is 32 bytes', { subject: 'block' });
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function keyEncryptionKey(secret: Buffer, ephemeralPublic: Buffer, readerPublic: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.concat([ephemeralPublic, readerPublic]), KEK_INFO, DATA_KEY_BYTES));
}

/** The data key sealed so that only the holder of `readerPublic`'s private key can open it. */
export function sealForReader(readerPublic: Buffer, dataKey: Buffer, entropy: Entropy): Buffer {
  const ephemeral = newReaderKey(entropy);
  const secret = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyObject(readerPublic) });
  const kek = keyEncryptionKey(secret, ephemeral.publicKey, readerPublic);
  const sealed = Buffer.concat([ephemeral.publicKey, sealData(kek, dataKey, entropy)]);
  if (sealed.length !== SEALED_KEY_BYTES) throw new ShoalError('Invalid', 'a data key is 32 bytes');
  return sealed;
}

/** Opens a data key sealed for `reader`; ShoalError('Forbidden') if it was sealed for someone else. */
export function openForReader(reader: ReaderKey, sealed: Buffer): Buffer {
  if (sealed.length !== SEALED_KEY_BYTES) throw new ShoalError('Invalid', 'a sealed data key has the wrong length', { subject: 'block' });
  const ephemeralPublic = sealed.subarray(0, READER_KEY_BYTES);
  const secret = diffieHellman({ privateKey: reader.privateKey, publicKey: publicKeyObject(Buffer.from(ephemeralPublic)) });
  const kek = keyEncryptionKey(secret, Buffer.from(ephemeralPublic), reader.publicKey);
  return openData(kek, sealed.subarray(READER_KEY_BYTES));
}
