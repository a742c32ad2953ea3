// Ed25519 identities: keys derived from a 32-byte seed so that simulations can make them deterministically.
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ShoalError } from '../base/errors.js';
import type { Entropy } from '../base/random.js';

// RFC 8410 PKCS#8 wrapping of a raw Ed25519 seed, and SPKI wrapping of a raw public key.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Identity {
  /** The raw 32-byte Ed25519 public key: an owner's name in block addresses. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

export function identityFromSeed(seed: Buffer): Identity {
  if (seed.length !== 32) throw new ShoalError('Invalid', 'an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { publicKey: Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length)), privateKey };
}

export function newIdentity(entropy: Entropy): { identity: Identity; seed: Buffer } {
  const seed = entropy.bytes(32);
  return { identity: identityFromSeed(seed), seed };
}

export function signBytes(identity: Identity, message: Uint8Array): Buffer {
  return cryptoSign(null, message, identity.privateKey);
}

/** Parsed public keys by their hex: building a KeyObject costs about as much as the verification itself. */
const PUBLIC_KEYS_CACHED_MAX = 4096;
const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const hex = Buffer.from(publicKey).toString('hex');
  let key = publicKeys.get(hex);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (publicKeys.size >= PUBLIC_KEYS_CACHED_MAX) publicKeys.clear();
    publicKeys.set(hex, key);
  }
  return key;
}

export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return cryptoVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
