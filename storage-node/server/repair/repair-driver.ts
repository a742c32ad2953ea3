// Runs repair on one node: walks its store in small batches at a bounded rate, asks the placed nodes which blocks
// they hold, and carries out repair-plan's decisions (copy to placed nodes, drop a copy no longer placed here).
import type { Clock } from '../../base/clock.js';
import { isShoalError } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import { addressHex, type Address } from '../../blocks/address.js';
import type { Member } from '../../overlay/membership.js';
import { chargedBytes, type BlockStore } from '../../store/block-store.js';
import type { ConnectionPool } from '../../wire/connection-pool.js';
import { OP, type RepairStatus } from '../../wire/operations.js';
import type { RepairConfig } from './repair-config.js';
import { placeForRepair, placementMembers, planBlock, trackGone, type BlockAction, type GoneSince } from './repair-plan.js';
import { RateLimit, RateMeter } from './rate-limit.js';
import type { MembershipView, MutableRepair } from './mutable-repair.js';

const REQUEST_TIMEOUT_MS = 10_000;
/** One put-many request of repair stays this small, so that client requests to the same node are not stuck behind it. */
const COPY_REQUEST_BYTES_MAX = 4 * 1024 * 1024;
const COPY_REQUEST_BLOCKS_MAX = 64;

