// Mutable blocks for callers: create, linearizable read, and update as a function of the current content,
// replayed when another writer got there first. Owner-keyed blocks are sealed with the owner's data key, so
// storage nodes hold only ciphertext; named blocks point at another block.
import { ShoalError } from '../base/errors.js';
import type { Entropy } from '../base/random.js';
import { addressHex, type Address } from '../blocks/address.js';
import { firstOwnerVersion, newMutableAddress, nextVersion, writeOwnerBlock } from '../blocks/mutable.js';
import { namedAddress, namedTarget, newNamedBlock, pointNamedBlock } from '../blocks/named.js';
import { ownerDataKey } from '../blocks/owner-key.js';
import { openData, sealData } from '../blocks/seal.js';
import type { Identity } from '../blocks/sign.js';
import type { VersionRecord } from '../blocks/version-record.js';
import type { Outcome } from '../consensus/effects.js';
import type { BlockCodec, ProposerConfig, ProposerTiming, UpdateFn } from '../consensus/proposer.js';
import { sameQuorum, type Quorum } from '../consensus/quorum.js';
import type { ProposerDriver } from './proposer-driver.js';

export interface MutableBlocksOptions {
  readonly driver: ProposerDriver;
  /** The quorum placement gives a new block (R node ids); existing blocks carry their own. */
  readonly placement: (address: Address, replicas?: number) => Quorum;
  /** The identity that owns and signs the blocks this client writes. */
  readonly owner: Identity;
  readonly entropy: Entropy;
  /** The id acceptors reply to: the common name of this client's certificate. */
  readonly self: string;
  /** Unique to this process, so that its ballots never repeat another's. */
  readonly proposerId: string;
  readonly timing?: Partial<ProposerTiming>;
}

export interface BlockVersion<T> {
  readonly address: Address;
  readonly version: number;
  readonly content: T;
}

export interface OpOptions {
  readonly timeoutMs?: number;
}

type Codec<T> = BlockCodec<VersionRecord, T>;

export class MutableBlocks {
  readonly #options: MutableBlocksOptions;

  constructor(options: MutableBlocksOptions) {
    this.#options = options;
  }

