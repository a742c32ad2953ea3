// One seeded run of the consensus simulation: acceptors, proposers with their clients, faults, a history, final reads.
// Everything is drawn from the seed, so SHOAL_SEED replays a run event for event.
import { ShoalError } from '../../../storage-node/base/errors.js';
import { Random } from '../../../storage-node/base/random.js';
import { ballotText } from '../../../storage-node/consensus/ballot.js';
import type { AcceptorBlockState } from '../../../storage-node/consensus/acceptor.js';
import type { Outcome } from '../../../storage-node/consensus/effects.js';
import type { ClientOp, ProposerConfig, ProposerTiming } from '../../../storage-node/consensus/proposer.js';
import type { Quorum } from '../../../storage-node/consensus/quorum.js';
import { SimAcceptorNode, SimProposerNode, type Amnesia, type Tally } from './consensus-nodes.js';
import { startMovers, type MoverOptions } from './consensus-movers.js';
import { Nemesis, type NemesisOptions } from './consensus-nemesis.js';
import { History, type BlockModel, type OpRecord } from './op-history.js';
import { SimClock } from './sim-clock.js';
import { SimNetwork, type SimNetworkOptions, type SimNetworkStats } from './sim-network.js';
import { parseSimRecord, simCodec, trustingValidator, validateSimRecord, type SimRecord } from './sim-record.js';

export interface ScenarioOptions {
  readonly seed: string;
  readonly acceptors: readonly string[];
  readonly proposers: number;
  readonly clientsPerProposer: number;
  readonly registers: number;
  readonly counters: number;
  readonly opsPerClient: number;
  readonly thinkMsMax: number;
  readonly network: Partial<SimNetworkOptions>;
  readonly nemesis: NemesisOptions;
  /** Every block's first quorum. */
  readonly quorum: Quorum;
  readonly timing?: Partial<ProposerTiming>;
  readonly phaseSizes?: ProposerConfig<SimRecord, number>['phaseSizes'];
  readonly amnesia?: Amnesia;
  readonly reconfigurations?: readonly { readonly atMs: number; readonly block: string; readonly quorum: Quorum }[];
  /** Repair's quorum movers on every acceptor's host, and acceptors that distrust node keys after a restart. */
  readonly movers?: MoverOptions;
  /** The clients' proposers send accepts to a majority first (ProposerConfig.thrifty). */
  readonly thrifty?: boolean;
  readonly simMsMax?: number;
}

export interface ScenarioResult {
  readonly history: History;
  readonly finals: readonly OpRecord[];
  /** Two different values chosen for one version anywhere: Paxos itself broken (the checker must see it too). */
  readonly agreement: readonly string[];
  /** Every version chosen anywhere, `block@version` → origin:data:quorum (for a failure's post-mortem). */
  readonly chosen: ReadonlyMap<string, string>;
  /** The outcome of each reconfiguration, in the order of options.reconfigurations. */
  readonly reconfigured: readonly Outcome<number>[];
  readonly acceptors: readonly SimAcceptorNode<SimRecord>[];
  readonly simMs: number;
  readonly events: number;
  readonly network: SimNetworkStats;
  readonly crashes: number;
  readonly partitions: number;
  /** The run hit simMsMax before every op and final read completed (a liveness failure). */
  readonly stalled: boolean;
  /** Message kinds, nack reasons, finishes and catch-ups seen: evidence that the rare paths ran. */
  readonly tally: ReadonlyMap<string, number>;
}

export const SIM_TIMING: Partial<ProposerTiming> = {
  resendMs: 40, resendMsMax: 400, backoffMs: 5, backoffMsMax: 200, opTimeoutMs: 3000, readRetryMs: 10, readRetries: 2,
};

interface Pending {
  readonly record: OpRecord;
  readonly cached: { version: number; value: number | null } | undefined;
  readonly done: () => void;
}

/** The parts of one run the steps below share. */
interface Run {
  readonly options: ScenarioOptions;
  readonly root: Random;
  readonly clock: SimClock;
  readonly network: SimNetwork;
  readonly history: History;
  readonly tally: Tally;
  readonly pending: Map<string | number, Pending>;
  readonly blocks: readonly { readonly name: string; readonly model: BlockModel }[];
  nextOp: number;
}

