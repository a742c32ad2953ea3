// Runs the pure overlay core on a real node: delivers wire messages and timer ticks to it, and carries out
// its effects (sends over mutual TLS, one timer, logs and metrics of membership changes).
import type { Clock, TimerId } from '../base/clock.js';
import type { Logger } from '../base/log.js';
import type { ConnectionPool } from '../wire/connection-pool.js';
import { encodedBytes } from '../wire/codec.js';
import type { Member } from './membership.js';
import type { OverlayCore, OverlayEffect, OverlayInput } from './overlay-core.js';

export const OVERLAY_OP = 'overlay.message';
/** A gossip message that is not delivered within this is as good as lost, which the protocol tolerates. */
const OVERLAY_SEND_TIMEOUT_MS = 2_000;

export interface OverlayTraffic {
  sent(bytes: number): void;
  received(bytes: number): void;
  memberChanged(member: Member, previous: Member | undefined): void;
}

export interface OverlayDriverOptions {
  readonly core: OverlayCore;
  readonly clock: Clock;
  readonly pool: ConnectionPool;
  readonly log: Logger;
  readonly traffic?: OverlayTraffic;
}

export class OverlayDriver {
  readonly #core: OverlayCore;
  readonly #clock: Clock;
  readonly #pool: ConnectionPool;
  readonly #log: Logger;
  readonly #traffic: OverlayTraffic | undefined;
  #timer: TimerId | undefined;
  #leaving: (() => void) | undefined;
  #stopped = false;

  constructor(options: OverlayDriverOptions) {
    this.#core = options.core;
    this.#clock = options.clock;
    this.#pool = options.pool;
    this.#log = options.log;
    this.#traffic = options.traffic;
  }

  get core(): OverlayCore {
    return this.#core;
  }

  /** Starts the protocol; with a seed (host:port of any member) the node enters the cluster through it. */
  start(seed?: string): void {
    this.#step(seed === undefined ? { type: 'tick' } : { type: 'join', seed });
  }

  /** The wire handler for overlay messages: `from` is the sender's advertised address, where replies go. */
  receive(body: unknown): null {
    if (this.#stopped) return null;
    const envelope = body as { from?: unknown; message?: unknown } | null;
    if (typeof envelope !== 'object' || envelope === null || typeof envelope.from !== 'string') return null;
    this.#traffic?.received(encodedBytes(envelope.message));
    this.#step({ type: 'receive', from: envelope.from, message: envelope.message });
    return null;
  }

  updateSelf(fields: { usedBytes?: number; capacityBytes?: number; state?: 'alive' | 'draining' }): void {
    this.#step({ type: 'update-self', ...fields });
  }

  /** Graceful leave: resolves once the core says the leave has been spread, or after `timeoutMs`. */
  leave(timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimer(timeoutMs, () => resolve());
      this.#leaving = () => {
        this.#clock.clearTimer(timer);
        resolve();
      };
      this.#step({ type: 'leave' });
    });
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
  }

  #step(input: OverlayInput): void {
    if (this.#stopped) return;
    this.#run(this.#core.step(input, this.#clock.now()));
  }

  #run(effects: readonly OverlayEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.#send(effect.to, effect.message);
          break;
        case 'set-timer':
          if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
          this.#timer = this.#clock.setTimer(Math.max(0, effect.atMs - this.#clock.now()), () => {
            this.#timer = undefined;
            this.#step({ type: 'tick' });
          });
          break;
        case 'member-changed':
          this.#memberChanged(effect.member, effect.previous);
          break;
        case 'left':
          this.#leaving?.();
          break;
      }
    }
  }

  #send(to: string, message: unknown): void {
    this.#traffic?.sent(encodedBytes(message));
    const from = this.#core.self.address;
    // Fire and forget: the protocol is built for lost messages, and a reply is a message of its own.
    this.#pool.request({ address: to }, OVERLAY_OP, { from, message }, { timeoutMs: OVERLAY_SEND_TIMEOUT_MS }).catch(() => {});
  }

  #memberChanged(member: Member, previous: Member | undefined): void {
    this.#traffic?.memberChanged(member, previous);
    if (previous !== undefined && previous.state === member.state && previous.address === member.address) {
      this.#log.debug({ member: member.id, incarnation: member.incarnation, usedBytes: member.usedBytes }, 'membership.member_updated');
      return;
    }
    const fields = {
      member: member.id, address: member.address, zone: member.zone, rack: member.rack, state: member.state,
      previousState: previous?.state ?? null, incarnation: member.incarnation,
    };
    if (member.state === 'dead' || member.state === 'suspect') this.#log.warn(fields, `membership.member_${member.state}`);
    else this.#log.info(fields, previous === undefined ? 'membership.member_joined' : `membership.member_${member.state}`);
  }
}
