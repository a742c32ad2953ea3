// Repair's place in a storage node: the trust in other nodes' signing keys (the acceptors consult it), the wire
// operations (repair status, drain, key announcements, a block's quorum) and the driver, started once the overlay runs.
import type { Clock } from '../../base/clock.js';
import { ShoalError } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import type { VersionRecord } from '../../blocks/version-record.js';
import type { AcceptorBlockState } from '../../consensus/acceptor.js';
import { isServing } from '../../overlay/membership.js';
import type { OverlayDriver } from '../../overlay/overlay-driver.js';
import type { AcceptorStore } from '../../store/acceptor-store.js';
import type { BlockStore } from '../../store/block-store.js';
import type { ConnectionPool } from '../../wire/connection-pool.js';
import { OP } from '../../wire/operations.js';
import type { Handler } from '../../wire/wire-server.js';
import type { NodeMetrics } from '../metrics.js';
import { MutableRepair, type MoveQuorum } from './mutable-repair.js';
import { parseNodeKeyCertificate, TrustedNodeKeys, type NodeKeyCertificate } from './node-key.js';
import { REPAIR_CONFIG_DEFAULTS, type RepairConfig } from './repair-config.js';
import { RepairDriver, type RepairCounters } from './repair-driver.js';

export interface QuorumMoves {
  readonly certificate: NodeKeyCertificate;
  readonly move: MoveQuorum;
}

export interface NodeRepairOptions {
  readonly id: string;
  /** The cluster CA certificate (PEM): node signing keys are trusted only with its signature. */
  readonly caCertPem: string;
  readonly acceptorStore: AcceptorStore<AcceptorBlockState<VersionRecord>>;
  readonly log: Logger;
  readonly config?: RepairConfig;
  /** With a CA-vouched signing key, repair also moves mutable blocks to new quorums. */
  readonly quorumMoves?: QuorumMoves;
  /** Remembers a drain across restarts; awaited before the drain is acknowledged. */
  readonly onDrain?: () => Promise<void>;
  /** Node key certificates trusted in an earlier run, and where to remember new ones. */
  readonly rememberedKeys?: readonly NodeKeyCertificate[];
  readonly onNewKeys?: (all: readonly NodeKeyCertificate[]) => void;
}

export class NodeRepair {
  readonly trustedKeys: TrustedNodeKeys;
  readonly #options: NodeRepairOptions;
  #overlay: OverlayDriver | undefined;
  #driver: RepairDriver | undefined;

  constructor(options: NodeRepairOptions) {
    this.#options = options;
    this.trustedKeys = new TrustedNodeKeys(options.caCertPem, {
      ...(options.rememberedKeys ? { remembered: options.rememberedKeys } : {}),
      ...(options.onNewKeys ? { onNew: options.onNewKeys } : {}),
    });
    if (options.quorumMoves) this.trustedKeys.admit(options.quorumMoves.certificate);
  }

  get driver(): RepairDriver | undefined {
    return this.#driver;
  }

  get draining(): boolean {
    return this.#overlay?.core.self.state === 'draining';
  }

  /** Marks this node draining (remembered first): placement stops choosing it, and repair moves everything off it. */
  async drain(): Promise<void> {
    await this.#options.onDrain?.();
    this.#overlay?.updateSelf({ state: 'draining' });
    this.#options.log.info({ id: this.#options.id }, 'node.draining');
  }

  handlers(): [string, Handler][] {
    return [
      [OP.repairStatus, () => this.#driver?.status(this.draining) ?? null],
      [OP.drain, async () => {
        await this.drain();
        return null;
      }],
      [OP.trustNodeKey, (body, context) => {
        if (context.peerRole !== 'node') throw new ShoalError('Forbidden', 'only storage nodes announce signing keys', { subject: 'node' });
        this.trustedKeys.admit(parseNodeKeyCertificate(body));
        return null;
      }],
      [OP.quorumOf, (body) => {
        const block = (body as { block?: unknown } | null)?.block;
        if (typeof block !== 'string' || !/^[0-9a-f]{64}$/.test(block)) throw new ShoalError('Invalid', 'quorum-of needs {block: 64 hex digits}', { subject: 'block' });
        const chosen = this.#options.acceptorStore.load(block)?.chosen?.value;
        return chosen === undefined ? null : { version: chosen.version, quorum: [...chosen.quorum] };
      }],
    ];
  }

  /** Starts the walks once the node is in the overlay. */
  start(runtime: { overlay: OverlayDriver; store: BlockStore; pool: ConnectionPool; clock: Clock; metrics?: NodeMetrics }): RepairDriver {
    const { id, log, acceptorStore, quorumMoves } = this.#options;
    const { overlay, pool } = runtime;
    this.#overlay = overlay;
    const config = this.#options.config ?? REPAIR_CONFIG_DEFAULTS;
    const members = (): ReturnType<OverlayDriver['core']['members']> => overlay.core.members();
    this.#driver = new RepairDriver({
      self: id, store: runtime.store, pool, members, clock: runtime.clock, config, log,
      ...(quorumMoves ? {
        mutable: new MutableRepair({
          self: id, acceptorStore, move: quorumMoves.move, log, batchBlocks: config.batchBlocks,
          announceKey: async () => {
            const others = members().filter((m) => m.id !== id && isServing(m));
            await Promise.allSettled(others.map((m) => pool.request({ address: m.address, id: m.id }, OP.trustNodeKey, quorumMoves.certificate, { timeoutMs: 5_000 })));
          },
        }),
      } : {}),
      ...(runtime.metrics ? { counters: metricsCounters(runtime.metrics) } : {}),
    });
    this.#driver.start();
    return this.#driver;
  }

  stop(): void {
    this.#driver?.stop();
  }
}

function metricsCounters(metrics: NodeMetrics): RepairCounters {
  return {
    copied: (bytes) => {
      metrics.repairBytes.inc(bytes);
      metrics.repairBlocksCopied.inc();
    },
    dropped: () => metrics.repairBlocksDropped.inc(),
    pending: (blocks, bytes) => {
      metrics.repairBlocksPending.set(blocks);
      metrics.repairBytesPending.set(bytes);
    },
  };
}
