// SWIM failure detection as a pure state machine: whom to probe, when a probe turns indirect, when it fails, and suspicion timers.
//
// SWIM (Das, Gupta, Motivala 2002): each protocol period (probeIntervalMs) a node pings one member (§3.1);
// without an ack within probeTimeoutMs it asks `indirectProbes` others to ping it (ping-req); without any ack
// by the end of the period the member becomes *suspect*, not dead (§4.2), and is declared dead only if it
// does not refute within suspectTimeoutMs. Targets are taken in a random round-robin order (§4.3), so every
// member is probed by every node once per pass: detection time is bounded, not only expected.
// Lifeguard's Local Health Aware Probe (Dadgar et al. 2018) is added: a node whose own probes keep failing
// (it is overloaded, or on the small side of a partition) is more likely the problem than its targets, so it
// probes more slowly and waits longer, instead of filling the cluster with suspicions of healthy members.
// This class decides; overlay-core turns its actions into messages and record changes.
import type { Random } from '../base/random.js';
import type { OverlayConfig } from './overlay-config.js';
import type { MemberTable } from './member-table.js';
import { isGone, type Member } from './membership.js';

export type DetectorAction =
  | { readonly type: 'ping'; readonly target: Member; readonly seq: number }
  | { readonly type: 'ping-req'; readonly target: Member; readonly seq: number }
  /** No ack by the end of the period: suspect `target` (the record as it was when the probe started). */
  | { readonly type: 'probe-failed'; readonly target: Member }
  /** A suspicion ran out: declare the member dead if it is still suspect. */
  | { readonly type: 'suspicion-expired'; readonly id: string };

export type AckOutcome =
  | { readonly type: 'probe-ok' }
  /** We were a ping-req helper: forward the ack to the requester under its sequence number. */
  | { readonly type: 'relay'; readonly requester: string; readonly requesterSeq: number };

interface Probe {
  readonly target: Member;
  readonly seq: number;
  readonly sentMs: number;
  readonly timeoutMs: number;
  readonly periodEndMs: number;
  indirectSent: boolean;
  acked: boolean;
}

interface Relay {
  readonly requester: string;
  readonly requesterSeq: number;
  readonly target: string;
  readonly expiresMs: number;
}

/** A random permutation of slots, as slot = (a·i + b) mod n with gcd(a, n) = 1: no per-member memory. */
interface Pass {
  readonly a: number;
  readonly b: number;
  readonly n: number;
  i: number;
}

/** Relays outstanding at once: a flood of ping-reqs is dropped rather than remembered. */
const RELAYS_MAX = 1024;

/** Lifeguard's saturating local-health counter: probe interval and timeout are multiplied by (health + 1). */
export const LOCAL_HEALTH_MAX = 8;

const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));

type DetectorConfig = Pick<OverlayConfig, 'probeIntervalMs' | 'probeTimeoutMs' | 'suspectTimeoutMs'>;

export class FailureDetector {
  readonly #config: DetectorConfig;
  readonly #random: Random;
  #seq: number;
  #probing = true;
  #nextProbeMs: number;
  #probe: Probe | undefined;
  #pass: Pass = { a: 1, b: 0, n: 0, i: 0 };
  readonly #relays = new Map<number, Relay>();
  readonly #suspicions = new Map<string, number>();
  #nextSuspicionMs = Number.POSITIVE_INFINITY;
  /** 0 when healthy; up by one per failed probe or refuted suspicion, down by one per successful probe. */
  #health = 0;

  constructor(config: DetectorConfig, random: Random) {
    this.#config = config;
    this.#random = random;
    // A random start, so that a restarted node's old acks do not match its new probes.
    this.#seq = random.int(2 ** 30);
    this.#nextProbeMs = Number.POSITIVE_INFINITY;
  }

  /** The first period starts at a random phase, so that nodes started together do not probe in lockstep. */
  start(nowMs: number): void {
    this.#nextProbeMs = nowMs + this.#random.int(this.#config.probeIntervalMs);
  }

  nextSeq(): number {
    this.#seq = (this.#seq + 1) % Number.MAX_SAFE_INTEGER;
    return this.#seq;
  }

  /** After a graceful leave: no more probes and no more suspicions of others. */
  stop(): void {
    this.#probing = false;
    this.#probe = undefined;
    this.#suspicions.clear();
    this.#nextSuspicionMs = Number.POSITIVE_INFINITY;
  }

  get suspicionCount(): number {
    return this.#suspicions.size;
  }

  get localHealth(): number {
    return this.#health;
  }

  /** Having to refute a suspicion of ourselves is a sign that we are the slow one (Lifeguard). */
  noteRefuted(): void {
    this.#health = Math.min(LOCAL_HEALTH_MAX, this.#health + 1);
  }

  #scaled(ms: number): number {
    return ms * (this.#health + 1);
  }

