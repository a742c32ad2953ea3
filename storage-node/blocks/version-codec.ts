// The canonical, domain-separated bytes that writers and owners sign: one encoding per record, whatever the wire did.
//
// Length-prefixed fields in a fixed order, big-endian integers, after a domain string that names what is signed, so
// that a signature over one kind of message can never be replayed as another (a version as an ACL, a block removal
// as a version). msgpack is not used here: it is not canonical (integer widths, map order), signatures need to be.
import type { AclList, ReaderEntry, UnsignedVersion } from './version-record.js';

const VERSION_DOMAIN = Buffer.from('shoal/mutable-version/v1\0');
const ACL_DOMAIN = Buffer.from('shoal/acl/v1\0');
const KIND_CODES = { owner: 1, acl: 2, named: 3 } as const;

class CanonicalWriter {
  readonly #parts: Buffer[] = [];

  raw(bytes: Uint8Array): this {
    this.#parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return this;
  }

  u8(value: number): this {
    return this.raw(Buffer.of(value));
  }

  u16(value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    return this.raw(b);
  }

  u64(value: number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(value));
    return this.raw(b);
  }

  /** Bytes with a 32-bit length: any field up to 4 GiB. */
  bytes(value: Uint8Array): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value.length);
    return this.raw(b).raw(value);
  }

  text(value: string): this {
    return this.bytes(Buffer.from(value, 'utf8'));
  }

  done(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

function writeAclLists(w: CanonicalWriter, writers: readonly Buffer[], readers: readonly ReaderEntry[]): CanonicalWriter {
  w.u16(writers.length);
  for (const writer of writers) w.bytes(writer);
  w.u16(readers.length);
  for (const { reader, sealedKey } of readers) w.bytes(reader).bytes(sealedKey);
  return w;
}

/** What the owner signs for an ACL: the block's address, the epoch and both lists. */
export function aclSigningBytes(address: Buffer, acl: Omit<AclList, 'signature'>): Buffer {
  const w = new CanonicalWriter().raw(ACL_DOMAIN).bytes(address).u64(acl.epoch);
  return writeAclLists(w, acl.writers, acl.readers).done();
}

/** What a writer signs for a version: every field of the record but the signature. */
export function versionSigningBytes(record: UnsignedVersion): Buffer {
  const w = new CanonicalWriter().raw(VERSION_DOMAIN).u8(KIND_CODES[record.kind])
    .bytes(record.address).bytes(record.owner).u64(record.version);
  w.u16(record.quorum.length);
  for (const id of record.quorum) w.text(id);
  switch (record.kind) {
    case 'owner':
      w.bytes(record.salt);
      break;
    case 'acl':
      w.bytes(record.salt).u64(record.acl.epoch);
      writeAclLists(w, record.acl.writers, record.acl.readers).bytes(record.acl.signature);
      break;
    case 'named':
      w.text(record.name);
      break;
  }
  return w.bytes(record.payload).bytes(record.writer).done();
}
