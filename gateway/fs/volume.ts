// Volumes: the cluster catalogue (a named block `catalogue` → a mutable block listing every volume and its settings),
// each volume's named block `volume/<name>` → its root directory inode, and opening a volume as a FileSystem.
//
// The catalogue is authoritative: a volume exists when the catalogue lists it, and the catalogue entry carries the
// root too. Creating writes the root inode, then the catalogue entry (one consensus write decides between two
// creators of one name), then points the named block; a crash after the catalogue write loses nothing.
import type { Clock } from '../../storage-node/base/clock.js';
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import { CONTENT_BLOCK_BYTES_MAX } from '../../storage-node/base/limits.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { SEAL_OVERHEAD_BYTES } from '../../storage-node/blocks/seal.js';
import { FileSystem } from './filesystem.js';
import type { FsBlocks } from './fs-blocks.js';
import type { FsLimits } from './fs-limits.js';
import { InodeStore } from './inode-store.js';
import { namedBlock } from './named-record.js';
import { checkAddress, checkString, checkTuple, checkUint, packRecord, RecordReader } from './record-packer.js';

export const CATALOGUE_NAME = 'catalogue';
const CATALOGUE_FORMAT_VERSION = 1;
const REPLICAS_MAX = 16;
const VOLUME_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/; // S3 bucket rules, so every volume is also a bucket

export interface VolumeSettings {
  readonly name: string;
  /** 8 bytes in hex: the volume id inside NFS file handles. */
  readonly id: string;
  readonly root: Address;
  readonly replicas: number;
  readonly chunkBytes: number;
  /** The owner's Ed25519 public key in hex. */
  readonly owner: string;
  readonly createdMs: number;
}

export interface VolumeOptions {
  readonly replicas?: number;
  readonly chunkBytes?: number;
  /** Owner and mode of the root directory (default root:root 0755). */
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export class Volumes {
  readonly #blocks: FsBlocks;
  readonly #clock: Clock;
  readonly #limits: FsLimits;
  readonly #owner: Buffer;

  constructor(options: { blocks: FsBlocks; clock: Clock; limits: FsLimits; owner: Buffer }) {
    this.#blocks = options.blocks;
    this.#clock = options.clock;
    this.#limits = options.limits;
    this.#owner = options.owner;
  }

  async create(name: string, options: VolumeOptions = {}): Promise<VolumeSettings> {
    if (!VOLUME_NAME.test(name)) throw new ShoalError('Invalid', `"${name}" is not a volume name: 3 to 63 of a-z, 0-9, '.', '-'`, { subject: 'volume' });
    const chunkBytes = options.chunkBytes ?? this.#limits.chunkBytes;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1 || chunkBytes + SEAL_OVERHEAD_BYTES > CONTENT_BLOCK_BYTES_MAX) {
      throw new ShoalError('Invalid', `a chunk is 1 byte to ${CONTENT_BLOCK_BYTES_MAX - SEAL_OVERHEAD_BYTES} bytes (4 MiB)`, { subject: 'volume' });
    }
    const replicas = options.replicas ?? 3;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > REPLICAS_MAX) {
      throw new ShoalError('Invalid', `a volume keeps 1 to ${REPLICAS_MAX} copies of each block, not ${replicas}`, { subject: 'volume' });
    }
    const now = Math.floor(this.#clock.wallMs());
    // The root directory is the volume's first block: it gets the volume's replication factor like every later one.
    const blocks = this.#blocks.withReplicas(replicas);
    const root = await new InodeStore(blocks).create({
      type: 'dir', mode: options.mode ?? 0o755, uid: options.uid ?? 0, gid: options.gid ?? 0, nlink: 2, size: 0,
      atimeMs: now, mtimeMs: now, ctimeMs: now, xattrs: new Map(), dir: { kind: 'entries', entries: [] },
    });
    const settings: VolumeSettings = {
      name, id: this.#blocks.entropy.bytes(8).toString('hex'), root: root.address, replicas, chunkBytes,
      owner: this.#owner.toString('hex'), createdMs: now,
    };
    // The root is its own parent (`..` of the root is the root), which needs its address first.
    await new InodeStore(blocks).update(root.address, (inode) => ({ ...inode, parent: root.address }));
    await this.#blocks.updateMutable(await namedBlock(this.#blocks, CATALOGUE_NAME, encodeCatalogue([])), (content) => {
      const volumes = decodeCatalogue(content);
      if (volumes.some((v) => v.name === name)) return new ShoalError('Exists', `volume "${name}" already exists`, { subject: 'volume' });
      return encodeCatalogue([...volumes, settings].sort((a, b) => (a.name < b.name ? -1 : 1)));
    });
    const named = `volume/${name}`;
    await this.#blocks.createNamed(named, root.address).catch((err: unknown) => {
      if (!isShoalError(err, 'Exists')) throw err;
      return this.#blocks.pointNamed(named, root.address); // left by a deleted volume of that name
    });
    return settings;
  }

  async list(): Promise<VolumeSettings[]> {
    return decodeCatalogue((await this.#blocks.readMutable(await namedBlock(this.#blocks, CATALOGUE_NAME, encodeCatalogue([])))).content);
  }

  async inspect(name: string): Promise<VolumeSettings> {
    const found = (await this.list()).find((v) => v.name === name);
    if (found === undefined) throw new ShoalError('NotFound', `no volume "${name}"`, { subject: 'volume' });
    return found;
  }

  async open(name: string): Promise<{ settings: VolumeSettings; fs: FileSystem }> {
    const settings = await this.inspect(name);
    const limits = { ...this.#limits, chunkBytes: settings.chunkBytes };
    const blocks = this.#blocks.withReplicas(settings.replicas);
    return { settings, fs: new FileSystem({ blocks, clock: this.#clock, limits, root: settings.root }) };
  }

  /** Deletes a volume whose root directory is empty (NotEmpty otherwise). */
  async delete(name: string): Promise<void> {
    const { settings, fs } = await this.open(name);
    if ((await fs.getattr(settings.root)).size > 0) throw new ShoalError('NotEmpty', `volume "${name}" is not empty`, { subject: 'volume' });
    await this.#blocks.updateMutable(await namedBlock(this.#blocks, CATALOGUE_NAME, encodeCatalogue([])), (content) => {
      const volumes = decodeCatalogue(content);
      if (!volumes.some((v) => v.name === name && v.root.equals(settings.root))) return new ShoalError('NotFound', `no volume "${name}"`, { subject: 'volume' });
      return encodeCatalogue(volumes.filter((v) => v.name !== name));
    });
  }
}

function encodeCatalogue(volumes: readonly VolumeSettings[]): Buffer {
  return packRecord({ v: CATALOGUE_FORMAT_VERSION, vols: volumes.map((v) => [v.name, v.id, v.root, v.replicas, v.chunkBytes, v.owner, v.createdMs]) });
}

function decodeCatalogue(bytes: Buffer): VolumeSettings[] {
  const r = new RecordReader('volume catalogue', bytes);
  r.formatVersion(CATALOGUE_FORMAT_VERSION);
  const fail = () => r.fail('vols', 'a list of volume records');
  return r.array('vols').map((item) => {
    const [name, id, root, replicas, chunkBytes, owner, createdMs] = checkTuple(item, 7, fail);
    return {
      name: checkString(name, fail), id: checkString(id, fail), root: checkAddress(root, fail), replicas: checkUint(replicas, fail),
      chunkBytes: checkUint(chunkBytes, fail), owner: checkString(owner, fail), createdMs: checkUint(createdMs, fail),
    };
  });
}
