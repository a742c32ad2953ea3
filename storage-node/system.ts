// Production implementations of the seams the pure code takes as parameters.
import { randomBytes } from 'node:crypto';
import type { Entropy } from './base/random.js';

export const systemEntropy: Entropy = {
  bytes: (length) => randomBytes(length),
};
