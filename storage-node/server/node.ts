// One storage node: the wire server with its handlers over a block store, and its place in the overlay.
import type { Clock } from '../base/clock.js';
import { ShoalError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { Random } from '../base/random.js';
import type { Member } from '../overlay/membership.js';
import type { OverlayConfig } from '../overlay/overlay-config.js';
import { createOverlayCore } from '../overlay/overlay-core.js';
import { OVERLAY_OP, OverlayDriver } from '../overlay/overlay-driver.js';
import type { BlockStore } from '../store/block-store.js';
import { ConnectionPool } from '../wire/connection-pool.js';
import { OP, type MemberView, type NodeInfo } from '../wire/operations.js';
import type { TlsCredentials } from '../wire/tls-credentials.js';
import { WireServer, type Handler } from '../wire/wire-server.js';
import { AcceptorService } from './acceptor-service.js';
import { blockServiceHandlers } from './block-service.js';
import type { AcceptorStore } from '../store/acceptor-store.js';
import type { AcceptorBlockState } from '../consensus/acceptor.js';
import type { VersionRecord } from '../blocks/version-record.js';
import type { NodeMetrics } from './metrics.js';
import type { RepairConfig } from './repair/repair-config.js';
import type { RepairDriver } from './repair/repair-driver.js';
import { NodeRepair, type QuorumMoves } from './repair/node-repair.js';
import type { NodeKeyCertificate } from './repair/node-key.js';

export const SHOAL_VERSION = '0.1.0';
/** How often the node tells the overlay its used bytes (the overlay publishes them at its own, slower pace). */
const USAGE_REPORT_INTERVAL_MS = 5_000;

export interface StorageNodeOptions {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** host:port others reach this node at when it differs from where it listens (behind a proxy or NAT). */
  readonly advertise?: string;
  /** The local address this node's connections to other nodes come from. */
  readonly sourceAddress?: string;
  readonly zone: string;
  readonly rack: string;
  readonly incarnation: number;
  /** Start draining (a drain asked for before a restart stays asked for). */
  readonly draining?: boolean;
  /** Called when an operator asks this node to drain, so that the composition root can remember it across restarts. */
  readonly onDrain?: () => Promise<void>;
  readonly credentials: TlsCredentials;
  readonly store: BlockStore;
  /** Paxos acceptor states of mutable blocks (LMDB in production). */
  readonly acceptorStore: AcceptorStore<AcceptorBlockState<VersionRecord>>;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly metrics?: NodeMetrics;
  /** host:port of any member, to enter an existing cluster. */
  readonly join?: string;
  readonly overlay?: Partial<OverlayConfig>;
  /** Members remembered from a previous run, so that a restarted node finds the cluster without --join. */
  readonly knownMembers?: readonly Member[];
  /** Repair's rate, delays and R; repair runs on every node (REPAIR_CONFIG_DEFAULTS unless given). */
  readonly repair?: RepairConfig;
  /**
   * This node's signing key for quorum changes (vouched for by the cluster CA) and the proposer that uses it: with
   * both, repair also moves mutable blocks off dead and no-longer-placed members.
   */
  readonly quorumMoves?: QuorumMoves;
  /** Other nodes' signing keys trusted in an earlier run (re-checked against the CA), and where to keep new ones. */
  readonly rememberedKeys?: readonly NodeKeyCertificate[];
  readonly onNewKeys?: (all: readonly NodeKeyCertificate[]) => void;
  /** Called once a leave asked for over the wire (`shoal node leave`) has completed: the process may exit. */
  readonly onLeft?: () => void;
}

export interface StorageNode {
  readonly address: string;
  readonly overlay: OverlayDriver;
  info(): NodeInfo;
  members(): MemberView[];
  refreshMetrics(): void;
  readonly repair: RepairDriver;
  /** Marks this node draining (remembered across restarts): placement stops choosing it, so repair moves every block off it. */
  drain(): Promise<void>;
  /** Leaves the cluster gracefully (others mark it left, not dead), then stops. */
  leave(): Promise<void>;
  close(): Promise<void>;
}

export async function startStorageNode(options: StorageNodeOptions): Promise<StorageNode> {
  const { store, log, metrics, clock } = options;
  const pool = new ConnectionPool(options.credentials, { localAddress: options.sourceAddress });
  let overlay: OverlayDriver | undefined;
  let leaveRequested: (() => void) | undefined;
  const info = (): NodeInfo => {
    const usage = store.usage();
    return {
      id: options.id, address: overlay?.core.self.address ?? `${options.host}:${options.port}`, zone: options.zone, rack: options.rack,
      capacityBytes: usage.capacityBytes, usedBytes: usage.usedBytes, blocks: usage.blocks, version: SHOAL_VERSION,
    };
  };
  const members = (): MemberView[] => {
    if (!overlay) return [];
    const core = overlay.core;
    const now = clock.now();
    return core.members().map((member) => {
      const heard = member.id === options.id ? now : core.lastHeardMs(member.id);
      return heard === undefined ? member : { ...member, lastHeardAgoMs: Math.max(0, Math.round(now - heard)) };
    });
  };
  const repair = new NodeRepair({
    id: options.id, caCertPem: options.credentials.ca, acceptorStore: options.acceptorStore, log: log.child({ component: 'repair' }),
    ...(options.repair ? { config: options.repair } : {}),
    ...(options.quorumMoves ? { quorumMoves: options.quorumMoves } : {}),
    ...(options.onDrain ? { onDrain: options.onDrain } : {}),
    ...(options.rememberedKeys ? { rememberedKeys: options.rememberedKeys } : {}),
    ...(options.onNewKeys ? { onNewKeys: options.onNewKeys } : {}),
  });
  // Versions signed by a node key change only a block's quorum (the validator checks that); the CA vouches for the key.
  const acceptors = new AcceptorService({
    nodeId: options.id, store: options.acceptorStore, log: log.child({ component: 'consensus' }),
    validate: { mayReconfigure: (writer) => repair.trustedKeys.has(writer) },
  });
  const handlers = new Map<string, Handler>([
    ...blockServiceHandlers(store),
    [OP.info, () => info()],
    [OP.members, () => members()],
    // Only storage nodes take part in membership: a client or gateway certificate cannot inject member records.
    [OVERLAY_OP, (body, context) => {
      if (context.peerRole !== 'node') throw new ShoalError('Forbidden', 'only storage nodes gossip membership', { subject: 'node' });
      return overlay?.receive(body) ?? null;
    }],
    [OP.consensus, (body, context) => acceptors.handle(body, context)],
    [OP.leave, () => {
      leaveRequested?.();
      return null;
    }],
    ...repair.handlers(),
  ]);
  const server = new WireServer({
    credentials: options.credentials, handlers: metrics ? instrument(handlers, metrics) : handlers, log: log.child({ component: 'wire' }),
    ...(metrics ? { onTraffic: (direction: 'in' | 'out', bytes: number) => metrics.wireBytes.inc({ direction }, bytes) } : {}),
  });
  const bound = await server.listen(options.host, options.port);
  const address = options.advertise ?? `${options.host}:${bound.port}`;
  const usage = store.usage();
  const self: Member = {
    id: options.id, address, zone: options.zone, rack: options.rack, capacityBytes: usage.capacityBytes,
    usedBytes: usage.usedBytes, state: options.draining === true ? 'draining' : 'alive', incarnation: options.incarnation,
  };
  const driver = new OverlayDriver({
    core: createOverlayCore({ self, random: options.random.fork(`overlay/${options.id}`), ...(options.overlay ? { config: options.overlay } : {}), ...(options.knownMembers ? { initialMembers: options.knownMembers } : {}) }),
    clock, pool, log: log.child({ component: 'overlay' }),
    ...(metrics ? {
      traffic: {
        sent: (bytes: number) => metrics.gossipBytes.inc({ direction: 'sent' }, bytes),
        received: (bytes: number) => metrics.gossipBytes.inc({ direction: 'received' }, bytes),
        memberChanged: (member: Member) => metrics.membershipEvents.inc({ state: member.state }),
      },
    } : {}),
  });
  overlay = driver;
  driver.start(options.join);
  const repairDriver = repair.start({ overlay: driver, store, pool, clock, ...(metrics ? { metrics } : {}) });
  const usageTimer = setInterval(() => driver.updateSelf({ usedBytes: store.usage().usedBytes }), USAGE_REPORT_INTERVAL_MS);
  usageTimer.unref();
  log.info({ id: options.id, address, zone: options.zone, rack: options.rack, capacityBytes: usage.capacityBytes, incarnation: self.incarnation, join: options.join ?? null }, 'node.serving');

  let closed = false;
  const node: StorageNode = {
    address,
    overlay: driver,
    info,
    members,
    repair: repairDriver,
    drain: () => repair.drain(),
    refreshMetrics() {
      if (!metrics) return;
      const now = store.usage();
      metrics.storeUsedBytes.set(now.usedBytes);
      metrics.storeCapacityBytes.set(now.capacityBytes);
      metrics.storeBlocks.set(now.blocks);
      metrics.members.reset();
      for (const member of driver.core.members()) metrics.members.inc({ state: member.state });
    },
    async leave() {
      log.info({ id: options.id }, 'node.leaving');
      await driver.leave();
      await node.close();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(usageTimer);
      repair.stop();
      driver.stop();
      pool.close();
      await server.close();
      await acceptors.close().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'consensus.close_write_failed'));
      await store.close();
      await options.acceptorStore.close();
      log.info({ id: options.id }, 'node.stopped');
    },
  };
  leaveRequested = () => void node.leave().then(() => options.onLeft?.());
  return node;
}

function instrument(handlers: Map<string, Handler>, metrics: NodeMetrics): Map<string, Handler> {
  return new Map([...handlers].map(([op, handler]) => [op, async (body, context) => {
    try {
      const result = await handler(body, context);
      metrics.requests.inc({ op, outcome: 'ok' });
      return result;
    } catch (err) {
      metrics.requests.inc({ op, outcome: (err as { kind?: string }).kind ?? 'error' });
      throw err;
    }
  }]));
}
