// ACL blocks: owner plus listed writers; the content sealed with one data key, that key sealed for each reader.
//
// The writer and reader lists are signed by the owner (with an epoch that grows at every change), so that an
// acceptor can check a writer's right from the version alone, and a listed writer can neither change the lists nor
// bring back an older list (the epoch, and the acceptors' comparison with the current version). The data key stays
// the same across writes (sealing per write made Infinit slow) and is rotated when a reader loses access.
import { ShoalError } from '../base/errors.js';
import type { Entropy } from '../base/random.js';
import type { Address } from './address.js';
import { MUTABLE_SALT_BYTES, nextVersion, ownerBlockAddress, signVersion, sortedQuorum } from './mutable.js';
import { openForReader, sealForReader, type ReaderKey } from './reader-key.js';
import { newDataKey, openData, sealData } from './seal.js';
import { signBytes, verifySignature, type Identity } from './sign.js';
import { aclSigningBytes } from './version-codec.js';
import type { AclList, AclVersion, ReaderEntry } from './version-record.js';

/** The address formula of owner-keyed blocks (DESIGN §3: "as above"); the kind is fixed by version 1. */
export const aclBlockAddress = ownerBlockAddress;

export interface AclMembers {
  /** Ed25519 public keys allowed to write (besides the owner, who always may). */
  readonly writers: readonly Buffer[];
  /** X25519 public keys that get the data key (the owner lists its own reader key to read its block). */
  readonly readers: readonly Buffer[];
}

export function signAcl(owner: Identity, address: Address, epoch: number, writers: readonly Buffer[], readers: readonly ReaderEntry[]): AclList {
  const unsigned = { epoch, writers: [...writers], readers: [...readers] };
  return { ...unsigned, signature: signBytes(owner, aclSigningBytes(address, unsigned)) };
}

export function verifyAclSignature(record: AclVersion): boolean {
  const { signature, ...unsigned } = record.acl;
  return verifySignature(record.owner, aclSigningBytes(record.address, unsigned), signature);
}

export function mayWriteAcl(record: AclVersion, writer: Buffer): boolean {
  return writer.equals(record.owner) || record.acl.writers.some((w) => w.equals(writer));
}

function sealForAll(readers: readonly Buffer[], dataKey: Buffer, entropy: Entropy): ReaderEntry[] {
  return readers.map((reader) => ({ reader, sealedKey: sealForReader(reader, dataKey, entropy) }));
}

/**
 * Version 1 of a new ACL block holding `plaintext`, at the address `salt` gives (newMutableAddress), or a fresh
 * one; returns the data key too, for the owner's cache.
 */
export function newAclBlock(
  owner: Identity, members: AclMembers, quorum: Iterable<string>, plaintext: Buffer, entropy: Entropy, salt?: Buffer,
): { record: AclVersion; dataKey: Buffer } {
  const blockSalt = salt ?? entropy.bytes(MUTABLE_SALT_BYTES);
  const address = aclBlockAddress(owner.publicKey, blockSalt);
  const dataKey = newDataKey(entropy);
  const acl = signAcl(owner, address, 1, members.writers, sealForAll(members.readers, dataKey, entropy));
  const record = signVersion<AclVersion>(owner, {
    kind: 'acl', address, owner: owner.publicKey, salt: blockSalt, version: 1, quorum: sortedQuorum(quorum), acl,
    payload: sealData(dataKey, plaintext, entropy),
  });
  return { record, dataKey };
}

/** The next version with new content, by the owner or a listed writer; the lists stay as they are. */
export function writeAclBlock(writer: Identity, current: AclVersion, dataKey: Buffer, plaintext: Buffer, entropy: Entropy): AclVersion {
  if (!mayWriteAcl(current, writer.publicKey)) {
    throw new ShoalError('Forbidden', 'not a writer of this block', { subject: 'block' });
  }
  return nextVersion(writer, current, { payload: sealData(dataKey, plaintext, entropy) });
}

/**
 * The owner's change of the lists (epoch + 1). A reader who loses access would still hold the old data key, so the
 * key is then rotated and the content sealed again; otherwise the readers kept keep their sealed keys.
 */
export function changeAcl(
  owner: Identity, current: AclVersion, members: AclMembers, dataKey: Buffer, entropy: Entropy,
): { record: AclVersion; dataKey: Buffer } {
  if (!owner.publicKey.equals(current.owner)) {
    throw new ShoalError('Forbidden', "only the owner changes a block's writers and readers", { subject: 'block' });
  }
  const removed = current.acl.readers.some((entry) => !members.readers.some((r) => r.equals(entry.reader)));
  const key = removed ? newDataKey(entropy) : dataKey;
  const payload = removed ? sealData(key, openData(dataKey, current.payload), entropy) : current.payload;
  const readers = members.readers.map((reader) => {
    const kept = removed ? undefined : current.acl.readers.find((entry) => entry.reader.equals(reader));
    return kept ?? { reader, sealedKey: sealForReader(reader, key, entropy) };
  });
  const acl = signAcl(owner, current.address, current.acl.epoch + 1, members.writers, readers);
  const { writer: _writer, signature: _signature, ...fields } = current;
  const record = signVersion<AclVersion>(owner, { ...fields, version: current.version + 1, acl, payload });
  return { record, dataKey: key };
}

/** The data key, opened with the reader's X25519 key; Forbidden when this reader is not listed. */
export function aclDataKey(record: AclVersion, reader: ReaderKey): Buffer {
  const entry = record.acl.readers.find((e) => e.reader.equals(reader.publicKey));
  if (entry === undefined) throw new ShoalError('Forbidden', 'not a reader of this block', { subject: 'block' });
  return openForReader(reader, entry.sealedKey);
}

export function readAclBlock(record: AclVersion, reader: ReaderKey): Buffer {
  return openData(aclDataKey(record, reader), record.payload);
}
