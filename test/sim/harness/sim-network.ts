// A seeded faulty network for simulations, after TigerBeetle's packet simulator: loss, replay, random delay
// (hence reordering), partitions that heal, slow nodes and crashed ones. Every message goes through msgpack
// encode and decode, as on the wire, so codec bugs surface here too.
import { Packr } from 'msgpackr';
import type { Random } from '../../../storage-node/base/random.js';
import type { SimClock } from './sim-clock.js';

export interface SimNetworkOptions {
  /** Probability that a message is dropped. */
  readonly lossRatio: number;
  /** Probability that a delivered message is delivered a second time, later. */
  readonly replayRatio: number;
  /** One-way delay: delayMsMin plus an exponential with mean (delayMsMean − delayMsMin), cut at delayMsMax. */
  readonly delayMsMin: number;
  readonly delayMsMean: number;
  readonly delayMsMax: number;
}

export const SIM_NETWORK_DEFAULTS: SimNetworkOptions = { lossRatio: 0, replayRatio: 0, delayMsMin: 1, delayMsMean: 10, delayMsMax: 200 };

export interface SimCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/** The options of storage-node/wire/codec.ts: plain structures only, no records, no extension types. */
export function msgpackCodec(): SimCodec {
  const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
  return { encode: (value) => packr.pack(value), decode: (bytes) => packr.unpack(bytes) };
}

export type SimHandler = (from: string, message: unknown) => void;

export interface SimNetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  /** Dropped by a partition or because the receiver was down. */
  blocked: number;
  replayed: number;
  bytes: number;
}

export class SimNetwork {
  readonly #clock: SimClock;
  readonly #random: Random;
  readonly #codec: SimCodec;
  #options: SimNetworkOptions;
  readonly #handlers = new Map<string, SimHandler>();
  /** Address → side; addresses on different sides cannot talk. Unlisted addresses are side 0. */
  #sides = new Map<string, number>();
  /** Address → the address whose side it shares (a second process on one host). */
  readonly #hosts = new Map<string, string>();
  readonly #extraDelayMs = new Map<string, number>();
  readonly #bytesSent = new Map<string, number>();
  readonly stats: SimNetworkStats = { sent: 0, delivered: 0, lost: 0, blocked: 0, replayed: 0, bytes: 0 };

  constructor(options: { clock: SimClock; random: Random; faults?: Partial<SimNetworkOptions>; codec?: SimCodec }) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#codec = options.codec ?? msgpackCodec();
    this.#options = { ...SIM_NETWORK_DEFAULTS, ...options.faults };
  }

  get options(): SimNetworkOptions {
    return this.#options;
  }

  /** Changes the faults mid-run (a nemesis). */
  setFaults(faults: Partial<SimNetworkOptions>): void {
    this.#options = { ...this.#options, ...faults };
  }

  attach(address: string, handler: SimHandler): void {
    this.#handlers.set(address, handler);
  }

  /** A crash: messages to the address are dropped from now on, including those in flight. */
  detach(address: string): void {
    this.#handlers.delete(address);
  }

  /** Each group becomes a side that cannot talk to the others; everyone not listed is one more side. */
  partition(groups: readonly (readonly string[])[]): void {
    this.#sides = new Map();
    groups.forEach((group, i) => group.forEach((address) => this.#sides.set(address, i + 1)));
  }

  /** `address` runs on the same host as `host`: every partition puts them on one side. */
  colocate(address: string, host: string): void {
    this.#hosts.set(address, host);
  }

  heal(): void {
    this.#sides = new Map();
  }

  canTalk(a: string, b: string): boolean {
    const side = (address: string): number => this.#sides.get(this.#hosts.get(address) ?? address) ?? 0;
    return side(a) === side(b);
  }

  /** Delays every message the address sends by this much more: a slow node (GC pause, overloaded host). */
  setExtraDelay(address: string, delayMs: number): void {
    if (delayMs > 0) this.#extraDelayMs.set(address, delayMs);
    else this.#extraDelayMs.delete(address);
  }

  bytesSentBy(address: string): number {
    return this.#bytesSent.get(address) ?? 0;
  }

  send(from: string, to: string, message: unknown): void {
    const bytes = this.#codec.encode(message);
    this.stats.sent++;
    this.stats.bytes += bytes.length;
    this.#bytesSent.set(from, (this.#bytesSent.get(from) ?? 0) + bytes.length);
    if (this.#random.bool(this.#options.lossRatio)) {
      this.stats.lost++;
      return;
    }
    // Decoded now: msgpackr may reuse its output buffer, and the receiver must see what the bytes said.
    const decoded = this.#codec.decode(bytes);
    this.#deliverLater(from, to, decoded);
    if (this.#random.bool(this.#options.replayRatio)) {
      this.stats.replayed++;
      this.#deliverLater(from, to, this.#codec.decode(bytes));
    }
  }

  #deliverLater(from: string, to: string, message: unknown): void {
    this.#clock.schedule(this.#delayMs(from), () => {
      const handler = this.#handlers.get(to);
      if (handler === undefined || !this.canTalk(from, to)) {
        this.stats.blocked++;
        return;
      }
      this.stats.delivered++;
      handler(from, message);
    });
  }

  #delayMs(from: string): number {
    const { delayMsMin, delayMsMean, delayMsMax } = this.#options;
    const exponential = -Math.log(1 - this.#random.float()) * Math.max(0, delayMsMean - delayMsMin);
    return Math.min(delayMsMax, delayMsMin + exponential) + (this.#extraDelayMs.get(from) ?? 0);
  }
}
