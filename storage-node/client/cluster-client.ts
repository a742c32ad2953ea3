// The one way into the cluster for content blocks: placement computed locally (no lookup round trip),
// writes to the R placed nodes in parallel acknowledged at a durable majority, reads verified by hash
// with fail-over from the caller's zone outwards.
import { isShoalError, ShoalError } from '../base/errors.js';
import { REQUEST_TIMEOUT_MS_DEFAULT } from '../base/limits.js';
import { silentLogger, type Logger } from '../base/log.js';
import { addressHex, type Address } from '../blocks/address.js';
import { contentAddress, type ContentBlock } from '../blocks/immutable.js';
import { isServing, type Member } from '../overlay/membership.js';
import type { PlacementPolicy } from '../placement/policy.js';
import { placeReplicas } from '../placement/replica-set.js';
import { X509Certificate } from 'node:crypto';
import { Random, type Entropy } from '../base/random.js';
import type { Identity } from '../blocks/sign.js';
import type { ProposerTiming } from '../consensus/proposer.js';
import { ConnectionPool } from '../wire/connection-pool.js';
import { OP } from '../wire/operations.js';
import type { TlsCredentials } from '../wire/tls-credentials.js';
import { MemberView } from './member-view.js';
import { MutableBlocks } from './mutable-blocks.js';
import { NodeBatcher } from './node-batcher.js';
import { ProposerDriver } from './proposer-driver.js';

export interface ClusterClientOptions {
  readonly credentials: TlsCredentials;
  /** host:port of one or more nodes to learn the member list from. */
  readonly seeds: readonly string[];
  /** Copies of each content block (R); capped to the number of serving nodes. */
  readonly replicas?: number;
  /** The caller's zone: reads go to a replica there first. */
  readonly zone?: string;
  readonly requestTimeoutMs?: number;
  /** The identity that owns and signs the mutable blocks this client writes; needed for `mutable`. */
  readonly owner?: Identity;
  /** Keys, salts and nonces (crypto.randomBytes in production); needed for `mutable`. */
  readonly entropy?: Entropy;
  /** Proposer timings (tests shorten them). */
  readonly proposerTiming?: Partial<ProposerTiming>;
  /** How often the member list is fetched again, so that placement follows joins, leaves and deaths. */
  readonly memberRefreshMs?: number;
  readonly log?: Logger;
}

const MEMBER_REFRESH_MS_DEFAULT = 5_000;

export interface PutResult {
  /** Nodes that had the block durably when the put was acknowledged (a majority of `placed`). */
  readonly acknowledgedBy: readonly string[];
  readonly placed: readonly string[];
}

export interface BlockStat {
  readonly placed: readonly Member[];
  readonly holders: readonly Member[];
  readonly unreachable: readonly Member[];
}

export class ClusterClient {
  readonly #pool: ConnectionPool;
  readonly #view: MemberView;
  readonly #batchers = new Map<string, NodeBatcher>();
  readonly #background = new Set<Promise<unknown>>();
  readonly #options: ClusterClientOptions;
  readonly #log: Logger;
  #refreshTimer: ReturnType<typeof setInterval> | undefined;
  #proposers: ProposerDriver | undefined;
  #mutable: MutableBlocks | undefined;

  private constructor(options: ClusterClientOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#pool = new ConnectionPool(options.credentials);
    this.#view = new MemberView(this.#pool, options.seeds);
  }

