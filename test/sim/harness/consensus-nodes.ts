// Simulated drivers for the consensus cores: an acceptor node with a durable/pending store, and a proposer node.
// They follow the production contract (effects.ts): persist, flush, and only then send what the step produced.
import { assert } from '../../../storage-node/base/assert.js';
import type { Random } from '../../../storage-node/base/random.js';
import { ZERO_BALLOT } from '../../../storage-node/consensus/ballot.js';
import { acceptorStep, type AcceptorBlockState, type AcceptorContext } from '../../../storage-node/consensus/acceptor.js';
import type { Outcome, SendEffect } from '../../../storage-node/consensus/effects.js';
import {
  isAcceptorRequest, parseConsensusMessage, type ConsensusMessage, type ValueParser, type Versioned,
} from '../../../storage-node/consensus/messages.js';
import {
  createProposer, proposerStep, type ClientOp, type ProposerConfig, type ProposerInput, type ProposerState,
} from '../../../storage-node/consensus/proposer.js';
import type { Quorum } from '../../../storage-node/consensus/quorum.js';
import type { TimerId } from '../../../storage-node/base/clock.js';
import type { SimClock } from './sim-clock.js';
import type { SimNetwork } from './sim-network.js';

/** What an acceptor loses in a crash, beyond the writes it had not flushed (the fault model, explicit). */
export type Amnesia = 'none' | 'promises' | 'everything';

export interface AcceptorNodeOptions {
  /** Time from a step's persist to the end of the flush (group commit): [min, max) ms. */
  readonly flushMsMin: number;
  readonly flushMsMax: number;
  /** A faulty disk for the checker-can-fail test; 'none' in every honest scenario. */
  readonly amnesia: Amnesia;
}

export type ChosenObserver<R> = (node: string, block: string, state: AcceptorBlockState<R>) => void;

/** Counts of what the nodes saw (message kinds, nack reasons, finishes), to show the rare paths were taken. */
export type Tally = Map<string, number>;

export function count(tally: Tally | undefined, key: string): void {
  if (tally !== undefined) tally.set(key, (tally.get(key) ?? 0) + 1);
}

export class SimAcceptorNode<R extends Versioned> {
  readonly id: string;
  up = true;
  #incarnation = 0;
  /** When the node last came back up (0: never crashed). */
  restartedAt = 0;
  readonly #durable = new Map<string, AcceptorBlockState<R>>();
  readonly #pending = new Map<string, AcceptorBlockState<R>>();
  #outbox: SendEffect<R>[] = [];
  #flushScheduled = false;
  steps = 0;

