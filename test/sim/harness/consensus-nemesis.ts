// Faults for the consensus simulation: acceptor crashes with restarts, and network partitions that heal.
import type { Random } from '../../../storage-node/base/random.js';
import type { Versioned } from '../../../storage-node/consensus/messages.js';
import type { SimAcceptorNode } from './consensus-nodes.js';
import type { SimClock } from './sim-clock.js';
import type { SimNetwork } from './sim-network.js';

export interface NemesisOptions {
  /** Mean time between crashes (0: none). */
  readonly crashEveryMs: number;
  readonly downMsMax: number;
  /** Acceptors down at once: at most f keeps every majority reachable (liveness); beyond it only safety is checked. */
  readonly downMax: number;
  /** Mean time between partitions (0: none). */
  readonly partitionEveryMs: number;
  readonly partitionMsMax: number;
}

export const NO_FAULTS: NemesisOptions = { crashEveryMs: 0, downMsMax: 0, downMax: 0, partitionEveryMs: 0, partitionMsMax: 0 };

export class Nemesis<R extends Versioned> {
  #stopped = false;
  crashes = 0;
  partitions = 0;

  constructor(
    private readonly options: NemesisOptions,
    private readonly clock: SimClock,
    private readonly network: SimNetwork,
    private readonly random: Random,
    private readonly acceptors: readonly SimAcceptorNode<R>[],
    /** Every node id (acceptors and clients): partitions split these. */
    private readonly nodes: readonly string[],
  ) {}

  start(): void {
    if (this.options.crashEveryMs > 0) this.#next(this.options.crashEveryMs, () => this.#crash());
    if (this.options.partitionEveryMs > 0) this.#next(this.options.partitionEveryMs, () => this.#partition());
  }

  /** No more faults: heal the network and bring every acceptor back (with what it had flushed). */
  stop(): void {
    this.#stopped = true;
    this.network.heal();
    for (const node of this.acceptors) if (!node.up) node.restart();
  }

  #next(meanMs: number, action: () => void): void {
    this.clock.schedule(meanMs * (0.5 + this.random.float()), () => {
      if (this.#stopped) return;
      action();
      this.#next(meanMs, action);
    });
  }

  #crash(): void {
    const up = this.acceptors.filter((node) => node.up);
    if (this.acceptors.length - up.length >= this.options.downMax || up.length === 0) return;
    const node = this.random.pick(up);
    node.crash(); // (the node drops whatever reaches it while down)
    this.crashes++;
    this.clock.schedule(1 + this.random.float() * this.options.downMsMax, () => {
      if (!this.#stopped && !node.up) node.restart();
    });
  }

  #partition(): void {
    const shuffled = this.random.shuffle([...this.nodes]);
    const cut = 1 + this.random.int(shuffled.length - 1);
    this.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    this.partitions++;
    this.clock.schedule(1 + this.random.float() * this.options.partitionMsMax, () => {
      if (!this.#stopped) this.network.heal();
    });
  }
}
