// The flexible checksums current SDKs send (x-amz-checksum-* headers or trailers): CRC32, CRC32C, CRC64NVME, SHA-1,
// SHA-256, each computed incrementally over the body and compared in base64 of the big-endian value.
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface Checksum {
  update(data: Buffer): void;
  /** base64 of the digest, as the x-amz-checksum-* header carries it. */
  digest(): string;
}

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32': {
      let value = 0;
      return { update: (d) => { value = crc32(d, value); }, digest: () => u32(value) };
    }
    case 'crc32c': {
      let value = 0xffffffff;
      return { update: (d) => { value = crc32cUpdate(value, d); }, digest: () => u32((value ^ 0xffffffff) >>> 0) };
    }
    case 'crc64nvme': return crc64nvme();
    case 'sha1': case 'sha256': {
      const hash: Hash = createHash(algorithm);
      return { update: (d) => { hash.update(d); }, digest: () => hash.digest('base64') };
    }
  }
}

function u32(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32cUpdate(crc: number, data: Buffer): number {
  let c = crc;
  for (let i = 0; i < data.length; i++) c = (CRC32C_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return c >>> 0;
}

// CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones), kept as two 32-bit halves so the
// inner loop stays in small integers instead of BigInt.
const CRC64_POLY_HI = 0x9a6c9329;
const CRC64_POLY_LO = 0xac4bc9b5;
const CRC64_TABLE_HI = new Uint32Array(256);
const CRC64_TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let k = 0; k < 8; k++) {
    const lsb = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (lsb) { hi = (hi ^ CRC64_POLY_HI) >>> 0; lo = (lo ^ CRC64_POLY_LO) >>> 0; }
  }
  CRC64_TABLE_HI[i] = hi;
  CRC64_TABLE_LO[i] = lo;
}

function crc64nvme(): Checksum {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  return {
    update(data) {
      for (let i = 0; i < data.length; i++) {
        const index = (lo ^ (data[i] as number)) & 0xff;
        const nextLo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
        hi = ((hi >>> 8) ^ (CRC64_TABLE_HI[index] as number)) >>> 0;
        lo = (nextLo ^ (CRC64_TABLE_LO[index] as number)) >>> 0;
      }
    },
    digest() {
      const b = Buffer.alloc(8);
      b.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
      b.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
      return b.toString('base64');
    },
  };
}
