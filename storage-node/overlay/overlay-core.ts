// One node's overlay as a pure, synchronous state machine: inputs (tick, message, join, leave, update-self) in, effects out.
//
// A driver (TLS in production, SimNetwork in tests) feeds it and carries out its effects: it sends each `send`,
// keeps one timer at the last `set-timer` (a new one replaces it) and calls step({type:'tick'}) when it fires,
// and reports `member-changed`. It must call step once (a tick) to start, and present as `from` the sender's
// advertised address, since replies go there.
import { unreachable } from '../base/assert.js';
import type { Random } from '../base/random.js';
import { FailureDetector, type DetectorAction } from './failure-detector.js';
import { AntiEntropy, pickPeers, retransmitLimit } from './gossip-plan.js';
import type { MemberSnapshot } from './member-table.js';
import { isGone, withState, type Member } from './membership.js';
import { validateOverlayConfig, type OverlayConfig } from './overlay-config.js';
import { fromTuple, parseOverlayMessage, toTuple, type OverlayMessage, type PingReqMessage, type RecordTuple, type SyncMessage, type SyncReplyMessage } from './overlay-messages.js';
import { OverlayState } from './overlay-state.js';

export type OverlayInput =
  | { readonly type: 'tick' }
  /** `message` is whatever the transport decoded: the core checks it and drops what is not an overlay message. */
  | { readonly type: 'receive'; readonly from: string; readonly message: unknown }
  | { readonly type: 'join'; readonly seed: string }
  | { readonly type: 'leave' }
  | { readonly type: 'update-self'; readonly usedBytes?: number; readonly capacityBytes?: number; readonly state?: 'alive' | 'draining' };

export type OverlayEffect =
  | { readonly type: 'send'; readonly to: string; readonly message: OverlayMessage }
  /** Call step({type:'tick'}) at atMs; replaces the previous request. */
  | { readonly type: 'set-timer'; readonly atMs: number }
  | { readonly type: 'member-changed'; readonly member: Member; readonly previous?: Member }
  /** The leave has been disseminated: the driver may stop; the core ignores further input. */
  | { readonly type: 'left' };

export interface OverlayStats {
  readonly received: number;
  /** Received values that were not overlay messages, or not for this node's digest size. */
  readonly dropped: number;
  readonly sent: number;
  readonly refutations: number;
  readonly suspicionsRaised: number;
  readonly deathsDeclared: number;
  /** Members this node holds suspect (each with a running timer). */
  readonly suspects: number;
  /** Lifeguard's local health, 0 (healthy) to 8: probe interval and timeout are multiplied by it plus one. */
  readonly localHealth: number;
}

export interface OverlayCore {
  step(input: OverlayInput, nowMs: number): OverlayEffect[];
  /** This node's own record, as it is gossiped. */
  readonly self: Member;
  readonly memberCount: number;
  /** Every known member, this node included, sorted by id (O(n log n): for status pages and placement refreshes). */
  members(): Member[];
  member(id: string): Member | undefined;
  /** When this node last received a message from (or an ack relayed for) the member, on the driver's clock. */
  lastHeardMs(id: string): number | undefined;
  stats(): OverlayStats;
}

export interface OverlayCoreOptions {
  readonly self: Member;
  readonly random: Random;
  readonly config?: Partial<OverlayConfig>;
  /** Members known before joining: a saved list after a restart, or a simulation's bootstrap (share one snapshot). */
  readonly initialMembers?: readonly Member[] | MemberSnapshot;
}

