// An in-memory twin of ClusterFsBlocks for unit tests: the same interface, content blocks checked by hash, mutable
// blocks versioned, and every call yielding to the event loop so that concurrent operations interleave.
import { ShoalError, isShoalError } from '../../../../storage-node/base/errors.js';
import type { Clock } from '../../../../storage-node/base/clock.js';
import { Random, SeededEntropy, type Entropy } from '../../../../storage-node/base/random.js';
import type { Address } from '../../../../storage-node/blocks/address.js';
import { newContentBlock } from '../../../../storage-node/blocks/immutable.js';
import type { ApplyFn, Capacity, FsBlocks, MutableValue, NotModified } from '../../../../gateway/fs/fs-blocks.js';

const OWNER = Buffer.alloc(32, 7);
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface MemoryState {
  readonly entropy: Entropy;
  readonly content: Map<string, Buffer>;
  readonly mutable: Map<string, { version: number; content: Buffer }>;
  readonly named: Map<string, Address>;
  readonly replicasOf: Map<string, number | undefined>;
  readonly calls: Record<string, number>;
}

export class MemoryFsBlocks implements FsBlocks {
  readonly entropy: Entropy;
  readonly content: Map<string, Buffer>;
  readonly mutable: Map<string, { version: number; content: Buffer }>;
  readonly named: Map<string, Address>;
  /** The replica count each block was created with (undefined: the client's default), for tests of a volume's R. */
  readonly replicasOf: Map<string, number | undefined>;
  /** Calls by kind, for tests that count consensus writes and fetches. */
  readonly calls: Record<string, number>;
  readonly replicas: number | undefined;
  readonly #state: MemoryState;

  constructor(seed = 'memory', shared?: { state: MemoryState; replicas: number }) {
    this.#state = shared?.state ?? {
      entropy: new SeededEntropy(new Random(seed)), content: new Map(), mutable: new Map(), named: new Map(), replicasOf: new Map(), calls: {},
    };
    ({ entropy: this.entropy, content: this.content, mutable: this.mutable, named: this.named, replicasOf: this.replicasOf, calls: this.calls } = this.#state);
    this.replicas = shared?.replicas;
  }

  withReplicas(replicas: number): MemoryFsBlocks {
    return new MemoryFsBlocks('', { state: this.#state, replicas });
  }

  #count(kind: string): void {
    this.calls[kind] = (this.calls[kind] ?? 0) + 1;
  }

  async putContent(data: Buffer): Promise<Address> {
    this.#count('putContent');
    await tick();
    const { address } = newContentBlock(OWNER, data, this.entropy);
    this.content.set(address.toString('hex'), Buffer.from(data));
    this.replicasOf.set(address.toString('hex'), this.replicas);
    return address;
  }

  async getContent(address: Address): Promise<Buffer> {
    this.#count('getContent');
    await tick();
    const data = this.content.get(address.toString('hex'));
    if (data === undefined) throw new ShoalError('NotFound', 'no such content block', { subject: 'block' });
    return data;
  }

  async removeContent(address: Address): Promise<void> {
    this.#count('removeContent');
    await tick();
    this.content.delete(address.toString('hex'));
  }

  async createMutable(content: Buffer): Promise<MutableValue> {
    this.#count('createMutable');
    await tick();
    const address = this.entropy.bytes(32);
    this.mutable.set(address.toString('hex'), { version: 1, content });
    this.replicasOf.set(address.toString('hex'), this.replicas);
    return { address, version: 1, content };
  }

  async readMutable(address: Address): Promise<MutableValue> {
    this.#count('readMutable');
    await tick();
    const block = this.mutable.get(address.toString('hex'));
    if (block === undefined) throw new ShoalError('NotFound', 'no such block', { subject: 'block' });
    return { address, ...block };
  }

  async readMutableIfNewer(address: Address, version: number): Promise<MutableValue | NotModified> {
    const value = await this.readMutable(address);
    if (value.version > version) return value;
    this.#count('notModified');
    return { address, version: value.version, notModified: true };
  }

  async updateMutable(address: Address, apply: ApplyFn): Promise<MutableValue> {
    this.#count('updateMutable');
    await tick();
    const block = this.mutable.get(address.toString('hex'));
    if (block === undefined) throw new ShoalError('NotFound', 'no such block', { subject: 'block' });
    // A ShoalError thrown by `apply` fails the update as a returned one does (the proposer's `attempt`).
    const next = apply(block.content);
    if (isShoalError(next)) throw next;
    const version = block.version + 1;
    this.mutable.set(address.toString('hex'), { version, content: next });
    return { address, version, content: next };
  }

  async createNamed(name: string, target: Address): Promise<void> {
    await tick();
    if (this.named.has(name)) throw new ShoalError('Exists', 'named block exists', { subject: 'block' });
    this.named.set(name, target);
  }

  async resolveNamed(name: string): Promise<Address> {
    await tick();
    const target = this.named.get(name);
    if (target === undefined) throw new ShoalError('NotFound', 'no such named block', { subject: 'block' });
    return target;
  }

  async pointNamed(name: string, target: Address): Promise<void> {
    await tick();
    if (!this.named.has(name)) throw new ShoalError('NotFound', 'no such named block', { subject: 'block' });
    this.named.set(name, target);
  }

  capacity(): Capacity {
    return { totalBytes: 1 << 30, usedBytes: [...this.content.values()].reduce((sum, b) => sum + b.length, 0) };
  }
}

/** A clock whose wall time advances one millisecond per reading. */
export class SteppingClock implements Clock {
  #ms = 1_700_000_000_000;
  now(): number {
    return this.#ms;
  }
  wallMs(): number {
    return this.#ms++;
  }
  setTimer(): number {
    throw new Error('no timers in unit tests');
  }
  clearTimer(): void {}
}