  constructor(
    private readonly ctx: AcceptorContext<R>,
    private readonly clock: SimClock,
    private readonly network: SimNetwork,
    private readonly random: Random,
    private readonly parseValue: ValueParser<R>,
    private readonly options: AcceptorNodeOptions,
    private readonly observe: ChosenObserver<R>,
    private readonly tally?: Tally,
  ) {
    this.id = ctx.self;
    network.attach(this.id, (from, raw) => this.#receive(from, raw));
  }

  /** The state the next step would see (pending writes included, as in the driver's cache). */
  stateOf(block: string): AcceptorBlockState<R> | undefined {
    return this.#pending.get(block) ?? this.#durable.get(block);
  }

  durableOf(block: string): AcceptorBlockState<R> | undefined {
    return this.#durable.get(block);
  }

  #receive(from: string, raw: unknown): void {
    if (!this.up) return;
    const message = parseConsensusMessage(raw, this.parseValue);
    if (message.from !== from || !isAcceptorRequest(message)) return; // spoofed or misrouted: the driver drops it
    this.steps++;
    count(this.tally, message.kind);
    // A value proposed under another proposer's ballot than the one it was first proposed at: a finish.
    if (message.kind === 'accept' && message.origin.proposer !== message.ballot.proposer) count(this.tally, 'finish');
    if (message.kind === 'accept' && message.previous?.value !== undefined) count(this.tally, 'catch-up');
    const block = message.block;
    const result = acceptorStep(this.ctx, this.stateOf(block), message);
    for (const effect of result.effects) {
      if (effect.kind === 'persist') {
        assert(effect.state === result.state, 'a persist carries the step state');
        this.#pending.set(effect.block, effect.state);
        this.observe(this.id, effect.block, effect.state);
      } else {
        this.#outbox.push(effect);
      }
    }
    if (this.#pending.size === 0) this.#release(); // nothing unflushed: the reply may go at once
    else this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    const incarnation = this.#incarnation;
    const { flushMsMin, flushMsMax } = this.options;
    this.clock.schedule(flushMsMin + this.random.float() * (flushMsMax - flushMsMin), () => {
      if (incarnation !== this.#incarnation) return; // crashed meanwhile: that flush never happened
      this.#flushScheduled = false;
      for (const [block, state] of this.#pending) this.#durable.set(block, state);
      this.#pending.clear();
      this.#release();
    });
  }

  #release(): void {
    const outbox = this.#outbox;
    this.#outbox = [];
    for (const effect of outbox) this.network.send(this.id, effect.to, effect.message);
  }

  /** Power loss: unflushed writes and unsent replies are gone (and more, with amnesia). */
  crash(): void {
    this.up = false;
    this.#incarnation++;
    this.#flushScheduled = false;
    this.#pending.clear();
    this.#outbox = [];
    if (this.options.amnesia === 'everything') this.#durable.clear();
    if (this.options.amnesia === 'promises') {
      for (const [block, state] of this.#durable) this.#durable.set(block, { ...state, promised: state.accepted?.ballot ?? ZERO_BALLOT });
    }
  }

  restart(): void {
    this.up = true;
    this.restartedAt = this.clock.now();
  }

  get incarnation(): number {
    return this.#incarnation;
  }
}

export type Completion<T> = (block: string, op: ClientOp<T>, outcome: Outcome<T>) => void;

/** A client process: one proposer state per block, fed by submits, replies and its timers. */
export class SimProposerNode<R extends Versioned, T> {
  readonly id: string;
  readonly #states = new Map<string, ProposerState<R, T>>();
  readonly #timers = new Map<string, TimerId>();
  readonly #ops = new Map<string | number, ClientOp<T>>();
  #stopped = false;

  constructor(
    private readonly config: ProposerConfig<R, T>,
    private readonly clock: SimClock,
    private readonly network: SimNetwork,
    private readonly random: Random,
    private readonly parseValue: ValueParser<R>,
    private readonly quorumOf: (block: string) => Quorum,
    private readonly onComplete: Completion<T>,
    private readonly tally?: Tally,
  ) {
    this.id = config.self;
    network.attach(this.id, (from, raw) => {
      const message: ConsensusMessage<R> = parseConsensusMessage(raw, this.parseValue);
      if (message.from !== from || isAcceptorRequest(message)) return;
      count(this.tally, message.kind === 'nack' ? `nack:${message.reason}` : message.kind);
      this.#step(message.block, { kind: 'message', message });
    });
  }

  submit(block: string, op: ClientOp<T>): void {
    this.#ops.set(op.id, op);
    this.#step(block, { kind: 'submit', op });
  }

  stateOf(block: string): ProposerState<R, T> | undefined {
    return this.#states.get(block);
  }

  /** The process died: its timers never fire, its ops never complete, nothing more is sent. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) this.clock.clearTimer(timer);
    this.#timers.clear();
  }

  #step(block: string, input: ProposerInput<R, T>): void {
    if (this.#stopped) return;
    let state = this.#states.get(block);
    if (state === undefined) {
      state = createProposer(this.config, block, this.quorumOf(block));
      this.#states.set(block, state);
    }
    const result = proposerStep(state, input, { now: this.clock.now(), random: this.random });
    for (const effect of result.effects) {
      switch (effect.kind) {
        case 'send':
          this.network.send(this.id, effect.to, effect.message);
          break;
        case 'set-timer': {
          const previous = this.#timers.get(block);
          if (previous !== undefined) this.clock.clearTimer(previous);
          const timer = effect.timer;
          this.#timers.set(block, this.clock.setTimer(effect.delayMs, () => this.#step(block, { kind: 'timeout', timer })));
          break;
        }
        case 'complete': {
          const op = this.#ops.get(effect.op);
          assert(op !== undefined, `completion of an op never submitted: ${String(effect.op)}`);
          this.#ops.delete(effect.op);
          this.onComplete(block, op, effect.outcome);
          break;
        }
      }
    }
  }
}
