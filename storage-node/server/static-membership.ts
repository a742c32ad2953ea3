// The member list until gossip lands: a node learns the cluster from the member it joins through and
// announces itself to every member it learns of. Members never leave this list; clients skip unreachable ones.
import type { Logger } from '../base/log.js';
import type { Member } from '../overlay/membership.js';
import type { ConnectionPool } from '../wire/connection-pool.js';
import { OP, parseMembers } from '../wire/operations.js';

export class StaticMembership {
  readonly #members = new Map<string, Member>();
  #self: Member;

  constructor(self: Member) {
    this.#self = self;
    this.#members.set(self.id, self);
  }

  get self(): Member {
    return this.#self;
  }

  updateSelf(fields: Partial<Pick<Member, 'usedBytes' | 'capacityBytes' | 'state'>>): void {
    this.#self = { ...this.#self, ...fields };
    this.#members.set(this.#self.id, this.#self);
  }

  list(): Member[] {
    return [...this.#members.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Merges members heard of; a record with a higher incarnation (a restart) replaces the older one. */
  merge(members: readonly Member[]): Member[] {
    const added: Member[] = [];
    for (const member of members) {
      if (member.id === this.#self.id) continue;
      const known = this.#members.get(member.id);
      if (!known) added.push(member);
      if (!known || member.incarnation >= known.incarnation) this.#members.set(member.id, member);
    }
    return added;
  }

  /** Enters the cluster through one member, then tells every member learned of that this node exists. */
  async join(seed: string, pool: ConnectionPool, log: Logger): Promise<void> {
    const reply = parseMembers(await pool.request({ address: seed }, OP.join, this.#self));
    this.merge(reply);
    const others = this.list().filter((m) => m.id !== this.#self.id && m.address !== seed);
    await Promise.all(others.map(async (member) => {
      try {
        this.merge(parseMembers(await pool.request(member, OP.join, this.#self)));
      } catch (err) {
        log.warn({ member: member.id, address: member.address, err: (err as Error).message }, 'membership.announce_failed');
      }
    }));
    log.info({ seed, members: this.list().length }, 'membership.joined');
  }
}
