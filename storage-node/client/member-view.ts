// The client's picture of the cluster: the member list fetched from any reachable node it was pointed at.
import { ShoalError } from '../base/errors.js';
import type { Member } from '../overlay/membership.js';
import type { ConnectionPool } from '../wire/connection-pool.js';
import { OP, parseMembers } from '../wire/operations.js';

export class MemberView {
  readonly #pool: ConnectionPool;
  readonly #seeds: readonly string[];
  #members: Member[] = [];

  constructor(pool: ConnectionPool, seeds: readonly string[]) {
    if (seeds.length === 0) throw new ShoalError('Invalid', 'name at least one node (HOST:PORT) to reach the cluster through', { subject: 'config' });
    this.#pool = pool;
    this.#seeds = seeds;
  }

  get members(): readonly Member[] {
    return this.#members;
  }

  /** Asks the seeds (and, failing them, members already known) until one answers with its member list. */
  async refresh(options: { timeoutMs?: number } = {}): Promise<readonly Member[]> {
    const candidates = [...new Set([...this.#seeds, ...this.#members.map((m) => m.address)])];
    const failures: string[] = [];
    for (const address of candidates) {
      try {
        this.#members = parseMembers(await this.#pool.request({ address }, OP.members, null, { timeoutMs: options.timeoutMs ?? 5000 }));
        return this.#members;
      } catch (err) {
        failures.push(`${address}: ${(err as Error).message}`);
      }
    }
    throw new ShoalError('Unavailable', `no node answered with the member list (${failures.join('; ')})`, { subject: 'node' });
  }
}
