// One storage node: the wire server with its handlers over a block store, and the member list it serves.
import type { Logger } from '../base/log.js';
import type { Member } from '../overlay/membership.js';
import type { BlockStore } from '../store/block-store.js';
import { ConnectionPool } from '../wire/connection-pool.js';
import { OP, parseMember, type NodeInfo } from '../wire/operations.js';
import type { TlsCredentials } from '../wire/tls-credentials.js';
import { WireServer, type Handler } from '../wire/wire-server.js';
import { blockServiceHandlers } from './block-service.js';
import type { NodeMetrics } from './metrics.js';
import { StaticMembership } from './static-membership.js';

export const SHOAL_VERSION = '0.1.0';

export interface StorageNodeOptions {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly zone: string;
  readonly rack: string;
  readonly incarnation: number;
  readonly credentials: TlsCredentials;
  readonly store: BlockStore;
  readonly log: Logger;
  readonly metrics?: NodeMetrics;
  /** host:port of any member, to enter an existing cluster. */
  readonly join?: string;
}

export interface StorageNode {
  readonly address: string;
  readonly membership: StaticMembership;
  info(): NodeInfo;
  refreshMetrics(): void;
  close(): Promise<void>;
}

export async function startStorageNode(options: StorageNodeOptions): Promise<StorageNode> {
  const { store, log, metrics } = options;
  let membership: StaticMembership | undefined;
  const info = (): NodeInfo => {
    const usage = store.usage();
    const self = membership?.self;
    return {
      id: options.id, address: self?.address ?? `${options.host}:${options.port}`, zone: options.zone, rack: options.rack,
      capacityBytes: usage.capacityBytes, usedBytes: usage.usedBytes, blocks: usage.blocks, version: SHOAL_VERSION,
    };
  };
  const currentMembers = (): Member[] => {
    membership?.updateSelf({ usedBytes: store.usage().usedBytes });
    return membership?.list() ?? [];
  };
  const handlers = new Map<string, Handler>([
    ...blockServiceHandlers(store),
    [OP.info, () => info()],
    [OP.members, () => currentMembers()],
    [OP.join, (body) => {
      const added = membership?.merge([parseMember(body)]) ?? [];
      for (const member of added) log.info({ member: member.id, address: member.address, zone: member.zone }, 'membership.member_added');
      return currentMembers();
    }],
  ]);
  const instrumented = metrics ? instrument(handlers, metrics) : handlers;
  const server = new WireServer({
    credentials: options.credentials, handlers: instrumented, log: log.child({ component: 'wire' }),
    ...(metrics ? { onTraffic: (direction: 'in' | 'out', bytes: number) => metrics.wireBytes.inc({ direction }, bytes) } : {}),
  });
  const bound = await server.listen(options.host, options.port);
  const address = `${options.host}:${bound.port}`;
  const usage = store.usage();
  membership = new StaticMembership({
    id: options.id, address, zone: options.zone, rack: options.rack, capacityBytes: usage.capacityBytes,
    usedBytes: usage.usedBytes, state: 'alive', incarnation: options.incarnation,
  });
  const pool = new ConnectionPool(options.credentials);
  if (options.join !== undefined) await membership.join(options.join, pool, log.child({ component: 'membership' }));
  log.info({ id: options.id, address, zone: options.zone, rack: options.rack, capacityBytes: usage.capacityBytes }, 'node.serving');

  const joined = membership;
  return {
    address,
    membership: joined,
    info,
    refreshMetrics() {
      if (!metrics) return;
      const now = store.usage();
      metrics.storeUsedBytes.set(now.usedBytes);
      metrics.storeCapacityBytes.set(now.capacityBytes);
      metrics.storeBlocks.set(now.blocks);
      metrics.members.reset();
      for (const member of joined.list()) metrics.members.inc({ state: member.state });
    },
    async close() {
      pool.close();
      await server.close();
      await store.close();
      log.info({ id: options.id }, 'node.stopped');
    },
  };
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