  static async connect(options: ClusterClientOptions): Promise<ClusterClient> {
    const client = new ClusterClient(options);
    try {
      await client.refreshMembers();
    } catch (err) {
      client.close();
      throw err;
    }
    client.#refreshTimer = setInterval(() => {
      client.refreshMembers().catch((err: unknown) => client.#log.warn({ err: (err as Error).message }, 'client.member_refresh_failed'));
    }, options.memberRefreshMs ?? MEMBER_REFRESH_MS_DEFAULT);
    client.#refreshTimer.unref();
    return client;
  }

  refreshMembers(): Promise<readonly Member[]> {
    return this.#view.refresh();
  }

  get members(): readonly Member[] {
    return this.#view.members;
  }

  get policy(): PlacementPolicy {
    return { replicas: this.#options.replicas ?? 3 };
  }

  /** Mutable blocks (per-block Paxos, the proposer running here); needs `owner` and `entropy` in the options. */
  get mutable(): MutableBlocks {
    if (this.#mutable) return this.#mutable;
    const { owner, entropy } = this.#options;
    if (owner === undefined || entropy === undefined) {
      throw new ShoalError('Invalid', 'mutable blocks need an owner identity and an entropy source in the client options', { subject: 'config' });
    }
    const self = new X509Certificate(this.#options.credentials.cert).subject.match(/CN=([^\n,]+)/)?.[1] ?? 'client';
    this.#proposers = new ProposerDriver({
      pool: this.#pool, members: () => this.#view.members, random: new Random(entropy.bytes(16).toString('hex')),
      now: () => performance.now(), log: this.#log,
    });
    this.#mutable = new MutableBlocks({
      driver: this.#proposers, owner, entropy, self, proposerId: `${self}/${entropy.bytes(8).toString('hex')}`,
      placement: (address, replicas) => this.placement(address, replicas).map((m) => m.id),
      ...(this.#options.proposerTiming === undefined ? {} : { timing: this.#options.proposerTiming }),
    });
    return this.#mutable;
  }

  /** The replica set of a block: `replicas` is the volume's R when it differs from the client's default. */
  placement(address: Address, replicas?: number): Member[] {
    const policy = replicas === undefined ? this.policy : { ...this.policy, replicas };
    return placeReplicas(address, this.#view.members.filter(isServing), policy);
  }

  async putContent(address: Address, block: ContentBlock, options: { signal?: AbortSignal; replicas?: number } = {}): Promise<PutResult> {
    const placed = this.placement(address, options.replicas);
    if (placed.length === 0) throw new ShoalError('Unavailable', 'no storage node is serving', { subject: 'node' });
    const majority = Math.floor(placed.length / 2) + 1;
    const acknowledgedBy: string[] = [];
    const failures: ShoalError[] = [];
    const done = new Promise<PutResult>((resolve, reject) => {
      for (const member of placed) {
        const write = this.#batcher(member).put(address, block, options.replicas ?? this.policy.replicas).then(
          () => {
            acknowledgedBy.push(member.id);
            if (acknowledgedBy.length === majority) resolve({ acknowledgedBy: [...acknowledgedBy], placed: placed.map((m) => m.id) });
          },
          (err: unknown) => {
            failures.push(asShoalError(err, member));
            if (failures.length === placed.length - majority + 1) reject(putFailure(address, failures, placed.length, majority));
          },
        );
        // The writes beyond the majority go on after the put is acknowledged; settled() waits for them.
        this.#track(write);
      }
    });
    return abortable(done, options.signal);
  }

  async getContent(address: Address, options: { signal?: AbortSignal; replicas?: number } = {}): Promise<ContentBlock> {
    const failures: string[] = [];
    let missing = 0;
    for (const member of this.#readOrder(address, options.replicas)) {
      options.signal?.throwIfAborted();
      try {
        const block = await abortable(this.#batcher(member).get(address), options.signal);
        if (block === null) {
          missing++;
          continue;
        }
        if (!contentAddress(block).equals(address)) {
          this.#log.warn({ node: member.id, block: addressHex(address) }, 'client.corrupt_replica');
          failures.push(`${member.id}: content does not match its address`);
          continue;
        }
        return block;
      } catch (err) {
        if (isShoalError(err, 'Aborted')) throw err;
        failures.push(`${member.id}: ${(err as Error).message}`);
      }
    }
    if (failures.length === 0) {
      throw new ShoalError('NotFound', `block ${addressHex(address)} is on none of the ${missing} nodes asked`, { subject: 'block' });
    }
    throw new ShoalError('Unavailable', `block ${addressHex(address)} could not be read (${failures.join('; ')})`, { subject: 'block' });
  }

  /** Which nodes placement names for a block and which actually hold it (every serving member is asked). */
  async statContent(address: Address, options: { replicas?: number } = {}): Promise<BlockStat> {
    const holders: Member[] = [];
    const unreachable: Member[] = [];
    await Promise.all(this.#view.members.filter(isServing).map(async (member) => {
      try {
        if (await this.#batcher(member).has(address)) holders.push(member);
      } catch {
        unreachable.push(member);
      }
    }));
    const byId = (a: Member, b: Member): number => a.id.localeCompare(b.id);
    return { placed: this.placement(address, options.replicas), holders: holders.sort(byId), unreachable: unreachable.sort(byId) };
  }

  /** Removes a block from every node that holds it; the signature is the owner's (signContentRemoval). */
  async removeContent(address: Address, signature: Buffer): Promise<{ removedFrom: string[] }> {
    const removedFrom: string[] = [];
    const results = await Promise.allSettled(this.#view.members.filter(isServing).map(async (member) => {
      const removed = await this.#pool.request(member, OP.removeContent, { address, signature }, { timeoutMs: this.#timeoutMs });
      if (removed === true) removedFrom.push(member.id);
    }));
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && isShoalError(r.reason, 'Forbidden'));
    if (refused) throw refused.reason;
    return { removedFrom: removedFrom.sort() };
  }

  /** Resolves when every write started so far (including those beyond the acknowledging majority) has settled. */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  close(): void {
    if (this.#refreshTimer !== undefined) clearInterval(this.#refreshTimer);
    this.#proposers?.close();
    this.#pool.close();
  }

  get #timeoutMs(): number {
    return this.#options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
  }

  /** Placed replicas in the caller's zone first, then the other placed ones, then everyone else (a block may sit off-placement until repair moves it). */
  #readOrder(address: Address, replicas: number | undefined): Member[] {
    const placed = this.placement(address, replicas);
    const zone = this.#options.zone;
    const local = zone === undefined ? [] : placed.filter((m) => m.zone === zone);
    const rest = placed.filter((m) => !local.includes(m));
    const others = this.#view.members.filter((m) => isServing(m) && !placed.includes(m));
    return [...local, ...rest, ...others];
  }

  #batcher(member: Member): NodeBatcher {
    const key = `${member.id}@${member.address}`;
    let batcher = this.#batchers.get(key);
    if (!batcher) {
      batcher = new NodeBatcher(this.#pool, member, { timeoutMs: this.#timeoutMs });
      this.#batchers.set(key, batcher);
    }
    return batcher;
  }

  #track(promise: Promise<unknown>): void {
    this.#background.add(promise);
    void promise.finally(() => this.#background.delete(promise));
  }
}

function asShoalError(err: unknown, member: Member): ShoalError {
  if (isShoalError(err)) return err;
  return new ShoalError('Unavailable', `node ${member.id}: ${(err as Error)?.message ?? String(err)}`, { subject: 'node', cause: err });
}

function putFailure(address: Address, failures: ShoalError[], placed: number, majority: number): ShoalError {
  const reasons = failures.map((f) => f.message).join('; ');
  const message = `block ${addressHex(address)} reached fewer than ${majority} of ${placed} nodes: ${reasons}`;
  // A refusal on content grounds is the caller's to fix; anything else is the cluster's availability.
  const decisive = failures.find((f) => f.kind === 'Invalid' || f.kind === 'TooLarge') ?? failures.find((f) => f.kind === 'NoSpace');
  return new ShoalError(decisive?.kind ?? 'Unavailable', message, { subject: 'block' });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ShoalError('Aborted', 'operation aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
