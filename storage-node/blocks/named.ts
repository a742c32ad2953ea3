// Named blocks: address H("nb" ‖ owner ‖ name), written only by the owner; the value points at another block.
import { ShoalError } from '../base/errors.js';
import { BLOCK_ADDRESS_BYTES } from '../base/limits.js';
import { isAddress, sha256, type Address } from './address.js';
import { nextVersion, signVersion, sortedQuorum } from './mutable.js';
import type { Identity } from './sign.js';
import type { NamedVersion } from './version-record.js';

const NAMED_BLOCK_DOMAIN = Buffer.from('nb');

/** Found without a lookup by anyone who knows the owner and the name (a volume's root). */
export function namedAddress(owner: Buffer, name: string): Address {
  return sha256(NAMED_BLOCK_DOMAIN, owner, Buffer.from(name, 'utf8'));
}

function checkTarget(target: Address): void {
  if (!isAddress(target)) throw new ShoalError('Invalid', `a named block points at a ${BLOCK_ADDRESS_BYTES}-byte address`, { subject: 'block' });
}

export function newNamedBlock(owner: Identity, name: string, target: Address, quorum: Iterable<string>): NamedVersion {
  checkTarget(target);
  return signVersion<NamedVersion>(owner, {
    kind: 'named', address: namedAddress(owner.publicKey, name), owner: owner.publicKey, name,
    version: 1, quorum: sortedQuorum(quorum), payload: Buffer.from(target),
  });
}

/** Points the name at another block (owner only). */
export function pointNamedBlock(owner: Identity, current: NamedVersion, target: Address): NamedVersion {
  checkTarget(target);
  if (!owner.publicKey.equals(current.owner)) throw new ShoalError('Forbidden', 'only the owner writes a named block', { subject: 'block' });
  return nextVersion(owner, current, { payload: Buffer.from(target) });
}

export function namedTarget(record: NamedVersion): Address {
  checkTarget(record.payload);
  return record.payload;
}
