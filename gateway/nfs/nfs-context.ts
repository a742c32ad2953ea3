// What every NFS procedure shares: file handles resolved to a volume's FileSystem (one per volume per gateway, so
// writes gather in one place), the caller from AUTH_SYS, post-op attributes, the write verifier and READDIR cookies.
import type { Entropy } from '../../storage-node/base/random.js';
import type { Logger } from '../../storage-node/base/log.js';
import { ShoalError } from '../../storage-node/base/errors.js';
import type { Address } from './file-handle.js';
import type { Attributes, FileSystem } from '../fs/filesystem.js';
import type { Caller } from '../fs/permissions.js';
import type { Volumes, VolumeSettings } from '../fs/volume.js';
import { auth_flavor } from '../rpc/rpc-message.js';
import type { RpcCallContext, RpcResults } from '../rpc/rpc-program.js';
import type { XdrReader } from '../rpc/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr-writer.js';
import { fattrOf } from './attrs.js';
import { writeStatus } from './codec.js';
import { DirCookies } from './dir-cookies.js';
import { nfsstatOf } from './errors.js';
import type { ExportSource } from './exports.js';
import { decodeFileHandle, encodeFileHandle } from './file-handle.js';
import { nfsstat3, NFS3_WRITEVERFSIZE, type fattr3, type nfs_fh3, type post_op_attr, type wcc_data } from './types.js';

/** RFC 1813 §4.4 leaves the anonymous user to the server; 65534 is "nobody" on Linux. */
export const ANONYMOUS_ID = 65534;

/** One file handle resolved: its volume's FileSystem and the inode address. */
export interface NfsObject {
  readonly fs: FileSystem;
  readonly volume: VolumeSettings;
  readonly volumeId: Buffer;
  readonly fsid: bigint;
  readonly address: Address;
}

/** A procedure: decodes its arguments (an XDR error becomes GARBAGE_ARGS), then answers with an nfsstat3 and its body. */
export type NfsHandler = (args: XdrReader, call: RpcCallContext, nfs: NfsContext) => Promise<RpcResults>;

export interface NfsContextOptions {
  readonly volumes: Volumes;
  /** RFC 1813 §3.3.7 writeverf3: changes each time the gateway starts, so clients resend uncommitted writes. */
  readonly writeVerifier: Buffer;
  readonly log: Logger;
  /** Per-volume export options (exports.ts); without them every client may do anything the mode bits allow. */
  readonly exports?: ExportSource;
}

export function newWriteVerifier(entropy: Entropy): Buffer {
  return entropy.bytes(NFS3_WRITEVERFSIZE);
}

export class NfsContext {
  readonly volumes: Volumes;
  readonly writeVerifier: Buffer;
  readonly log: Logger;
  readonly exports: ExportSource | undefined;
  readonly cookies = new DirCookies();
  readonly #open = new Map<string, Promise<{ settings: VolumeSettings; fs: FileSystem }>>();

  constructor(options: NfsContextOptions) {
    if (options.writeVerifier.length !== NFS3_WRITEVERFSIZE) throw new ShoalError('Invalid', 'a write verifier is 8 bytes');
    this.volumes = options.volumes;
    this.writeVerifier = options.writeVerifier;
    this.log = options.log;
    this.exports = options.exports;
  }

