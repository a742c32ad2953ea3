// NFS file handles (DESIGN §6): format version ‖ volume id ‖ inode address, with no boot time and no path, so any
// gateway serves any handle, a restart keeps them valid and a rename never makes one stale.
import { assert } from '../../storage-node/base/assert.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import { BLOCK_ADDRESS_BYTES } from '../../storage-node/base/limits.js';
import type { Attributes } from '../fs/filesystem.js';
import { NFS3_FHSIZE, type nfs_fh3 } from './types.js';

/** An inode's block address, as the filesystem gives it (gateway/nfs may not import storage-node/blocks). */
export type Address = Attributes['address'];

export const FILE_HANDLE_VERSION = 1;
export const VOLUME_ID_BYTES = 8;
export const FILE_HANDLE_BYTES = 1 + VOLUME_ID_BYTES + BLOCK_ADDRESS_BYTES;

// RFC 1813 §2.5: "The file handle ... NFS3_FHSIZE ... 64 bytes" at most.
assert(FILE_HANDLE_BYTES <= NFS3_FHSIZE, 'a file handle fits NFSv3 (64 bytes)');

export interface FileHandle {
  /** The volume's 8-byte id (VolumeSettings.id in hex). */
  readonly volumeId: Buffer;
  readonly address: Address;
}

export function encodeFileHandle(handle: FileHandle): nfs_fh3 {
  assert(handle.volumeId.length === VOLUME_ID_BYTES, `a volume id is ${VOLUME_ID_BYTES} bytes`);
  assert(handle.address.length === BLOCK_ADDRESS_BYTES, `an inode address is ${BLOCK_ADDRESS_BYTES} bytes`);
  return Buffer.concat([Buffer.of(FILE_HANDLE_VERSION), handle.volumeId, handle.address]);
}

/** A handle we did not make (wrong length or version) is Invalid+handle, which NFS answers with NFS3ERR_BADHANDLE. */
export function decodeFileHandle(fh: nfs_fh3): FileHandle {
  if (fh.length !== FILE_HANDLE_BYTES || fh[0] !== FILE_HANDLE_VERSION) {
    throw new ShoalError('Invalid', `not a Shoal file handle (${fh.length} bytes, version ${fh[0] ?? 'none'})`, { subject: 'handle' });
  }
  // Copies: the reader hands out views of the RPC record, and handles outlive it in caches.
  return {
    volumeId: Buffer.from(fh.subarray(1, 1 + VOLUME_ID_BYTES)),
    address: Buffer.from(fh.subarray(1 + VOLUME_ID_BYTES)),
  };
}

/** DESIGN §6: fileid = the first 8 bytes of the inode address. */
export function fileidOf(address: Address): bigint {
  return address.readBigUInt64BE(0);
}