  /** A new owner-keyed block holding `content` (version 1), on a quorum of `replicas` nodes (default: the client's R). */
  async create(content: Buffer, options: OpOptions & { replicas?: number } = {}): Promise<BlockVersion<Buffer>> {
    const { salt, address } = newMutableAddress(this.#options.owner.publicKey, this.#options.entropy);
    const quorum = this.#options.placement(address, options.replicas);
    return this.#write(address, this.#ownerCodec(address, salt), (current) => (current === undefined ? content : exists(address)), options, quorum);
  }

  /** The latest version, linearizably (a majority of the block's quorum is asked). */
  async read(address: Address, options: OpOptions & { ifNewerThan?: number } = {}): Promise<BlockVersion<Buffer> | { address: Address; version: number; notModified: true }> {
    const outcome = await this.#submitRead(address, this.#ownerCodec(address, undefined), options);
    if (outcome.status === 'not-modified') return { address, version: outcome.version, notModified: true };
    const { version, content } = settled(outcome, address);
    if (content === undefined) throw notFound(address);
    return { address, version, content };
  }

  /**
   * Applies `apply` to the current content and writes the result as the next version. When another writer won the
   * version, `apply` runs again on the newer content; it returns a ShoalError when the update no longer applies.
   */
  async update(address: Address, apply: (current: Buffer) => Buffer | ShoalError, options: OpOptions = {}): Promise<BlockVersion<Buffer>> {
    return this.#write(address, this.#ownerCodec(address, undefined), (current) => (current === undefined ? notFound(address) : apply(current)), options);
  }

  /** Moves a block to another quorum (a version like any other); the content is unchanged. */
  async reconfigure(address: Address, quorum: Quorum, options: OpOptions = {}): Promise<number> {
    const outcome = await this.#options.driver.submit(addressHex(address), this.#config(this.#ownerCodec(address, undefined)), () => this.#options.placement(address), {
      kind: 'reconfigure', quorum, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    return settled(outcome, address).version;
  }

  /** The named block `name` of this client's owner, pointing at `target`; fails with Exists if it is taken. */
  async createNamed(name: string, target: Address, options: OpOptions = {}): Promise<BlockVersion<Address>> {
    const address = namedAddress(this.#options.owner.publicKey, name);
    return this.#write(address, this.#namedCodec(name), (current) => (current === undefined ? target : exists(address)), options);
  }

  async resolveNamed(owner: Buffer, name: string, options: OpOptions = {}): Promise<BlockVersion<Address>> {
    const address = namedAddress(owner, name);
    const { version, content } = settled(await this.#submitRead(address, this.#namedCodec(name), options), address);
    if (content === undefined) throw notFound(address);
    return { address, version, content };
  }

  async pointNamed(name: string, target: Address, options: OpOptions = {}): Promise<BlockVersion<Address>> {
    const address = namedAddress(this.#options.owner.publicKey, name);
    return this.#write(address, this.#namedCodec(name), (current) => (current === undefined ? notFound(address) : target), options);
  }

  async #write<T>(address: Address, codec: Codec<T>, apply: UpdateFn<T>, options: OpOptions, quorum?: Quorum): Promise<BlockVersion<T>> {
    const outcome = await this.#options.driver.submit(addressHex(address), this.#config(codec), () => quorum ?? this.#options.placement(address), {
      kind: 'update', apply, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    const { version, content } = settled(outcome, address);
    if (content === undefined) throw notFound(address);
    return { address, version, content };
  }

  #submitRead<T>(address: Address, codec: Codec<T>, options: OpOptions & { ifNewerThan?: number }): Promise<Outcome<T>> {
    return this.#options.driver.submit(addressHex(address), this.#config(codec), () => this.#options.placement(address), {
      kind: 'read',
      ...(options.ifNewerThan === undefined ? {} : { ifNewerThan: options.ifNewerThan }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  }

  #config<T>(codec: Codec<T>): ProposerConfig<VersionRecord, T> {
    const { self, proposerId, timing } = this.#options;
    return { self, proposerId, codec, ...(timing === undefined ? {} : { timing }) };
  }

  /**
   * `salt` is known only to the creator; every later version takes it from its predecessor. The driver keeps the
   * codec of a block's first op for as long as it keeps the block's proposer, so the data key is derived when first
   * needed, not for every op.
   */
  #ownerCodec(address: Address, salt: Buffer | undefined): Codec<Buffer> {
    const { owner, entropy } = this.#options;
    let key: Buffer | undefined;
    const dataKey = (): Buffer => (key ??= ownerDataKey(owner, address));
    return {
      open: (record) => {
        if (record.kind !== 'owner') throw new ShoalError('Invalid', `block ${addressHex(address)} is a ${record.kind} block, not an owner-keyed one`, { subject: 'block' });
        return openData(dataKey(), record.payload);
      },
      seal: (previous, content, quorum) => {
        const payload = sealData(dataKey(), content, entropy);
        if (previous === undefined) {
          if (salt === undefined) throw notFound(address);
          return firstOwnerVersion(owner, salt, payload, quorum);
        }
        if (previous.kind !== 'owner') throw new ShoalError('Invalid', `block ${addressHex(address)} is not owner-keyed`, { subject: 'block' });
        return writeOwnerBlock(owner, previous, payload, quorum);
      },
    };
  }

  #namedCodec(name: string): Codec<Address> {
    const { owner } = this.#options;
    return {
      open: (record) => {
        if (record.kind !== 'named') throw new ShoalError('Invalid', `block ${addressHex(record.address)} is not a named block`, { subject: 'block' });
        return namedTarget(record);
      },
      seal: (previous, target, quorum) => {
        if (previous === undefined) return newNamedBlock(owner, name, target, quorum);
        if (previous.kind !== 'named') throw new ShoalError('Invalid', 'not a named block', { subject: 'block' });
        return sameQuorum(previous.quorum, quorum) ? pointNamedBlock(owner, previous, target) : nextVersion(owner, previous, { payload: target, quorum });
      },
    };
  }
}

function settled<T>(outcome: Outcome<T>, address: Address): { version: number; content: T | undefined } {
  switch (outcome.status) {
    case 'ok':
      return { version: outcome.version, content: outcome.content };
    case 'not-modified':
      return { version: outcome.version, content: undefined };
    case 'failed':
      throw outcome.error;
    case 'unknown':
      throw new ShoalError(outcome.error.kind, `block ${addressHex(address)}: the update may or may not have taken effect (${outcome.error.message})`, {
        subject: 'block', detail: { outcome: 'unknown' }, cause: outcome.error,
      });
  }
}

function exists(address: Address): ShoalError {
  return new ShoalError('Exists', `block ${addressHex(address)} already exists`, { subject: 'block' });
}

function notFound(address: Address): ShoalError {
  return new ShoalError('NotFound', `block ${addressHex(address)} does not exist`, { subject: 'block' });
}
