// N overlay cores on one SimClock and SimNetwork, with the nemesis helpers (crash, restart, partition, slow node)
// and the questions scenarios ask ("does every live node see X alive?"); events go to a ring buffer printed on failure.
import { Random } from '../../../storage-node/base/random.js';
import type { TimerId } from '../../../storage-node/base/clock.js';
import { snapshotMembers, type MemberSnapshot } from '../../../storage-node/overlay/member-table.js';
import type { Member, MemberState } from '../../../storage-node/overlay/membership.js';
import { validateOverlayConfig, type OverlayConfig } from '../../../storage-node/overlay/overlay-config.js';
import { createOverlayCore, type OverlayCore, type OverlayEffect, type OverlayInput } from '../../../storage-node/overlay/overlay-core.js';
import { SimClock } from './sim-clock.js';
import { SimNetwork, type SimNetworkOptions } from './sim-network.js';

/** The last `capacity` events, kept unformatted (cheap) and formatted only when a run fails. */
export class RingLog {
  readonly #entries: (readonly [number, string, string | (() => string)])[] = [];
  readonly #capacity: number;
  #next = 0;

  constructor(capacity = 4000) {
    this.#capacity = capacity;
  }

  /** A function is called only when the log is printed: most events are never looked at. */
  add(timeMs: number, node: string, event: string | (() => string)): void {
    if (this.#entries.length < this.#capacity) this.#entries.push([timeMs, node, event]);
    else this.#entries[this.#next] = [timeMs, node, event];
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** Oldest first. */
  dump(): string {
    const ordered = this.#entries.length < this.#capacity
      ? this.#entries : [...this.#entries.slice(this.#next), ...this.#entries.slice(0, this.#next)];
    return ordered.map(([t, node, event]) => `${(t / 1000).toFixed(3).padStart(9)}s ${node.padEnd(12)} ${typeof event === 'string' ? event : event()}`).join('\n');
  }
}

export interface SimNode {
  readonly index: number;
  readonly id: string;
  readonly address: string;
  core: OverlayCore;
  /** False once crashed or left. */
  up: boolean;
  timer: TimerId | undefined;
  /** How many times it was (re)started: each life gets its own random stream. */
  life: number;
}

export interface OverlayClusterOptions {
  readonly seed: string;
  /** Nodes that start knowing each other (a converged cluster). */
  readonly size: number;
  readonly config?: Partial<OverlayConfig>;
  readonly faults?: Partial<SimNetworkOptions>;
  readonly logCapacity?: number;
}

export type MemberChangedListener = (observer: SimNode, effect: Extract<OverlayEffect, { type: 'member-changed' }>) => void;

export class OverlayCluster {
  readonly seed: string;
  readonly clock = new SimClock();
  readonly random: Random;
  readonly network: SimNetwork;
  readonly log: RingLog;
  readonly config: OverlayConfig;
  readonly nodes: SimNode[] = [];
  readonly #byAddress = new Map<string, SimNode>();
  readonly #byId = new Map<string, SimNode>();
  readonly #listeners: MemberChangedListener[] = [];

  constructor(options: OverlayClusterOptions) {
    this.seed = options.seed;
    this.random = new Random(options.seed);
    this.config = validateOverlayConfig(options.config);
    this.network = new SimNetwork({ clock: this.clock, random: this.random.fork('network'), faults: options.faults ?? {} });
    this.log = new RingLog(options.logCapacity);
    const records = Array.from({ length: options.size }, (_, i) => memberRecord(i));
    const snapshot = snapshotMembers(records, this.config.syncBuckets);
    for (const record of records) this.#start(record, snapshot);
  }

  get nowMs(): number {
    return this.clock.now();
  }

  onMemberChanged(listener: MemberChangedListener): void {
    this.#listeners.push(listener);
  }

  node(address: string): SimNode {
    const node = this.#byAddress.get(address);
    if (node === undefined) throw new Error(`no simulated node at ${address}`);
    return node;
  }

  nodeById(id: string): SimNode | undefined {
    return this.#byId.get(id);
  }

  upNodes(): SimNode[] {
    return this.nodes.filter((n) => n.up);
  }

  /** A random node that is up, other than those excluded. */
  pickUp(random: Random, exclude: readonly SimNode[] = []): SimNode {
    return random.pick(this.nodes.filter((n) => n.up && !exclude.includes(n)));
  }

  /** A brand-new node that knows only `seed`'s address. */
  addNode(seed: SimNode): SimNode {
    const node = this.#start(memberRecord(this.nodes.length), undefined);
    this.#step(node, { type: 'join', seed: seed.address });
    return node;
  }

  crash(node: SimNode): void {
    this.log.add(this.nowMs, node.id, 'CRASH');
    this.#stop(node);
  }

  /** Starts a crashed node again with nothing remembered (incarnation 0, empty list), joining through `seed`. */
  restart(node: SimNode, seed: SimNode): void {
    if (node.up) this.#stop(node);
    node.life++;
    node.core = createOverlayCore({ self: memberRecord(node.index), random: this.#nodeRandom(node), config: this.config });
    node.up = true;
    this.network.attach(node.address, (from, message) => this.#receive(node, from, message));
    this.log.add(this.nowMs, node.id, `RESTART life ${node.life} via ${seed.id}`);
    this.#step(node, { type: 'join', seed: seed.address });
  }

  leave(node: SimNode): void {
    this.log.add(this.nowMs, node.id, 'LEAVE');
    this.#step(node, { type: 'leave' });
  }

  /** Sends a raw value to a node as if from `from`: for malformed-message tests. */
  inject(node: SimNode, from: string, value: unknown): void {
    this.network.send(from, node.address, value);
  }

  partition(minority: readonly SimNode[]): void {
    this.log.add(this.nowMs, '-', `PARTITION ${minority.length} nodes`);
    this.network.partition([minority.map((n) => n.address)]);
  }

  heal(): void {
    this.log.add(this.nowMs, '-', 'HEAL');
    this.network.heal();
  }

  runFor(durationMs: number): void {
    this.clock.runFor(durationMs);
  }

  /** Runs until `done()` holds (checked every pollMs of simulated time): the time it held, or undefined at the deadline. */
  runUntil(done: () => boolean, options: { timeoutMs: number; pollMs?: number }): number | undefined {
    const deadline = this.nowMs + options.timeoutMs;
    const pollMs = options.pollMs ?? 100;
    while (!done()) {
      if (this.nowMs >= deadline) return undefined;
      this.clock.runUntil(Math.min(deadline, this.nowMs + pollMs));
    }
    return this.nowMs;
  }

  /** Does every node that is up (optionally: among `observers`) hold `id` in one of `states`? */
  allSee(id: string, states: readonly MemberState[], observers: readonly SimNode[] = this.nodes): boolean {
    return observers.every((n) => !n.up || states.includes(n.core.member(id)?.state ?? ('unknown' as MemberState)));
  }

  /** How many up observers do not (yet) hold `id` in one of `states`. */
  countNotSeeing(id: string, states: readonly MemberState[], observers: readonly SimNode[] = this.nodes): number {
    return observers.filter((n) => n.up && !states.includes(n.core.member(id)?.state ?? ('unknown' as MemberState))).length;
  }

  #nodeRandom(node: SimNode): Random {
    return this.random.fork(`node/${node.id}/life-${node.life}`);
  }

  #start(self: Member, snapshot: MemberSnapshot | undefined): SimNode {
    const index = this.nodes.length;
    const node: SimNode = {
      index, id: self.id, address: self.address, up: true, timer: undefined, life: 0,
      core: undefined as unknown as OverlayCore,
    };
    node.core = createOverlayCore({ self, random: this.#nodeRandom(node), config: this.config, ...(snapshot ? { initialMembers: snapshot } : {}) });
    this.nodes.push(node);
    this.#byAddress.set(node.address, node);
    this.#byId.set(node.id, node);
    this.network.attach(node.address, (from, message) => this.#receive(node, from, message));
    this.#step(node, { type: 'tick' });
    return node;
  }

  #stop(node: SimNode): void {
    node.up = false;
    if (node.timer !== undefined) this.clock.clearTimer(node.timer);
    node.timer = undefined;
    this.network.detach(node.address);
  }

  #receive(node: SimNode, from: string, message: unknown): void {
    if (node.up) this.#step(node, { type: 'receive', from, message });
  }

  #step(node: SimNode, input: OverlayInput): void {
    const effects = node.core.step(input, this.nowMs);
    for (const effect of effects) this.#apply(node, effect);
  }

  #apply(node: SimNode, effect: OverlayEffect): void {
    switch (effect.type) {
      case 'send':
        this.network.send(node.address, effect.to, effect.message);
        return;
      case 'set-timer':
        if (node.timer !== undefined) this.clock.clearTimer(node.timer);
        node.timer = this.clock.setTimer(effect.atMs - this.nowMs, () => {
          node.timer = undefined;
          if (node.up) this.#step(node, { type: 'tick' });
        });
        return;
      case 'member-changed': {
        const { member, previous } = effect;
        if (previous?.state !== member.state) {
          this.log.add(this.nowMs, node.id, () => `sees ${member.id} ${previous?.state ?? 'new'} → ${member.state} @${member.incarnation}`);
        }
        for (const listener of this.#listeners) listener(node, effect);
        return;
      }
      case 'left':
        this.log.add(this.nowMs, node.id, 'LEFT (leave disseminated)');
        this.#stop(node);
        return;
      default:
        throw new Error(`unknown effect ${JSON.stringify(effect)}`);
    }
  }
}

/** Node i of a simulated cluster: ids and addresses that sort like their index; three zones, eight racks. */
export function memberRecord(index: number): Member {
  const name = String(index).padStart(5, '0');
  return {
    id: `node-${name}`, address: `sim-${name}:7000`, zone: `zone-${index % 3}`, rack: `rack-${index % 8}`,
    capacityBytes: 1_000_000_000_000, usedBytes: 0, state: 'alive', incarnation: 0,
  };
}