export function runConsensusScenario(options: ScenarioOptions): ScenarioResult {
  const root = new Random(options.seed);
  const clock = new SimClock();
  const run: Run = {
    options, root, clock, network: new SimNetwork({ clock, random: root.fork('network'), faults: options.network }),
    history: new History(), tally: new Map(), pending: new Map(), nextOp: 1,
    blocks: [
      ...Array.from({ length: options.registers }, (_, i) => ({ name: `r${i}`, model: 'register' as const })),
      ...Array.from({ length: options.counters }, (_, i) => ({ name: `c${i}`, model: 'counter' as const })),
    ],
  };
  const agreement = agreementOracle();
  const byId = new Map<string, SimAcceptorNode<SimRecord>>();
  const movers = options.movers;
  const trusts = (id: string): boolean => movers === undefined || (byId.get(id)?.restartedAt ?? 0) === 0
    || clock.now() >= (byId.get(id)?.restartedAt ?? 0) + movers.distrustMs;
  const acceptors = options.acceptors.map((id) => new SimAcceptorNode<SimRecord>(
    { self: id, validate: movers === undefined ? validateSimRecord : trustingValidator(() => trusts(id)) }, clock, run.network, root.fork(`acceptor/${id}`), parseSimRecord,
    { flushMsMin: 0.2, flushMsMax: 2, amnesia: options.amnesia ?? 'none' }, agreement.observe, run.tally));
  for (const acceptor of acceptors) byId.set(acceptor.id, acceptor);
  const proposers = Array.from({ length: options.proposers }, (_, p) => proposerNode(run, `p${p}`, {}));
  const clientsRunning = startClients(run, proposers);
  const reconfigured = scheduleReconfigurations(run);
  const nemesis = new Nemesis(options.nemesis, clock, run.network, root.fork('nemesis'), acceptors, [...options.acceptors, ...proposers.map((p) => p.id)]);
  nemesis.start();
  const stopMovers = movers === undefined ? () => {} : startMovers({
    clock, network: run.network, random: root.fork('movers'), timing: { ...SIM_TIMING, ...options.timing }, tally: run.tally,
    blocks: run.blocks.map((b) => b.name),
  }, movers, acceptors);
  const simMsMax = options.simMsMax ?? 600_000;
  const runUntil = (until: () => boolean): boolean => {
    while (!until()) if (clock.now() > simMsMax || !clock.step()) return false;
    return true;
  };
  let completed = runUntil(() => clientsRunning.count === 0 && run.pending.size === 0);
  // The end state: faults stop, and a fresh proposer reads every block (its reads are part of the history).
  stopMovers();
  nemesis.stop();
  clock.runFor(100);
  const finals = finalReads(run);
  completed = runUntil(() => run.pending.size === 0) && completed;
  const moves = options.reconfigurations?.length ?? 0;
  runUntil(() => reconfigured.filter((o) => o !== undefined).length >= moves);
  run.history.closePending();
  return {
    history: run.history, finals, agreement: agreement.violations, chosen: agreement.chosen, reconfigured, acceptors, simMs: clock.now(),
    events: clock.eventsRun, network: { ...run.network.stats }, crashes: nemesis.crashes, partitions: nemesis.partitions,
    stalled: !completed, tally: run.tally,
  };
}

function proposerNode(run: Run, id: string, timing: Partial<ProposerTiming>, onComplete = completion(run)): SimProposerNode<SimRecord, number> {
  const { options } = run;
  const phaseSizes = options.phaseSizes === undefined ? {} : { phaseSizes: options.phaseSizes };
  return new SimProposerNode<SimRecord, number>(
    { self: id, proposerId: `${id}#1`, codec: simCodec, timing: { ...SIM_TIMING, ...options.timing, ...timing }, ...phaseSizes,
      ...(options.thrifty === undefined ? {} : { thrifty: options.thrifty }) },
    run.clock, run.network, run.root.fork(`proposer/${id}`), parseSimRecord, () => options.quorum, onComplete, run.tally);
}

function completion(run: Run): (block: string, op: ClientOp<number>, outcome: Outcome<number>) => void {
  return (_block, op, outcome) => {
    const entry = run.pending.get(op.id);
    if (entry === undefined) return;
    run.pending.delete(op.id);
    run.history.complete(entry.record, outcome, run.clock.now(), entry.cached);
    entry.done();
  };
}

