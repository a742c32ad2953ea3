// The signed version records of mutable blocks (owner-keyed, ACL, named): their types, limits and shape check.
import { isShoalError, ShoalError } from '../base/errors.js';
import { BLOCK_ADDRESS_BYTES, BLOCK_SALT_BYTES_MAX, MiB, OWNER_KEY_BYTES } from '../base/limits.js';

/** Largest payload of one version (DESIGN §3: a mutable block up to 1 MiB; larger content is split). */
export const MUTABLE_PAYLOAD_BYTES_MAX = 1 * MiB;
export const BLOCK_NAME_BYTES_MAX = 255;
export const ACL_WRITERS_MAX = 256;
export const ACL_READERS_MAX = 256;
export const SIGNATURE_BYTES = 64;
export const READER_KEY_BYTES = 32;
/** An ephemeral X25519 key, then the data key sealed: nonce ‖ 32-byte key ‖ tag. */
export const SEALED_KEY_BYTES = 32 + 12 + 32 + 16;
// Same bounds as storage-node/consensus/quorum.ts, which blocks may not import (STYLE §B).
export const QUORUM_SIZE_MAX = 15;
export const NODE_ID_LENGTH_MAX = 128;

export type MutableKind = 'owner' | 'acl' | 'named';

export interface ReaderEntry {
  /** The reader's raw X25519 public key. */
  readonly reader: Buffer;
  /** The block's data key sealed for that reader (reader-key.ts). */
  readonly sealedKey: Buffer;
}

/** Who may write and read an ACL block, signed by the owner: acceptors check it without the previous version. */
export interface AclList {
  /** Grows with every change of the lists, so an old list cannot be brought back. */
  readonly epoch: number;
  readonly writers: readonly Buffer[];
  readonly readers: readonly ReaderEntry[];
  readonly signature: Buffer;
}

interface VersionFields {
  readonly address: Buffer;
  /** The owner's raw Ed25519 public key, bound into the address. */
  readonly owner: Buffer;
  readonly version: number;
  /** The node ids (sorted, unique) that run the block's next Paxos instance. */
  readonly quorum: readonly string[];
  /** Opaque to storage nodes; ciphertext for sealed kinds. */
  readonly payload: Buffer;
  /** The signer's raw Ed25519 public key. */
  readonly writer: Buffer;
  readonly signature: Buffer;
}

export interface OwnerVersion extends VersionFields { readonly kind: 'owner'; readonly salt: Buffer }
export interface AclVersion extends VersionFields { readonly kind: 'acl'; readonly salt: Buffer; readonly acl: AclList }
/** A named block's payload is the address of the block it points at. */
export interface NamedVersion extends VersionFields { readonly kind: 'named'; readonly name: string }

export type VersionRecord = OwnerVersion | AclVersion | NamedVersion;
type WithoutSignature<T> = T extends unknown ? Omit<T, 'signature'> : never;
export type UnsignedVersion = WithoutSignature<VersionRecord>;

function invalid(message: string): ShoalError {
  return new ShoalError('Invalid', message, { subject: 'block' });
}

const isBytes = (v: unknown, length?: number): v is Buffer => Buffer.isBuffer(v) && (length === undefined || v.length === length);

export function isSortedQuorum(value: unknown): value is readonly string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > QUORUM_SIZE_MAX) return false;
  return value.every((id, i) => typeof id === 'string' && id.length > 0 && id.length <= NODE_ID_LENGTH_MAX
    && (i === 0 || (value[i - 1] as string) < id));
}