export function createOverlayCore(options: OverlayCoreOptions): OverlayCore {
  return new Core(options);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Core implements OverlayCore {
  readonly #config: OverlayConfig;
  readonly #random: Random;
  readonly #state: OverlayState;
  readonly #detector: FailureDetector;
  readonly #antiEntropy: AntiEntropy;
  readonly #stats: Mutable<Omit<OverlayStats, 'refutations' | 'suspects' | 'localHealth'>> = { received: 0, dropped: 0, sent: 0, suspicionsRaised: 0, deathsDeclared: 0 };
  #effects: OverlayEffect[] = [];
  #now = 0;
  #started = false;
  #stopped = false;
  #requestedWakeMs = Number.NaN;
  #nextGossipMs = Number.POSITIVE_INFINITY;
  #nextSyncMs = 0;
  #nextReconnectMs = 0;
  #nextStrangerPullMs = 0;
  #joinSeed: string | undefined;
  #nextJoinMs = 0;
  #leaveDeadlineMs: number | undefined;
  #refutationsSeen = 0;

  constructor(options: OverlayCoreOptions) {
    this.#config = validateOverlayConfig(options.config);
    this.#random = options.random;
    this.#detector = new FailureDetector(this.#config, options.random.fork('failure-detector'));
    this.#state = new OverlayState(this.#config, options.self, options.initialMembers ?? [], {
      onChanged: (record, previous) => this.#onChanged(record, previous),
      onQueued: () => {
        if (this.#nextGossipMs === Number.POSITIVE_INFINITY) this.#nextGossipMs = this.#now + this.#config.gossipIntervalMs;
      },
      onNotice: (record) => this.#send(record.address, { kind: 'gossip', src: this.self.id, updates: [toTuple(record)] }),
    });
    this.#antiEntropy = new AntiEntropy(this.#state.table, options.random.fork('anti-entropy'), this.#config.syncRecordsMax);
  }

  get self(): Member {
    return this.#state.self;
  }

  get memberCount(): number {
    return this.#state.table.size;
  }

  members(): Member[] {
    return this.#state.table.list();
  }

  member(id: string): Member | undefined {
    return this.#state.table.get(id);
  }

  lastHeardMs(id: string): number | undefined {
    return this.#state.table.lastHeardMs(id);
  }

  stats(): OverlayStats {
    return { ...this.#stats, refutations: this.#state.refutations, suspects: this.#detector.suspicionCount, localHealth: this.#detector.localHealth };
  }

  step(input: OverlayInput, nowMs: number): OverlayEffect[] {
    if (this.#stopped) return [];
    this.#now = nowMs;
    if (!this.#started) this.#start();
    switch (input.type) {
      case 'tick':
        this.#requestedWakeMs = Number.NaN; // the timer fired: whatever is next must be asked for again
        this.#runDue();
        break;
      case 'receive':
        this.#receive(input.from, input.message);
        break;
      case 'join':
        this.#joinSeed = input.seed;
        this.#sendJoin();
        break;
      case 'leave':
        this.#leave();
        break;
      case 'update-self':
        if (this.#leaveDeadlineMs === undefined) this.#state.updateSelf(input, nowMs);
        break;
      default:
        unreachable(input);
    }
    if (!this.#stopped) this.#scheduleWake();
    const effects = this.#effects;
    this.#effects = [];
    return effects;
  }

  #start(): void {
    this.#started = true;
    this.#detector.start(this.#now);
    this.#state.start(this.#now);
    this.#nextSyncMs = this.#now + 1 + this.#random.int(this.#config.syncIntervalMs);
    this.#nextReconnectMs = this.#now + this.#config.reconnectIntervalMs;
  }

  #onChanged(record: Member, previous: Member | undefined): void {
    if (record.id !== this.self.id) this.#detector.noteRecord(record, this.#now);
    else if (this.#state.refutations > this.#refutationsSeen) {
      this.#refutationsSeen = this.#state.refutations;
      this.#detector.noteRefuted();
    }
    this.#effects.push(previous === undefined ? { type: 'member-changed', member: record } : { type: 'member-changed', member: record, previous });
  }

  // ---- receiving -------------------------------------------------------------------------------------

  #receive(from: string, value: unknown): void {
    this.#stats.received++;
    const message = parseOverlayMessage(value);
    if (message === undefined || (message.kind !== 'join' && message.src === this.self.id)) {
      this.#stats.dropped++;
      return;
    }
    if (message.kind === 'join') return this.#onJoin(from, message.record);
    this.#state.table.heard(message.src, this.#now);
    const droppedBefore = this.#stats.dropped;
    this.#dispatch(from, message);
    const probedUs = message.kind === 'ping' || message.kind === 'ping-req' || message.kind === 'gossip';
    if (probedUs && this.#stats.dropped === droppedBefore && this.#state.table.get(message.src) === undefined) this.#pullFromStranger(from);
  }

  /**
   * A member that talks to us knows us while we do not know it: the news of its join passed us by (gossip
   * sends each record a bounded number of times). Rather than wait up to syncIntervalMs for a random
   * anti-entropy round, compare digests with it now, at most once per probe interval.
   */
  #pullFromStranger(from: string): void {
    if (this.#now < this.#nextStrangerPullMs) return;
    this.#nextStrangerPullMs = this.#now + this.#config.probeIntervalMs;
    this.#send(from, this.#antiEntropy.digest(this.self.id));
  }

  #dispatch(from: string, message: Exclude<OverlayMessage, { kind: 'join' }>): void {
    const state = this.#state;
    switch (message.kind) {
      case 'ping':
        state.learnTuples(message.updates, 'gossip', this.#now);
        // A ping meant for another id (whoever had this address before) gets no ack.
        if (message.target === this.self.id) this.#send(from, { kind: 'ack', src: this.self.id, seq: message.seq, updates: this.#updates(message.src) });
        return;
      case 'ack': {
        state.learnTuples(message.updates, 'gossip', this.#now);
        const outcome = this.#detector.onAck(message.seq, message.src);
        if (outcome?.type === 'relay') this.#send(outcome.requester, { kind: 'ack', src: message.src, seq: outcome.requesterSeq, updates: this.#updates(undefined) });
        return;
      }
      case 'ping-req':
        state.learnTuples(message.updates, 'gossip', this.#now);
        return this.#onPingReq(from, message);
      case 'gossip':
        return state.learnTuples(message.updates, 'gossip', this.#now);
      case 'sync':
        return this.#onSync(from, message);
      case 'sync-reply':
        return this.#onSyncReply(from, message);
      default:
        unreachable(message);
    }
  }

  #onPingReq(from: string, message: PingReqMessage): void {
    if (message.target === this.self.id) {
      this.#send(from, { kind: 'ack', src: this.self.id, seq: message.seq, updates: this.#updates(message.src) });
      return;
    }
    const seq = this.#detector.relay(from, message.seq, message.target, this.#now);
    if (seq !== undefined) this.#send(message.targetAddress, { kind: 'ping', src: this.self.id, seq, target: message.target, updates: this.#updates(message.target) });
  }

  #onSync(from: string, message: SyncMessage): void {
    if (message.hashes.length !== this.#state.table.bucketCount) {
      this.#stats.dropped++; // another digest size: syncBuckets must be the same on every node
      return;
    }
    const reply = this.#antiEntropy.answer(this.self.id, message);
    if (reply !== undefined) this.#send(from, reply);
  }

  #onSyncReply(from: string, message: SyncReplyMessage): void {
    const records = message.records.map(fromTuple);
    const sizeBefore = this.#state.table.size;
    for (const record of records) this.#state.learn(record, 'sync', this.#now);
    const { push, pullAgain } = this.#antiEntropy.afterReply(this.self.id, message, records, this.#state.table.size - sizeBefore);
    for (const reply of push) this.#send(from, reply);
    if (!pullAgain) return;
    this.#send(from, this.#antiEntropy.digest(this.self.id));
    // Until a reply says there is no more, a lost exchange is retried (with any member) after a probe timeout.
    this.#nextSyncMs = Math.min(this.#nextSyncMs, this.#now + this.#config.probeTimeoutMs);
  }

  /** A joiner knows only our address: take its record, and answer with what we hold of it (e.g. dead from a previous life, to refute) and the list. */
  #onJoin(from: string, tuple: RecordTuple): void {
    const record = fromTuple(tuple);
    if (record.id === this.self.id) {
      this.#stats.dropped++;
      return;
    }
    this.#state.learn(record, 'gossip', this.#now);
    this.#send(from, this.#antiEntropy.answerJoin(this.self.id, this.#state.table.get(record.id)));
  }

  // ---- timers ----------------------------------------------------------------------------------------

  #runDue(): void {
    const now = this.#now;
    if (this.#joinSeed !== undefined) {
      if (this.#state.table.size > 1) this.#joinSeed = undefined;
      else if (now >= this.#nextJoinMs) this.#sendJoin();
    }
    for (const action of this.#detector.due(now, this.#state.table, this.self.id)) this.#onDetector(action);
    if (now >= this.#nextGossipMs) this.#gossipRound();
    if (now >= this.#nextSyncMs) {
      this.#nextSyncMs = now + (this.#antiEntropy.catchingUp ? this.#config.probeTimeoutMs : this.#config.syncIntervalMs);
      this.#syncRound();
      this.#state.forgetGone(now);
    }
    if (now >= this.#nextReconnectMs) {
      this.#nextReconnectMs = now + this.#config.reconnectIntervalMs;
      this.#reconnect();
    }
    if (now >= this.#state.publishDueMs) this.#state.publishSelf({}, now);
    if (this.#leaveDeadlineMs !== undefined && (now >= this.#leaveDeadlineMs || !this.#state.queue.has(this.self.id))) {
      this.#effects.push({ type: 'left' });
      this.#stopped = true;
    }
  }

  #scheduleWake(): void {
    let wake = Math.min(this.#detector.nextWakeMs(), this.#nextGossipMs, this.#nextSyncMs, this.#state.publishDueMs);
    if (this.#state.goneCount > 0) wake = Math.min(wake, this.#nextReconnectMs);
    if (this.#joinSeed !== undefined) wake = Math.min(wake, this.#nextJoinMs);
    if (this.#leaveDeadlineMs !== undefined) wake = Math.min(wake, this.#leaveDeadlineMs);
    wake = Math.max(wake, this.#now);
    if (wake !== this.#requestedWakeMs) {
      this.#requestedWakeMs = wake;
      this.#effects.push({ type: 'set-timer', atMs: wake });
    }
  }

  #onDetector(action: DetectorAction): void {
    const self = this.self.id;
    switch (action.type) {
      case 'ping': {
        const { target, seq } = action;
        this.#send(target.address, { kind: 'ping', src: self, seq, target: target.id, updates: this.#updates(target.id) });
        return;
      }
      case 'ping-req': {
        const { target, seq } = action;
        const helpers = pickPeers(this.#state.table, this.#random, this.#config.indirectProbes, (m) => m.id !== self && m.id !== target.id && !isGone(m.state));
        for (const helper of helpers) {
          this.#send(helper.address, { kind: 'ping-req', src: self, seq, target: target.id, targetAddress: target.address, updates: this.#updates(helper.id) });
        }
        // And once more directly (memberlist's fallback probe does this over TCP): one more independent path,
        // which under loss cuts false suspicions about tenfold for one message.
        this.#send(target.address, { kind: 'ping', src: self, seq, target: target.id, updates: this.#updates(target.id) });
        return;
      }
      case 'probe-failed':
        return this.#suspect(action.target);
      case 'suspicion-expired': {
        const record = this.#state.table.get(action.id);
        if (record?.state !== 'suspect') return;
        this.#stats.deathsDeclared++;
        return this.#state.learn(withState(record, 'dead'), 'local', this.#now);
      }
      default:
        unreachable(action);
    }
  }

  /** SWIM §4.2: a failed probe makes the member suspect, not dead. */
  #suspect(probed: Member): void {
    const current = this.#state.table.get(probed.id);
    // A newer incarnation arrived while the probe was out: the member spoke recently, do not suspect it.
    if (current === undefined || current.incarnation !== probed.incarnation) return;
    if (current.state !== 'alive' && current.state !== 'draining') return;
    const suspect = withState(current, 'suspect');
    this.#stats.suspicionsRaised++;
    this.#state.learn(suspect, 'local', this.#now);
    // Tell the suspect at once, so that it refutes before the others' timers run out.
    this.#send(current.address, { kind: 'gossip', src: this.self.id, updates: [toTuple(suspect)] });
  }

  #gossipRound(): void {
    if (this.#state.queue.size === 0) {
      this.#nextGossipMs = Number.POSITIVE_INFINITY;
      return;
    }
    this.#nextGossipMs = this.#now + this.#config.gossipIntervalMs;
    const self = this.self.id;
    const peers = pickPeers(this.#state.table, this.#random, this.#config.fanout, (m) => m.id !== self && !isGone(m.state));
    if (peers.length === 0 && this.#leaveDeadlineMs !== undefined) this.#leaveDeadlineMs = this.#now; // no one to tell
    for (const peer of peers) {
      const updates = this.#updates(peer.id, this.#config.gossipRecordsMax);
      if (updates.length > 0) this.#send(peer.address, { kind: 'gossip', src: self, updates });
    }
  }

  #syncRound(): void {
    const self = this.self.id;
    const [peer] = pickPeers(this.#state.table, this.#random, 1, (m) => m.id !== self && !isGone(m.state));
    if (peer) this.#send(peer.address, this.#antiEntropy.digest(this.self.id));
  }

  /**
   * Serf's reconnect: dead members are pinged now and then, so that after a partition heals each side learns
   * it was declared dead and refutes. Each node tries with probability dead/alive, so each dead member is
   * tried about once per interval by the whole cluster, whatever its size.
   */
  #reconnect(): void {
    const dead = this.#state.deadIds();
    if (dead.length === 0) return;
    const alive = Math.max(1, this.#state.table.size - this.#state.goneCount);
    if (!this.#random.bool(Math.min(1, dead.length / alive))) return;
    const target = this.#state.table.get(this.#random.pick(dead));
    if (target !== undefined) this.#send(target.address, { kind: 'ping', src: this.self.id, seq: this.#detector.nextSeq(), target: target.id, updates: this.#updates(target.id) });
  }

  #leave(): void {
    if (this.#leaveDeadlineMs !== undefined) return;
    this.#state.publishSelf({ state: 'left' }, this.#now);
    this.#detector.stop();
    this.#joinSeed = undefined;
    const rounds = 2 * retransmitLimit(this.#config.retransmitMult, this.#state.table.size);
    this.#leaveDeadlineMs = this.#now + rounds * this.#config.gossipIntervalMs;
    this.#gossipRound();
  }

  #sendJoin(): void {
    if (this.#joinSeed === undefined) return;
    this.#nextJoinMs = this.#now + this.#config.joinRetryMs;
    this.#send(this.#joinSeed, { kind: 'join', record: toTuple(this.self) });
  }

  #updates(recipient: string | undefined, max = this.#config.piggybackMax): RecordTuple[] {
    return this.#state.updates(recipient, max);
  }

  #send(to: string, message: OverlayMessage): void {
    this.#stats.sent++;
    this.#effects.push({ type: 'send', to, message });
  }
}
