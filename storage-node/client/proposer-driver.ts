// Runs the pure Paxos proposers of a client (one per block) over the wire: their sends to one node are gathered
// into one request per turn (many blocks, one frame, one group commit on the node), replies are fed back, timers
// are real, and each completion settles the caller's promise.
import type { Logger } from '../base/log.js';
import type { Random } from '../base/random.js';
import { parseVersionRecord, type VersionRecord } from '../blocks/version-record.js';
import type { Outcome } from '../consensus/effects.js';
import { isAcceptorRequest, parseConsensusMessage, type AcceptorRequest } from '../consensus/messages.js';
import { createProposer, proposerIdle, proposerStep, type ClientOp, type ProposerConfig, type ProposerInput, type ProposerState } from '../consensus/proposer.js';
import type { Quorum } from '../consensus/quorum.js';
import type { Member } from '../overlay/membership.js';
import type { ConnectionPool } from '../wire/connection-pool.js';
import { OP } from '../wire/operations.js';

type R = VersionRecord;

/** Idle proposers beyond this are dropped (they only cache the last known version and the leader ballot). */
const PROPOSERS_IDLE_MAX = 10_000;
const CONSENSUS_REQUEST_TIMEOUT_MS = 10_000;

interface BlockProposer<T> {
  state: ProposerState<R, T>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface ProposerDriverOptions {
  readonly pool: ConnectionPool;
  /** The live member list: node ids in quorums are looked up here for their address. */
  readonly members: () => readonly Member[];
  readonly random: Random;
  readonly now: () => number;
  readonly log: Logger;
}

export class ProposerDriver {
  readonly #options: ProposerDriverOptions;
  readonly #proposers = new Map<string, BlockProposer<unknown>>();
  readonly #waiting = new Map<string | number, (outcome: Outcome<unknown>) => void>();
  #outbox = new Map<string, AcceptorRequest<R>[]>();
  #flushScheduled = false;
  #nextOpId = 1;
  /** The highest round any dropped proposer state reached: a state made again starts above it. */
  #droppedRound = 0;
  /** Above every read id a dropped state used: a late reply to one of its reads must not match a new state's read. */
  #droppedReadId = 1;
  #closed = false;

  constructor(options: ProposerDriverOptions) {
    this.#options = options;
  }

  /**
   * Runs one op on `block`; `quorum` gives placement's answer, used until the block's own state says otherwise. It is
   * asked only when this driver holds no proposer for the block: placement hashes every member, and a hot block's
   * updates would pay for it each.
   */
  submit<T>(block: string, config: ProposerConfig<R, T>, quorum: () => Quorum, op: DistributiveOmit<ClientOp<T>, 'id'>): Promise<Outcome<T>> {
    const id = this.#nextOpId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve as (outcome: Outcome<unknown>) => void);
      let proposer = this.#proposers.get(block) as BlockProposer<T> | undefined;
      if (proposer === undefined) {
        proposer = { state: createProposer(config, block, quorum(), { round: this.#droppedRound, proposer: '' }, this.#droppedReadId), timer: undefined };
        this.#proposers.set(block, proposer as BlockProposer<unknown>);
      }
      this.#step(block, { kind: 'submit', op: { ...op, id } as ClientOp<unknown> });
    });
  }

  close(): void {
    this.#closed = true;
    for (const proposer of this.#proposers.values()) if (proposer.timer !== undefined) clearTimeout(proposer.timer);
  }

  #step(block: string, input: ProposerInput<R, unknown>): void {
    const proposer = this.#proposers.get(block);
    if (proposer === undefined || this.#closed) return;
    const random = this.#options.random;
    const { effects } = proposerStep(proposer.state, input, { now: this.#options.now(), random });
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send':
          if (isAcceptorRequest(effect.message)) this.#enqueue(effect.to, effect.message);
          break;
        case 'set-timer': {
          if (proposer.timer !== undefined) clearTimeout(proposer.timer);
          const timer = effect.timer;
          proposer.timer = setTimeout(() => {
            proposer.timer = undefined;
            this.#step(block, { kind: 'timeout', timer });
          }, effect.delayMs);
          break;
        }
        case 'complete': {
          const resolve = this.#waiting.get(effect.op);
          this.#waiting.delete(effect.op);
          resolve?.(effect.outcome);
          break;
        }
      }
    }
    if (this.#proposers.size > PROPOSERS_IDLE_MAX && proposerIdle(proposer.state)) this.#evictIdle();
  }

  #enqueue(to: string, message: AcceptorRequest<R>): void {
    if (this.#closed) return;
    const queue = this.#outbox.get(to);
    if (queue) queue.push(message);
    else this.#outbox.set(to, [message]);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const outbox = this.#outbox;
    this.#outbox = new Map();
    const members = new Map(this.#options.members().map((m) => [m.id, m]));
    for (const [to, messages] of outbox) {
      const member = members.get(to);
      // A quorum member we do not know of (yet, or any more): the proposer resends, or moves on without it.
      if (member === undefined) continue;
      this.#options.pool.request({ address: member.address, id: member.id }, OP.consensus, { messages }, { timeoutMs: CONSENSUS_REQUEST_TIMEOUT_MS }).then(
        (reply) => this.#receive(to, reply),
        (err: unknown) => this.#options.log.debug({ node: to, err: (err as Error).message }, 'consensus.send_failed'),
      );
    }
  }

  #receive(from: string, reply: unknown): void {
    const messages = (reply as { messages?: unknown } | null)?.messages;
    if (!Array.isArray(messages)) return;
    for (const raw of messages) {
      let message;
      try {
        message = parseConsensusMessage(raw, parseVersionRecord);
      } catch {
        continue;
      }
      if (isAcceptorRequest(message) || message.from !== from) continue;
      this.#step(message.block, { kind: 'message', message });
    }
  }

  #evictIdle(): void {
    for (const [block, proposer] of this.#proposers) {
      if (this.#proposers.size <= PROPOSERS_IDLE_MAX / 2) break;
      if (proposerIdle(proposer.state) && proposer.timer === undefined) {
        // Its ballots must not come back: every one it used is at or below `highest` (or its leader ballot).
        this.#droppedRound = Math.max(this.#droppedRound, proposer.state.highest.round, proposer.state.leader?.ballot.round ?? 0);
        this.#droppedReadId = Math.max(this.#droppedReadId, proposer.state.reads.nextId);
        this.#proposers.delete(block);
      }
    }
  }
}

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;
