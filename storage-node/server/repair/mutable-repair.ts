// The mutable-block half of repair: walks the Paxos states this node keeps, and for each block whose chosen quorum
// holds a dead or no-longer-placed member proposes (as the block's deterministic proposer) a quorum one member closer
// to placement, signed with this node's CA-vouched key.
import { ShoalError } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import type { Address } from '../../blocks/address.js';
import type { VersionRecord } from '../../blocks/version-record.js';
import type { AcceptorBlockState } from '../../consensus/acceptor.js';
import type { Member } from '../../overlay/membership.js';
import type { AcceptorStore } from '../../store/acceptor-store.js';
import { planQuorumMove } from './mutable-plan.js';

export type MoveQuorum = (address: Address, current: readonly string[], next: readonly string[]) => Promise<number>;

export interface MutableRepairOptions {
  readonly self: string;
  readonly acceptorStore: AcceptorStore<AcceptorBlockState<VersionRecord>>;
  readonly move: MoveQuorum;
  /** Tells every member this node's key certificate, so that they accept the versions it signs. */
  readonly announceKey: () => Promise<void>;
  readonly log: Logger;
  readonly batchBlocks: number;
}

export interface MembershipView {
  readonly candidates: readonly Member[];
  readonly states: ReadonlyMap<string, Member>;
}

const MOVE_TIMEOUT_MS = 10_000;

export class MutableRepair {
  readonly #options: MutableRepairOptions;

  constructor(options: MutableRepairOptions) {
    this.#options = options;
  }

  /** One walk of the acceptor states; `beforeMove` throttles and says false when repair is stopping. Returns the moves left undone. */
  async pass(view: () => MembershipView, beforeMove: () => Promise<boolean>): Promise<{ moved: number; pending: number }> {
    const { acceptorStore, self, log, batchBlocks } = this.#options;
    let moved = 0;
    let pending = 0;
    // Every walk: a member that restarted has forgotten the keys it trusted, and must accept this node's moves.
    await this.#options.announceKey();
    let after: string | undefined;
    for (;;) {
      const keys = acceptorStore.listBlocks({ limit: batchBlocks, ...(after === undefined ? {} : { after }) });
      if (keys.length === 0) break;
      after = keys[keys.length - 1];
      const { candidates, states } = view();
      for (const key of keys) {
        const chosen = acceptorStore.load(key)?.chosen?.value;
        if (chosen === undefined || !chosen.quorum.includes(self)) continue;
        const move = planQuorumMove(self, chosen.address, chosen.quorum, candidates, states);
        if (move === undefined) continue;
        pending++;
        if (!(await beforeMove())) return { moved, pending };
        try {
          const version = await this.#options.move(chosen.address, chosen.quorum, move.next);
          moved++;
          pending--;
          log.info({ block: key, removed: move.removed, added: move.added, version }, 'repair.quorum_moved');
        } catch (err) {
          log.warn({ block: key, removed: move.removed, added: move.added, err: err instanceof ShoalError ? err.message : String(err) }, 'repair.quorum_move_failed');
        }
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { moved, pending };
  }
}
