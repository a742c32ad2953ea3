// Repair's quorum movers in the consensus simulation: a proposer on every acceptor's host that, like
// server/repair/mutable-repair.ts, reads the quorum from its own acceptor's state and proposes a node-signed version
// moving the block one member closer to where it "should" be (off a member that is down, else onto a random one).
// A mover dies with its host and comes back with a new proposer id and no memory, as a restarted node's does.
import type { Random } from '../../../storage-node/base/random.js';
import type { Outcome } from '../../../storage-node/consensus/effects.js';
import type { ProposerTiming } from '../../../storage-node/consensus/proposer.js';
import { majority } from '../../../storage-node/consensus/quorum.js';
import { count, SimProposerNode, type SimAcceptorNode, type Tally } from './consensus-nodes.js';
import type { SimClock } from './sim-clock.js';
import type { SimNetwork } from './sim-network.js';
import { parseSimRecord, simMoverCodec, type SimRecord } from './sim-record.js';

export interface MoverOptions {
  /** Mean time between one host's move attempts. */
  readonly everyMs: number;
  /** How long a restarted acceptor refuses node-signed versions (until the signing keys are announced again). */
  readonly distrustMs: number;
  /** Share of attempts that follow repair's rule "the smallest live member proposes"; the rest ignore it, as hosts with stale membership views would. */
  readonly orderlyRatio: number;
  readonly timeoutMs: number;
}

export interface MoverContext {
  readonly clock: SimClock;
  readonly network: SimNetwork;
  readonly random: Random;
  readonly timing: Partial<ProposerTiming>;
  readonly tally: Tally;
  readonly blocks: readonly string[];
}

/** Starts one mover per acceptor; the returned function stops them all. */
export function startMovers(cx: MoverContext, options: MoverOptions, acceptors: readonly SimAcceptorNode<SimRecord>[]): () => void {
  let stopped = false;
  const hosts = acceptors.map((acceptor) => new MoverHost(cx, options, acceptor, acceptors));
  const loop = (host: MoverHost): void => {
    cx.clock.schedule(options.everyMs * (0.5 + cx.random.float()), () => {
      if (stopped) return;
      host.attempt();
      loop(host);
    });
  };
  hosts.forEach(loop);
  return () => {
    stopped = true;
    for (const host of hosts) host.stop();
  };
}

class MoverHost {
  readonly #id: string;
  #proposer: SimProposerNode<SimRecord, number> | undefined;
  #incarnation = -1;
  #nextOp = 1;

  constructor(
    private readonly cx: MoverContext,
    private readonly options: MoverOptions,
    private readonly acceptor: SimAcceptorNode<SimRecord>,
    private readonly all: readonly SimAcceptorNode<SimRecord>[],
  ) {
    this.#id = `${acceptor.id}~repair`;
    cx.network.colocate(this.#id, acceptor.id);
  }

  attempt(): void {
    const { cx, acceptor } = this;
    if (!acceptor.up) {
      this.stop();
      return;
    }
    const block = cx.random.pick(cx.blocks);
    const quorum = acceptor.stateOf(block)?.chosen?.value.quorum;
    if (quorum === undefined || !quorum.includes(acceptor.id)) return;
    const isUp = (id: string): boolean => this.all.find((a) => a.id === id)?.up ?? false;
    const live = quorum.filter(isUp).sort();
    if (live.length < majority(quorum)) return;
    if (cx.random.bool(this.options.orderlyRatio) && live[0] !== acceptor.id) return;
    const removed = quorum.find((id) => !isUp(id)) ?? cx.random.pick(quorum);
    const outside = this.all.map((a) => a.id).filter((id) => !quorum.includes(id));
    if (outside.length === 0) return;
    const added = cx.random.pick(outside.filter(isUp).length > 0 ? outside.filter(isUp) : outside);
    const next = [...quorum.filter((id) => id !== removed), added].sort();
    count(cx.tally, 'move');
    this.#proposerNow().submit(block, { kind: 'reconfigure', id: `move-${this.#nextOp++}`, quorum: next, from: quorum, timeoutMs: this.options.timeoutMs });
  }

  stop(): void {
    this.#proposer?.stop();
    this.#proposer = undefined;
  }

  /** The mover of the host's current life: a new one (new proposer id, no state) after every restart. */
  #proposerNow(): SimProposerNode<SimRecord, number> {
    const { cx, acceptor } = this;
    if (this.#proposer === undefined || this.#incarnation !== acceptor.incarnation) {
      this.#proposer?.stop();
      this.#incarnation = acceptor.incarnation;
      this.#proposer = new SimProposerNode<SimRecord, number>(
        { self: this.#id, proposerId: `${this.#id}#${acceptor.incarnation}`, codec: simMoverCodec, timing: cx.timing },
        cx.clock, cx.network, cx.random.fork(`${this.#id}#${acceptor.incarnation}`), parseSimRecord,
        (block) => acceptor.stateOf(block)?.chosen?.value.quorum ?? [acceptor.id],
        (_block, _op, outcome: Outcome<number>) => count(cx.tally, `move:${outcome.status}`), cx.tally);
    }
    return this.#proposer;
  }
}