  /** Whatever is due at `nowMs`, in order: the current probe's timeouts, the next probe, expired suspicions. */
  due(nowMs: number, table: MemberTable, selfId: string): DetectorAction[] {
    const actions: DetectorAction[] = [];
    const probe = this.#probe;
    if (probe !== undefined) {
      if (!probe.acked && !probe.indirectSent && nowMs >= probe.sentMs + probe.timeoutMs) {
        probe.indirectSent = true;
        if (nowMs < probe.periodEndMs) actions.push({ type: 'ping-req', target: probe.target, seq: probe.seq });
      }
      if (nowMs >= probe.periodEndMs) {
        if (probe.acked) {
          this.#health = Math.max(0, this.#health - 1);
        } else {
          this.#health = Math.min(LOCAL_HEALTH_MAX, this.#health + 1);
          actions.push({ type: 'probe-failed', target: probe.target });
        }
        this.#probe = undefined;
      }
    }
    if (this.#probing && nowMs >= this.#nextProbeMs) {
      // From now, not from the schedule: a late tick must not start a period before the last one ended.
      const periodMs = this.#scaled(this.#config.probeIntervalMs);
      this.#nextProbeMs = nowMs + periodMs;
      const target = this.#nextTarget(table, selfId);
      if (target !== undefined && this.#probe === undefined) {
        const seq = this.nextSeq();
        const timeoutMs = this.#scaled(this.#config.probeTimeoutMs);
        this.#probe = { target, seq, sentMs: nowMs, timeoutMs, periodEndMs: nowMs + periodMs, indirectSent: false, acked: false };
        actions.push({ type: 'ping', target, seq });
      }
    }
    if (nowMs >= this.#nextSuspicionMs) this.#expireSuspicions(nowMs, actions);
    if (this.#relays.size > RELAYS_MAX / 2) this.#expireRelays(nowMs);
    return actions;
  }

  nextWakeMs(): number {
    let wake = this.#nextSuspicionMs;
    if (this.#probing) wake = Math.min(wake, this.#nextProbeMs);
    const probe = this.#probe;
    if (probe !== undefined) wake = Math.min(wake, probe.acked || probe.indirectSent ? probe.periodEndMs : probe.sentMs + probe.timeoutMs);
    return wake;
  }

  /** An ack for `seq` from member `src`: our probe succeeded, or we relay it, or it is stale (undefined). */
  onAck(seq: number, src: string): AckOutcome | undefined {
    const probe = this.#probe;
    if (probe !== undefined && probe.seq === seq && probe.target.id === src) {
      probe.acked = true;
      return { type: 'probe-ok' };
    }
    const relay = this.#relays.get(seq);
    if (relay === undefined || relay.target !== src) return undefined;
    this.#relays.delete(seq);
    return { type: 'relay', requester: relay.requester, requesterSeq: relay.requesterSeq };
  }

  /** We are asked to probe `target` for `requester`: the sequence number to ping it with, or undefined when full. */
  relay(requester: string, requesterSeq: number, target: string, nowMs: number): number | undefined {
    if (this.#relays.size >= RELAYS_MAX) this.#expireRelays(nowMs);
    if (this.#relays.size >= RELAYS_MAX) return undefined;
    const seq = this.nextSeq();
    this.#relays.set(seq, { requester, requesterSeq, target, expiresMs: nowMs + this.#config.probeIntervalMs });
    return seq;
  }

  /** Keeps suspicion timers in step with the records: each node times a suspicion from when it learns it (SWIM §4.2). */
  noteRecord(record: Member, nowMs: number): void {
    if (record.state === 'suspect' && this.#probing) {
      const deadlineMs = nowMs + this.#config.suspectTimeoutMs;
      this.#suspicions.set(record.id, deadlineMs);
      this.#nextSuspicionMs = Math.min(this.#nextSuspicionMs, deadlineMs);
    } else {
      this.#suspicions.delete(record.id); // the earliest deadline is recomputed lazily when it comes
    }
  }

  #expireSuspicions(nowMs: number, actions: DetectorAction[]): void {
    let next = Number.POSITIVE_INFINITY;
    for (const [id, deadlineMs] of this.#suspicions) {
      if (deadlineMs <= nowMs) {
        this.#suspicions.delete(id);
        actions.push({ type: 'suspicion-expired', id });
      } else {
        next = Math.min(next, deadlineMs);
      }
    }
    this.#nextSuspicionMs = next;
  }

  #expireRelays(nowMs: number): void {
    for (const [seq, relay] of this.#relays) if (relay.expiresMs <= nowMs) this.#relays.delete(seq);
  }

  /** The next member of the current pass that can be probed; a new pass when this one ends or the table changed size. */
  #nextTarget(table: MemberTable, selfId: string): Member | undefined {
    const n = table.size;
    for (let tries = 0; tries < n; tries++) {
      if (this.#pass.i >= this.#pass.n || this.#pass.n !== n) this.#pass = this.#newPass(n);
      const pass = this.#pass;
      const member = table.at((pass.a * pass.i + pass.b) % n);
      pass.i++;
      if (member !== undefined && member.id !== selfId && !isGone(member.state)) return member;
    }
    return undefined;
  }

  #newPass(n: number): Pass {
    let a = 1;
    for (let attempt = 0; attempt < 32 && n > 2; attempt++) {
      const candidate = 1 + this.#random.int(n - 1);
      if (gcd(candidate, n) === 1) {
        a = candidate;
        break;
      }
    }
    return { a, b: this.#random.int(Math.max(1, n)), n, i: 0 };
  }
}
