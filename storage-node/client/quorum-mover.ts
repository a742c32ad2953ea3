// Moves a mutable block to another quorum with a storage node's own signature, for repair: the version changes the
// quorum and nothing else (acceptors check that, and that the CA vouched for the signing key), so no owner key and
// no plaintext is needed. A separate proposer from the caller's own writes: the codec carries records as they are.
import { ShoalError } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { Random } from '../base/random.js';
import { addressHex, type Address } from '../blocks/address.js';
import { nextVersion } from '../blocks/mutable.js';
import type { Identity } from '../blocks/sign.js';
import type { VersionRecord } from '../blocks/version-record.js';
import type { Quorum } from '../consensus/quorum.js';
import type { Member } from '../overlay/membership.js';
import type { ConnectionPool } from '../wire/connection-pool.js';
import { ProposerDriver } from './proposer-driver.js';

export interface QuorumMoverOptions {
  readonly pool: ConnectionPool;
  readonly members: () => readonly Member[];
  /** The node's id: the common name of its certificate, which acceptors bind proposals to. */
  readonly self: string;
  /** Unique per process, so that ballots never repeat another proposer's. */
  readonly proposerId: string;
  readonly signer: Identity;
  readonly random: Random;
  readonly now: () => number;
  readonly log: Logger;
}

export class QuorumMover {
  readonly #options: QuorumMoverOptions;
  readonly #driver: ProposerDriver;

  constructor(options: QuorumMoverOptions) {
    this.#options = options;
    this.#driver = new ProposerDriver({ pool: options.pool, members: options.members, random: options.random, now: options.now, log: options.log });
  }

  /** Moves `address` from `current` (its quorum as this node knows it) to `next`; resolves with the new version. */
  async move(address: Address, current: Quorum, next: Quorum, options: { timeoutMs?: number } = {}): Promise<number> {
    const { signer, self, proposerId } = this.#options;
    const outcome = await this.#driver.submit<VersionRecord>(addressHex(address), {
      self, proposerId,
      codec: {
        open: (record) => record,
        seal: (previous, _content, quorum) => {
          if (previous === undefined) throw new ShoalError('NotFound', `block ${addressHex(address)} has no version to move`, { subject: 'block' });
          return nextVersion(signer, previous, { quorum });
        },
      },
    }, () => current, { kind: 'reconfigure', quorum: next, from: current, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
    switch (outcome.status) {
      case 'ok':
      case 'not-modified':
        return outcome.version;
      case 'failed':
      case 'unknown':
        throw outcome.error;
    }
  }

  close(): void {
    this.#driver.close();
  }
}