/** Splits copies to one node into requests of at most COPY_REQUEST_BYTES_MAX (one larger block goes alone). */
function chunks(items: readonly Work[]): Work[][] {
  const out: Work[][] = [];
  let current: Work[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (bytes + item.bytes > COPY_REQUEST_BYTES_MAX || current.length >= COPY_REQUEST_BLOCKS_MAX)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}
const RATE_WINDOW_MS = 5_000;

/** What the driver reports to metrics; kept narrow so that the driver does not depend on prom-client. */
export interface RepairCounters {
  copied(bytes: number): void;
  dropped(): void;
  pending(blocks: number, bytes: number): void;
}

export interface RepairDriverOptions {
  readonly self: string;
  readonly store: BlockStore;
  readonly pool: ConnectionPool;
  /** The overlay's member records, self included. */
  readonly members: () => readonly Member[];
  readonly clock: Clock;
  readonly config: RepairConfig;
  readonly log: Logger;
  readonly counters?: RepairCounters;
  /** Quorum moves of mutable blocks; absent when this node has no CA-vouched signing key. */
  readonly mutable?: MutableRepair;
}

/** Bytes a quorum move is charged against the rate: a few small consensus messages. */
const QUORUM_MOVE_BYTES = 4096;

interface Work {
  readonly address: Address;
  readonly action: BlockAction;
  readonly bytes: number;
  /** How many nodes placement names: when this node copied to all of them, their acks prove durability. */
  readonly placedCount: number;
}

export class RepairDriver {
  readonly #options: RepairDriverOptions;
  readonly #rate: RateLimit;
  readonly #meter = new RateMeter(RATE_WINDOW_MS);
  #goneSince: GoneSince = new Map();
  #running = false;
  #stopped = false;
  /** Sleeps in progress (copies to several nodes throttle at once), ended early by stop(). */
  readonly #sleeping = new Map<number, () => void>();
  #passes = 0;
  #copiedBytesTotal = 0;
  /** Work found by the previous full walk, and found and done by the current one: the pending estimate. */
  #previous = { blocks: 0, bytes: 0 };
  #found = { blocks: 0, bytes: 0 };
  #done = { blocks: 0, bytes: 0 };
  /** Largest pending bytes since pending was last zero: what a progress bar counts down from. */
  #episodeBytes = 0;
  /** Mutable blocks whose quorum the last walk could not move yet. */
  #quorumMovesPending = 0;
  /**
   * Blocks whose every placed node said it holds them in the previous walk (hex). A `has` answer sees committed
   * writes, which may be a moment from durable; the same answer a whole walk later is, so a copy confirmed only by
   * `has` is dropped on the second walk that confirms it. Copies this node made itself were acknowledged durable.
   */
  #confirmedLastWalk = new Set<string>();
  #confirmedThisWalk = new Set<string>();
  /**
   * Blocks found missing on a placed node in the previous walk (hex). A block is copied only when it is still
   * missing a walk later: a client put in flight makes a block look missing for a moment, and repair must not race
   * it (client traffic first).
   */
  #missingLastWalk = new Set<string>();
  #missingThisWalk = new Set<string>();

  constructor(options: RepairDriverOptions) {
    this.#options = options;
    this.#rate = new RateLimit(options.config, options.clock.now());
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    for (const [timer, wake] of this.#sleeping) {
      this.#options.clock.clearTimer(timer);
      wake();
    }
    this.#sleeping.clear();
  }

  status(draining: boolean): RepairStatus {
    const usage = this.#options.store.usage();
    const content = this.#pending();
    const pending = { blocks: content.blocks + this.#quorumMovesPending, bytes: content.bytes };
    return {
      // The pending figures are an estimate from two walks; never more than what is held.
      heldBlocks: usage.blocks, heldBytes: usage.usedBytes, pendingBlocks: Math.min(pending.blocks, usage.blocks), pendingBytes: Math.min(pending.bytes, usage.usedBytes),
      bytesPerSecond: Math.round(this.#meter.bytesPerSecond(this.#options.clock.now())), copiedBytesTotal: this.#copiedBytesTotal,
      passes: this.#passes, episodeBytes: Math.max(this.#episodeBytes, pending.bytes), draining,
    };
  }

  #pending(): { blocks: number; bytes: number } {
    return {
      blocks: Math.max(0, Math.max(this.#previous.blocks, this.#found.blocks) - this.#done.blocks),
      bytes: Math.max(0, Math.max(this.#previous.bytes, this.#found.bytes) - this.#done.bytes),
    };
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#pass();
      } catch (err) {
        // A closed store or pool means the node is stopping; anything else is logged and the next walk retries.
        if (this.#stopped) return;
        this.#options.log.warn({ err: (err as Error).message }, 'repair.pass_failed');
      }
      await this.#sleep(this.#options.config.intervalMs);
    }
  }

  async #pass(): Promise<void> {
    const { store, config } = this.#options;
    this.#found = { blocks: 0, bytes: 0 };
    this.#done = { blocks: 0, bytes: 0 };
    this.#confirmedThisWalk = new Set();
    this.#missingThisWalk = new Set();
    let after: Address | undefined;
    for (;;) {
      if (this.#stopped) return;
      const addresses = store.listContent({ limit: config.batchBlocks, ...(after === undefined ? {} : { after }) });
      if (addresses.length === 0) break;
      after = addresses[addresses.length - 1];
      const work = await this.#plan(addresses);
      for (const item of work) {
        this.#found.blocks++;
        this.#found.bytes += item.bytes;
      }
      this.#report();
      const finished = await this.#carryOut(work);
      if (this.#stopped) return;
      for (const item of finished) {
        this.#done.blocks++;
        this.#done.bytes += item.bytes;
      }
      this.#report();
      // Yield between batches: client requests queued meanwhile are served first.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.#options.mutable) {
      const moves = await this.#options.mutable.pass(() => this.#view(), async () => {
        await this.#throttle(QUORUM_MOVE_BYTES);
        return !this.#stopped;
      });
      this.#quorumMovesPending = moves.pending;
    }
    this.#confirmedLastWalk = this.#confirmedThisWalk;
    this.#missingLastWalk = this.#missingThisWalk;
    this.#previous = { blocks: this.#found.blocks - this.#done.blocks, bytes: this.#found.bytes - this.#done.bytes };
    this.#found = { blocks: 0, bytes: 0 };
    this.#done = { blocks: 0, bytes: 0 };
    this.#passes++;
    this.#report();
  }

  #report(): void {
    const pending = this.#pending();
    this.#episodeBytes = pending.blocks === 0 ? 0 : Math.max(this.#episodeBytes, pending.bytes);
    this.#options.counters?.pending(pending.blocks, pending.bytes);
  }

  /** The members as they are now, and those placement counts (dead ones kept until --replace-after has passed). */
  #view(): MembershipView {
    const now = this.#options.clock.now();
    const members = this.#options.members();
    this.#goneSince = trackGone(this.#goneSince, members, now);
    const candidates = placementMembers(members, this.#goneSince, now, this.#options.config.replaceAfterMs);
    return { candidates, states: new Map(members.map((m) => [m.id, m])) };
  }

  /** Plans one batch: placement per block, one has-many request per placed node, then repair-plan's decision. */
  async #plan(addresses: readonly Address[]): Promise<Work[]> {
    const { self, config } = this.#options;
    const { candidates, states } = this.#view();
    // Each block keeps the copies its writer asked for; a block stored without a count gets the configured one.
    const placements = addresses.map((address) => placeForRepair(address, candidates, { replicas: this.#options.store.replicasOf(address) ?? config.replicas }, states));
    const asked = new Map<string, Address[]>();
    placements.forEach((placement, i) => {
      for (const id of placement.reachable) {
        if (id === self) continue;
        const list = asked.get(id) ?? [];
        list.push(addresses[i] as Address);
        asked.set(id, list);
      }
    });
    const answers = new Map<string, Map<string, boolean>>();
    await Promise.all([...asked].map(async ([id, list]) => {
      const member = states.get(id);
      if (!member) return;
      try {
        const reply = await this.#options.pool.request({ address: member.address, id }, OP.hasContent, { addresses: list }, { timeoutMs: REQUEST_TIMEOUT_MS });
        if (!Array.isArray(reply) || reply.length !== list.length) return;
        answers.set(id, new Map(list.map((address, i) => [addressHex(address), reply[i] === true])));
      } catch (err) {
        this.#options.log.debug({ node: id, err: (err as Error).message }, 'repair.has_failed');
      }
    }));
    const work: Work[] = [];
    placements.forEach((placement, i) => {
      const address = addresses[i] as Address;
      const key = addressHex(address);
      const action = planBlock(self, placement, (id) => answers.get(id)?.get(key));
      // A block this node is not placed on still has to leave it, even while it waits for the placed ones to copy.
      if (action.copyTo.length === 0 && !action.dropAfterCopies && placement.placed.includes(self)) return;
      const block = this.#options.store.getContent(address);
      if (block) work.push({ address, action, bytes: chargedBytes(block), placedCount: placement.placed.length });
    });
    return work;
  }

  /**
   * Carries out one batch's plan: copies grouped per target node into put-many requests (one frame and one flush on
   * the target for many blocks; targets in parallel), then drops the local copies allowed. Returns the items with
   * nothing left to do.
   */
  async #carryOut(work: readonly Work[]): Promise<Work[]> {
    const { store } = this.#options;
    const ready: { item: Work; key: string }[] = [];
    const finished: Work[] = [];
    for (const item of work) {
      const key = addressHex(item.address);
      if (item.action.copyTo.length > 0 && !this.#missingLastWalk.has(key)) {
        this.#missingThisWalk.add(key);
        continue;
      }
      if (store.hasContent(item.address)) ready.push({ item, key });
      else finished.push(item); // removed by its owner meanwhile
    }
    const copied = await this.#copyAll(ready.map((r) => r.item));
    for (const { item, key } of ready) {
      if (this.#stopped) break;
      const acks = copied.get(key) ?? 0;
      if (acks < item.action.copyTo.length) continue;
      if (!item.action.dropAfterCopies) {
        if (item.action.copyTo.length > 0) finished.push(item);
        continue;
      }
      // Copies this node made were acknowledged durable; copies seen only through `has` need a second walk's word.
      if (acks !== item.placedCount && !this.#confirmedLastWalk.has(key)) {
        this.#confirmedThisWalk.add(key);
        continue;
      }
      // Every placed node has the block durably: this copy is surplus.
      await store.removeContent(item.address);
      this.#options.counters?.dropped();
      finished.push(item);
    }
    return finished;
  }

  /** Puts each item on its copyTo nodes; returns, per block (hex), how many of them acknowledged it durable. */
  async #copyAll(items: readonly Work[]): Promise<Map<string, number>> {
    const byTarget = new Map<string, Work[]>();
    for (const item of items) {
      for (const id of item.action.copyTo) byTarget.set(id, [...(byTarget.get(id) ?? []), item]);
    }
    const acks = new Map<string, number>();
    const members = new Map(this.#options.members().map((m) => [m.id, m]));
    await Promise.all([...byTarget].map(async ([id, list]) => {
      const member = members.get(id);
      if (!member) return;
      for (const chunk of chunks(list)) {
        const bytes = chunk.reduce((sum, item) => sum + item.bytes, 0);
        await this.#throttle(bytes, chunk.length);
        if (this.#stopped) return;
        for (const key of await this.#putOn(member, chunk)) acks.set(key, (acks.get(key) ?? 0) + 1);
      }
    }));
    return acks;
  }

  /** One put-many request to one node; returns the blocks (hex) it stored. */
  async #putOn(member: Member, chunk: readonly Work[]): Promise<string[]> {
    const { store, log, pool, clock } = this.#options;
    const sent = chunk.flatMap((item) => {
      const block = store.getContent(item.address);
      return block ? [{ item, block, replicas: store.replicasOf(item.address) }] : [];
    });
    try {
      const outcomes = await pool.request({ address: member.address, id: member.id }, OP.putContent, {
        items: sent.map(({ item, block, replicas }) => ({ address: item.address, block, ...(replicas === undefined ? {} : { replicas }) })),
      }, { timeoutMs: REQUEST_TIMEOUT_MS });
      if (!Array.isArray(outcomes) || outcomes.length !== sent.length) return [];
      const stored: string[] = [];
      sent.forEach(({ item }, i) => {
        const outcome = outcomes[i] as { ok?: unknown; message?: unknown } | undefined;
        if (outcome?.ok !== true) {
          log.warn({ node: member.id, block: addressHex(item.address), reason: String(outcome?.message ?? 'bad reply') }, 'repair.copy_refused');
          return;
        }
        stored.push(addressHex(item.address));
        this.#copiedBytesTotal += item.bytes;
        this.#meter.record(item.bytes, clock.now());
        this.#options.counters?.copied(item.bytes);
      });
      return stored;
    } catch (err) {
      if (!isShoalError(err)) throw err;
      log.debug({ node: member.id, blocks: sent.length, err: err.message }, 'repair.copy_failed');
      return [];
    }
  }

  async #throttle(bytes: number, blocks = 1): Promise<void> {
    for (;;) {
      const waitMs = this.#rate.take(bytes, this.#options.clock.now(), blocks);
      if (waitMs === 0 || this.#stopped) return;
      await this.#sleep(waitMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#options.clock.setTimer(ms, () => {
        this.#sleeping.delete(timer);
        resolve();
      });
      this.#sleeping.set(timer, resolve);
    });
  }
}