/** Throws ShoalError('Invalid' | 'TooLarge') unless `record` has the shape of a version of its kind. */
export function checkVersionShape(record: UnsignedVersion | VersionRecord): void {
  if (!isBytes(record.address, BLOCK_ADDRESS_BYTES)) throw invalid('a version names its 32-byte block address');
  if (!isBytes(record.owner, OWNER_KEY_BYTES)) throw invalid('a version names its owner by a 32-byte Ed25519 key');
  if (!isBytes(record.writer, OWNER_KEY_BYTES)) throw invalid('a version names its writer by a 32-byte Ed25519 key');
  if (!Number.isSafeInteger(record.version) || record.version < 1) throw invalid('a version number is an integer from 1');
  if (!isSortedQuorum(record.quorum)) throw invalid(`a quorum is 1 to ${QUORUM_SIZE_MAX} sorted, unique node ids`);
  if (!isBytes(record.payload)) throw invalid('a payload is bytes');
  if (record.payload.length > MUTABLE_PAYLOAD_BYTES_MAX) {
    throw new ShoalError('TooLarge', `a mutable block holds at most ${MUTABLE_PAYLOAD_BYTES_MAX} bytes`, { subject: 'block' });
  }
  if ('signature' in record && !isBytes(record.signature, SIGNATURE_BYTES)) throw invalid('a signature is 64 bytes');
  switch (record.kind) {
    case 'owner':
      if (!isBytes(record.salt) || record.salt.length > BLOCK_SALT_BYTES_MAX) throw invalid(`a salt is at most ${BLOCK_SALT_BYTES_MAX} bytes`);
      return;
    case 'acl':
      if (!isBytes(record.salt) || record.salt.length > BLOCK_SALT_BYTES_MAX) throw invalid(`a salt is at most ${BLOCK_SALT_BYTES_MAX} bytes`);
      return checkAclShape(record.acl);
    case 'named':
      if (typeof record.name !== 'string' || record.name.length === 0 || Buffer.byteLength(record.name) > BLOCK_NAME_BYTES_MAX) {
        throw invalid(`a block name is 1 to ${BLOCK_NAME_BYTES_MAX} bytes`);
      }
      return;
    default:
      throw invalid('unknown mutable block kind');
  }
}

function checkAclShape(acl: AclList): void {
  if (typeof acl !== 'object' || acl === null) throw invalid('an ACL block carries its ACL');
  if (!Number.isSafeInteger(acl.epoch) || acl.epoch < 1) throw invalid('an ACL epoch is an integer from 1');
  if (!Array.isArray(acl.writers) || acl.writers.length > ACL_WRITERS_MAX || !acl.writers.every((w) => isBytes(w, OWNER_KEY_BYTES))) {
    throw invalid(`an ACL lists at most ${ACL_WRITERS_MAX} writers by 32-byte Ed25519 keys`);
  }
  if (!Array.isArray(acl.readers) || acl.readers.length > ACL_READERS_MAX
    || !acl.readers.every((r) => isBytes(r?.reader, READER_KEY_BYTES) && isBytes(r?.sealedKey, SEALED_KEY_BYTES))) {
    throw invalid(`an ACL lists at most ${ACL_READERS_MAX} readers, each an X25519 key and a sealed data key`);
  }
  if (!isBytes(acl.signature, SIGNATURE_BYTES)) throw invalid("an ACL carries the owner's 64-byte signature");
}

/**
 * Rebuilds a record received from the network (msgpack), keeping only its known fields; undefined when it is not
 * a well-shaped version. This is the `parseValue` the consensus message parser takes.
 */
export function parseVersionRecord(raw: unknown): VersionRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const common = {
    address: m['address'], owner: m['owner'], version: m['version'], quorum: m['quorum'],
    payload: m['payload'], writer: m['writer'], signature: m['signature'],
  };
  let record: unknown;
  if (m['kind'] === 'owner') record = { kind: 'owner', ...common, salt: m['salt'] };
  else if (m['kind'] === 'named') record = { kind: 'named', ...common, name: m['name'] };
  else if (m['kind'] === 'acl') record = { kind: 'acl', ...common, salt: m['salt'], acl: parseAcl(m['acl']) };
  else return undefined;
  try {
    checkVersionShape(record as VersionRecord);
    return record as VersionRecord;
  } catch (err) {
    if (isShoalError(err)) return undefined;
    throw err;
  }
}

function parseAcl(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const readers = Array.isArray(m['readers'])
    ? m['readers'].map((r: unknown) => (typeof r === 'object' && r !== null
      ? { reader: (r as Record<string, unknown>)['reader'], sealedKey: (r as Record<string, unknown>)['sealedKey'] } : r))
    : m['readers'];
  return { epoch: m['epoch'], writers: m['writers'], readers, signature: m['signature'] };
}
