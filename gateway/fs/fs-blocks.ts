// The narrow view of the cluster the filesystem needs (STYLE: each component declares only what it needs), and its
// implementation over a ClusterClient; tests put an in-memory twin behind the same interface.
import { isShoalError, ShoalError } from '../../storage-node/base/errors.js';
import type { Entropy } from '../../storage-node/base/random.js';
import type { Address } from '../../storage-node/blocks/address.js';
import { newContentBlock, signContentRemoval } from '../../storage-node/blocks/immutable.js';
import type { Identity } from '../../storage-node/blocks/sign.js';
import type { ClusterClient } from '../../storage-node/client/cluster-client.js';

export interface MutableValue {
  readonly address: Address;
  readonly version: number;
  readonly content: Buffer;
}

/** Returns the next content, or the typed error that says why the operation no longer applies. */
export type ApplyFn = (current: Buffer) => Buffer | ShoalError;

/** A conditional read's answer when the block has nothing newer than the version the caller holds. */
export interface NotModified {
  readonly address: Address;
  readonly version: number;
  readonly notModified: true;
}

export interface Capacity {
  readonly totalBytes: number;
  readonly usedBytes: number;
}

export interface FsBlocks {
  /** Keys, salts and nonces. */
  readonly entropy: Entropy;
  /** Copies of each new block (content and mutable) this view stores: the volume's replication factor. */
  readonly replicas: number | undefined;
  /** The same cluster, storing new blocks on `replicas` nodes (a volume's R); reads and updates are unchanged. */
  withReplicas(replicas: number): FsBlocks;
  /** Stores ciphertext as a content block owned by the volume owner; resolves once a majority has it. */
  putContent(data: Buffer): Promise<Address>;
  getContent(address: Address): Promise<Buffer>;
  /** A signed remove from every node that holds the block; a block already gone is not an error. */
  removeContent(address: Address): Promise<void>;
  createMutable(content: Buffer): Promise<MutableValue>;
  /** Linearizable; NotFound (subject block) when there is no such block. */
  readMutable(address: Address): Promise<MutableValue>;
  /** Linearizable like readMutable, but answers NotModified (without the content) when the block is still at `version`. */
  readMutableIfNewer(address: Address, version: number): Promise<MutableValue | NotModified>;
  /** `apply` may run more than once (replayed on a newer value when another writer won): it must be pure. */
  updateMutable(address: Address, apply: ApplyFn): Promise<MutableValue>;
  createNamed(name: string, target: Address): Promise<void>;
  resolveNamed(name: string): Promise<Address>;
  pointNamed(name: string, target: Address): Promise<void>;
  capacity(): Capacity;
}

export class ClusterFsBlocks implements FsBlocks {
  readonly #client: ClusterClient;
  readonly #owner: Identity;
  readonly entropy: Entropy;
  readonly replicas: number | undefined;

  /**
   * `client` must have been connected with `owner` as its identity (it signs the mutable blocks). `replicas` is the
   * copies of each new block (default: the client's R).
   */
  constructor(client: ClusterClient, owner: Identity, entropy: Entropy, options: { replicas?: number } = {}) {
    this.#client = client;
    this.#owner = owner;
    this.entropy = entropy;
    this.replicas = options.replicas;
  }

  withReplicas(replicas: number): ClusterFsBlocks {
    return new ClusterFsBlocks(this.#client, this.#owner, this.entropy, { replicas });
  }

  async putContent(data: Buffer): Promise<Address> {
    const { address, block } = newContentBlock(this.#owner.publicKey, data, this.entropy);
    await this.#client.putContent(address, block, this.#replicaOption());
    return address;
  }

  async getContent(address: Address): Promise<Buffer> {
    return (await this.#client.getContent(address)).data;
  }

  async removeContent(address: Address): Promise<void> {
    await this.#client.removeContent(address, signContentRemoval(this.#owner, address));
  }

  createMutable(content: Buffer): Promise<MutableValue> {
    return this.#client.mutable.create(content, this.#replicaOption());
  }

  async readMutable(address: Address): Promise<MutableValue> {
    const value = await this.#client.mutable.read(address);
    if ('notModified' in value) throw new ShoalError('Conflict', 'an unconditional read answered not-modified', { subject: 'block' });
    return value;
  }

  readMutableIfNewer(address: Address, version: number): Promise<MutableValue | NotModified> {
    return this.#client.mutable.read(address, { ifNewerThan: version });
  }

  updateMutable(address: Address, apply: ApplyFn): Promise<MutableValue> {
    return this.#client.mutable.update(address, apply);
  }

  async createNamed(name: string, target: Address): Promise<void> {
    await this.#client.mutable.createNamed(name, target);
  }

  async resolveNamed(name: string): Promise<Address> {
    return (await this.#client.mutable.resolveNamed(this.#owner.publicKey, name)).content;
  }

  async pointNamed(name: string, target: Address): Promise<void> {
    await this.#client.mutable.pointNamed(name, target);
  }

  capacity(): Capacity {
    let totalBytes = 0;
    let usedBytes = 0;
    for (const member of this.#client.members) {
      if (member.state !== 'alive' && member.state !== 'suspect') continue;
      totalBytes += member.capacityBytes;
      usedBytes += member.usedBytes;
    }
    return { totalBytes, usedBytes };
  }

  #replicaOption(): { replicas?: number } {
    return this.replicas === undefined ? {} : { replicas: this.replicas };
  }
}

/** A block that is gone means the inode is gone (a stale handle), not a missing name. */
export function asInodeError(err: unknown, what: string): unknown {
  if (isShoalError(err, 'NotFound') && err.subject === 'block') {
    return new ShoalError('NotFound', `${what} does not exist`, { subject: 'inode', cause: err });
  }
  return err;
}