  /** Stores every gathered write of every open volume (a gateway stopping commits what clients have not yet). */
  async commitAll(): Promise<void> {
    const opened = await Promise.allSettled([...this.#open.values()]);
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.fs.commitAll() : undefined)));
  }

  /** The volume's FileSystem, opened once per gateway: a second instance would gather writes apart from the first. */
  async openVolume(settings: VolumeSettings): Promise<{ settings: VolumeSettings; fs: FileSystem }> {
    let opened = this.#open.get(settings.id);
    if (opened === undefined) {
      opened = this.volumes.open(settings.name);
      this.#open.set(settings.id, opened);
      opened.catch(() => this.#open.delete(settings.id));
    }
    return opened;
  }

  /** Resolves a handle; an unknown volume is NotFound+handle (NFS3ERR_STALE), a malformed handle Invalid+handle (BADHANDLE). */
  async resolve(fh: nfs_fh3): Promise<NfsObject> {
    const handle = decodeFileHandle(fh);
    const id = handle.volumeId.toString('hex');
    let opened = this.#open.get(id);
    if (opened === undefined) {
      const settings = (await this.volumes.list()).find((v) => v.id === id);
      if (settings === undefined) throw new ShoalError('NotFound', `no volume with id ${id}`, { subject: 'handle' });
      opened = this.openVolume(settings);
    }
    const { settings, fs } = await opened;
    return { fs, volume: settings, volumeId: handle.volumeId, fsid: handle.volumeId.readBigUInt64BE(0), address: handle.address };
  }

  /** A handle for another inode of the same volume. */
  handleOf(object: NfsObject, address: Address): nfs_fh3 {
    return encodeFileHandle({ volumeId: object.volumeId, address });
  }

  rootHandle(settings: VolumeSettings): nfs_fh3 {
    return encodeFileHandle({ volumeId: Buffer.from(settings.id, 'hex'), address: settings.root });
  }

  fattr(object: NfsObject, attributes: Attributes): fattr3 {
    return fattrOf(attributes, object.fsid);
  }

  /** A file with no link left keeps its inode block until collected, but to NFS it is gone: NFS3ERR_STALE (DESIGN §6). */
  async getattr(object: NfsObject, address: Address = object.address): Promise<fattr3> {
    const attributes = await object.fs.getattr(address);
    if (attributes.type === 'file' && attributes.nlink === 0) throw new ShoalError('NotFound', 'the file was removed', { subject: 'inode' });
    return this.fattr(object, attributes);
  }

  /** Attributes for a post_op_attr: FALSE when they cannot be had, which RFC 1813 §2.6 allows. */
  async postOp(object: NfsObject | undefined, address?: Address): Promise<post_op_attr> {
    if (object === undefined) return undefined;
    try {
      return await this.getattr(object, address ?? object.address);
    } catch {
      return undefined;
    }
  }

  /** post_op_attr for a raw handle, for failure bodies: nothing is thrown. */
  async postOpOf(fh: nfs_fh3): Promise<post_op_attr> {
    try {
      return await this.postOp(await this.resolve(fh));
    } catch {
      return undefined;
    }
  }

  /** wcc_data after an operation: no pre-op attributes (RFC 1813 §2.6 allows FALSE; fetching them costs a read). */
  async wcc(object: NfsObject | undefined, address?: Address): Promise<wcc_data> {
    return { before: undefined, after: await this.postOp(object, address) };
  }

  /** wcc_data for a raw handle, for failure bodies: nothing is thrown. */
  async wccOf(fh: nfs_fh3): Promise<wcc_data> {
    return { before: undefined, after: await this.postOpOf(fh) };
  }

  /** RFC 1813 §4.4 and RFC 5531 Appendix A: AUTH_SYS gives uid, gid and groups; AUTH_NONE is the anonymous user. */
  callerOf(call: RpcCallContext): Caller {
    if (call.auth.flavor === auth_flavor.AUTH_SYS) {
      const { uid, gid, gids } = call.auth.parms;
      return { uid, gid, gids };
    }
    return { uid: ANONYMOUS_ID, gid: ANONYMOUS_ID, gids: [] };
  }

  status(err: unknown, call: RpcCallContext): nfsstat3 {
    return nfsstatOf(err, call.log);
  }
}

/** NFS3_OK then the resok body. */
export function ok(body: (w: XdrWriter) => void): RpcResults {
  return (w) => {
    writeStatus(w, nfsstat3.NFS3_OK);
    body(w);
  };
}

/** An error status then the procedure's resfail body (STYLE §D: every error carries its failure body). */
export function failed(status: nfsstat3, body: (w: XdrWriter) => void): RpcResults {
  return (w) => {
    writeStatus(w, status);
    body(w);
  };
}