/** Each client runs its ops one after another (think time between), on a block drawn at random. */
function startClients(run: Run, proposers: readonly SimProposerNode<SimRecord, number>[]): { count: number } {
  const { options, clock } = run;
  const workload = run.root.fork('workload');
  const running = { count: 0 };
  for (const node of proposers) {
    for (let c = 0; c < options.clientsPerProposer; c++) {
      const client = `${node.id}.c${c}`;
      const cache = new Map<string, { version: number; value: number | null }>();
      let left = options.opsPerClient;
      running.count++;
      const loop = (): void => {
        if (left-- <= 0) {
          running.count--;
          return;
        }
        clock.schedule(workload.float() * options.thinkMsMax, () => {
          const { name: block, model } = workload.pick(run.blocks);
          const id = run.nextOp++;
          const cached = cache.get(block);
          const { op, fields } = chooseOp(workload, model, id, cached);
          const record = run.history.invoke({ client, block, model, ...fields, invokeMs: clock.now() });
          run.pending.set(id, { record, cached, done: () => {
            if (record.status === 'ok' && record.kind === 'read' && record.version !== undefined) {
              cache.set(block, { version: record.version, value: record.output as number | null });
            }
            loop();
          } });
          node.submit(block, op);
        });
      };
      loop();
    }
  }
  return running;
}

/** An admin proposer moves blocks at the given times; outcomes land at the index of their move. */
function scheduleReconfigurations(run: Run): Outcome<number>[] {
  const reconfigured: Outcome<number>[] = [];
  const moves = run.options.reconfigurations ?? [];
  if (moves.length === 0) return reconfigured;
  const admin = proposerNode(run, 'admin', { opTimeoutMs: 60_000 }, (_block, op, outcome) => {
    reconfigured[Number(String(op.id).replace('reconfigure-', ''))] = outcome;
  });
  moves.forEach((move, i) => run.clock.schedule(move.atMs, () =>
    admin.submit(move.block, { kind: 'reconfigure', id: `reconfigure-${i}`, quorum: move.quorum })));
  return reconfigured;
}

function finalReads(run: Run): OpRecord[] {
  const reader = proposerNode(run, 'final', { opTimeoutMs: 60_000 });
  return run.blocks.map(({ name, model }) => {
    const id = run.nextOp++;
    const record = run.history.invoke({ client: 'final', block: name, model, kind: 'read', invokeMs: run.clock.now() });
    run.pending.set(id, { record, cached: undefined, done: () => undefined });
    reader.submit(name, { kind: 'read', id });
    return record;
  });
}

/** Picks the next op: registers get writes, reads (some conditional) and compare-and-sets; counters increments and reads. */
function chooseOp(random: Random, model: BlockModel, id: number, cached: { version: number; value: number | null } | undefined): {
  op: ClientOp<number>; fields: Pick<OpRecord, 'kind'> & Partial<Pick<OpRecord, 'value' | 'expected' | 'ifNewerThan'>>;
} {
  const roll = random.float();
  if (roll < 0.45) {
    const conditional = cached !== undefined && random.bool(0.3);
    return conditional
      ? { op: { kind: 'read', id, ifNewerThan: cached.version }, fields: { kind: 'read', ifNewerThan: cached.version } }
      : { op: { kind: 'read', id }, fields: { kind: 'read' } };
  }
  if (model === 'counter') return { op: { kind: 'update', id, apply: (n) => (n ?? 0) + 1 }, fields: { kind: 'incr' } };
  if (roll < 0.8) return { op: { kind: 'update', id, apply: () => id }, fields: { kind: 'write', value: id } };
  const expected = cached?.value ?? -1;
  return {
    op: { kind: 'update', id, apply: (v) => (v === expected ? id : new ShoalError('Conflict', `expected ${expected}, found ${String(v)}`, { subject: 'block' })) },
    fields: { kind: 'cas', value: id, expected },
  };
}


/** Watches every persisted acceptor state: one value per (block, version), cluster-wide. */
function agreementOracle(): {
  observe: (node: string, block: string, state: AcceptorBlockState<SimRecord>) => void; violations: string[]; chosen: Map<string, string>;
} {
  const chosen = new Map<string, string>();
  const violations: string[] = [];
  return {
    violations,
    chosen,
    observe(node, block, state) {
      if (state.chosen === undefined) return;
      const key = `${block}@${state.chosen.value.version}`;
      const what = `${ballotText(state.chosen.origin)}:${state.chosen.value.data}:${state.chosen.value.quorum.join(',')}${state.chosen.value.byNode ? ':node' : ''}`;
      const first = chosen.get(key);
      if (first === undefined) chosen.set(key, what);
      else if (first !== what && violations.length < 20) violations.push(`${key}: ${node} holds ${what}, another holds ${first}`);
    },
  };
}
