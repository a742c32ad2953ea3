// Seeded randomness (sfc32) for choices the simulator must replay, and Entropy for secrets (keys, salts, nonces).
import { createHash } from 'node:crypto';

/** Cryptographic bytes: crypto.randomBytes in production, a seeded stream only in the simulator. */
export interface Entropy {
  bytes(length: number): Buffer;
}

export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  readonly seed: string;

  constructor(seed: string | number) {
    this.seed = String(seed);
    const digest = createHash('sha256').update(this.seed).digest();
    this.#a = digest.readUInt32LE(0);
    this.#b = digest.readUInt32LE(4);
    this.#c = digest.readUInt32LE(8);
    this.#d = digest.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** An independent stream: adding a node (a new label) does not shift the streams of the others. */
  fork(label: string): Random {
    return new Random(`${this.seed}/${label}`);
  }

  nextUint32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = ((c << 21) | (c >>> 11)) + t | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.float() * bound);
  }

  bool(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

/** Deterministic Entropy for simulations and tests: never for real keys. */
export class SeededEntropy implements Entropy {
  readonly #random: Random;
  constructor(random: Random) {
    this.#random = random;
  }
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.#random.nextUint32() & 0xff;
    return out;
  }
}
