// The data key of an owner-keyed block: derived from the owner's secret and the block's address, so that only the
// owner can open the block and nothing needs to be stored beside it.
import type { Identity } from './sign.js';
import { sha256 } from './address.js';

const DOMAIN = Buffer.from('shoal/owner-data-key/v1\0');

export function ownerDataKey(owner: Identity, address: Buffer): Buffer {
  // The PKCS#8 DER of an Ed25519 key ends with its 32-byte seed: the owner's secret.
  const der = owner.privateKey.export({ format: 'der', type: 'pkcs8' });
  return sha256(DOMAIN, der.subarray(der.length - 32), address);
}
