// The data key of an owner-keyed block: derived from the owner's secret and the block's address, so that only the
// owner can open the block and nothing needs to be stored beside it.
import type { Identity } from './sign.js';
import { sha256 } from './address.js';

const DOMAIN = Buffer.from('shoal/owner-data-key/v1\0');

// Exporting the key costs more than the hash: keep each identity's secret once.
const secrets = new WeakMap<Identity, Buffer>();

export function ownerDataKey(owner: Identity, address: Buffer): Buffer {
  let secret = secrets.get(owner);
  if (secret === undefined) {
    // The PKCS#8 DER of an Ed25519 key ends with its 32-byte seed: the owner's secret.
    const der = owner.privateKey.export({ format: 'der', type: 'pkcs8' });
    secret = Buffer.from(der.subarray(der.length - 32));
    secrets.set(owner, secret);
  }
  return sha256(DOMAIN, secret, address);
}
