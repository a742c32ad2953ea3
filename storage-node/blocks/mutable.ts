// Owner-keyed mutable blocks (address H("okb" ‖ owner ‖ salt), written only by the owner), and the signing of versions.
import { ShoalError } from '../base/errors.js';
import type { Entropy } from '../base/random.js';
import { sha256, type Address } from './address.js';
import { signBytes, verifySignature, type Identity } from './sign.js';
import { versionSigningBytes } from './version-codec.js';
import { checkVersionShape, type OwnerVersion, type UnsignedVersion, type VersionRecord } from './version-record.js';

const OWNER_BLOCK_DOMAIN = Buffer.from('okb');
export const MUTABLE_SALT_BYTES = 16;

export function ownerBlockAddress(owner: Buffer, salt: Buffer): Address {
  return sha256(OWNER_BLOCK_DOMAIN, owner, salt);
}

/** Node ids in the one spelling quorums have inside signed records: sorted, unique. */
export function sortedQuorum(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort();
}

type Fields<V extends VersionRecord> = V extends unknown ? Omit<V, 'writer' | 'signature'> : never;

/** Signs a version as `writer` (its key goes into the record); throws ShoalError('Invalid' | 'TooLarge') on a bad shape. */
export function signVersion<V extends VersionRecord>(writer: Identity, fields: Fields<V>): V {
  const unsigned = { ...fields, writer: writer.publicKey } as UnsignedVersion;
  checkVersionShape(unsigned);
  return { ...unsigned, signature: signBytes(writer, versionSigningBytes(unsigned)) } as V;
}

export function verifyVersionSignature(record: VersionRecord): boolean {
  const { signature, ...unsigned } = record;
  return verifySignature(record.writer, versionSigningBytes(unsigned as UnsignedVersion), signature);
}

/**
 * The version after `current`, signed by `writer`: same block, version + 1, with the payload and/or quorum changed.
 * Rights are not checked here (the acceptors do, validate-version.ts); the kind's own helpers wrap this.
 */
export function nextVersion<V extends VersionRecord>(
  writer: Identity, current: V, changes: { readonly payload?: Buffer; readonly quorum?: Iterable<string> },
): V {
  const { writer: _writer, signature: _signature, ...fields } = current;
  return signVersion<V>(writer, {
    ...fields,
    version: current.version + 1,
    payload: changes.payload ?? current.payload,
    quorum: changes.quorum === undefined ? current.quorum : sortedQuorum(changes.quorum),
  } as unknown as Fields<V>);
}

/** A fresh salt and the address it gives: a driver needs the address (for placement) before the first version. */
export function newMutableAddress(owner: Buffer, entropy: Entropy): { salt: Buffer; address: Address } {
  const salt = entropy.bytes(MUTABLE_SALT_BYTES);
  return { salt, address: ownerBlockAddress(owner, salt) };
}

/** Version 1 of the owner-keyed block named by `salt`; `payload` is the owner's (usually sealed) content. */
export function firstOwnerVersion(owner: Identity, salt: Buffer, payload: Buffer, quorum: Iterable<string>): OwnerVersion {
  return signVersion<OwnerVersion>(owner, {
    kind: 'owner', address: ownerBlockAddress(owner.publicKey, salt), owner: owner.publicKey, salt,
    version: 1, quorum: sortedQuorum(quorum), payload,
  });
}

export function newOwnerBlock(owner: Identity, payload: Buffer, quorum: Iterable<string>, entropy: Entropy): OwnerVersion {
  return firstOwnerVersion(owner, newMutableAddress(owner.publicKey, entropy).salt, payload, quorum);
}

export function writeOwnerBlock(owner: Identity, current: OwnerVersion, payload: Buffer, quorum?: Iterable<string>): OwnerVersion {
  if (!owner.publicKey.equals(current.owner)) {
    throw new ShoalError('Forbidden', 'only the owner writes an owner-keyed block', { subject: 'block' });
  }
  return nextVersion(owner, current, quorum === undefined ? { payload } : { payload, quorum });
}
