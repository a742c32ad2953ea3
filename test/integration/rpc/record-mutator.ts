// Mutations of RPC call records for fuzz tests: bit flips, interesting words, truncation, extension, a dropped word
// or noise, and framing that is usually right (sometimes in fragments) and sometimes a lying record mark.
import type { Random } from '../../../storage-node/base/random.js';
import { frame, words } from './raw-rpc-client.js';

export interface MutationOptions {
  /** Words written over the body by the "interesting word" mutation. */
  readonly interesting: readonly number[];
  /**
   * When set, 70 % of word substitutions land at or past this word (e.g. 16, past an AUTH_SYS call header), so that
   * mutations reach a program's argument decoders rather than mostly the RPC layer.
   */
  readonly argsFromWord?: number;
}

/** One mutated call body. The xid and msg_type usually survive, so most mutations reach authentication and dispatch. */
export function mutateCall(random: Random, seed: Buffer, options: MutationOptions): Buffer {
  const keep = random.bool(0.95) ? 8 : 0;
  const head = seed.subarray(0, keep);
  const body = Buffer.from(seed.subarray(keep));
  const words32 = Math.floor(body.length / 4);
  const argsFrom = options.argsFromWord;
  switch (random.int(12)) {
    case 0: case 1: case 2:
      for (let i = 1 + random.int(8); i > 0; i--) {
        const at = random.int(body.length);
        body.writeUInt8((body.readUInt8(at) ^ (1 << random.int(8))) & 0xff, at);
      }
      return Buffer.concat([head, body]);
    case 3: case 4: case 5:
      for (let i = 1 + random.int(3); i > 0; i--) {
        const at = argsFrom !== undefined && random.bool(0.7) && words32 > argsFrom ? argsFrom + random.int(words32 - argsFrom) : random.int(words32);
        body.writeUInt32BE(random.pick(options.interesting) >>> 0, 4 * at);
      }
      return Buffer.concat([head, body]);
    case 6: case 7:
      return Buffer.concat([head, body.subarray(0, random.int(body.length))]);
    case 8:
      return Buffer.concat([head, body, Buffer.from(Array.from({ length: random.int(40) }, () => random.int(256)))]);
    case 9: case 10: {
      const at = 4 * random.int(words32);
      return Buffer.concat([head, body.subarray(0, at), body.subarray(at + 4)]);
    }
    default:
      return Buffer.concat([head, Buffer.from(Array.from({ length: random.int(120) }, () => random.int(256)))]);
  }
}

/** The record on the wire: usually well framed (sometimes in two fragments), sometimes a lying header. */
export function framedRecord(random: Random, body: Buffer): Buffer {
  const roll = random.float();
  if (roll < 0.01) return Buffer.concat([words(random.nextUint32()), body]);
  if (roll < 0.02) return Buffer.concat([words(body.length), body]); // last-fragment bit missing
  if (roll < 0.15 && body.length > 8) {
    const cut = 1 + random.int(body.length - 1);
    return Buffer.concat([words(cut), body.subarray(0, cut), frame(body.subarray(cut))]);
  }
  return frame(body);
}
