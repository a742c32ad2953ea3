// Sequential specifications of the simulated blocks (register, counter), as the linearizability checker steps them.
import type { OpKind, OpOutput } from '../harness/op-history.js';

export interface ModelInput {
  readonly kind: OpKind;
  readonly value?: number;
  readonly expected?: number;
}

/**
 * A sequential object: `step` gives the state after the op, or undefined when the op could not have returned
 * `output` from `state`. An undefined output (an op that never returned) accepts whatever the op would do.
 */
export interface Model<S> {
  readonly init: S;
  step(state: S, input: ModelInput, output: OpOutput | undefined): S | undefined;
  key(state: S): string;
}

/** A register that starts absent (null): write, read, compare-and-set. */
export const registerModel: Model<number | null> = {
  init: null,
  step(state, input, output) {
    switch (input.kind) {
      case 'write':
        return input.value ?? null;
      case 'read':
        return output === undefined || output === state ? state : undefined;
      case 'cas': {
        const matches = state === input.expected;
        if (output === undefined) return matches ? input.value ?? null : state;
        if (output === 'ok') return matches ? input.value ?? null : undefined;
        return matches ? undefined : state;
      }
      default:
        return undefined;
    }
  },
  key: (state) => String(state),
};

/** A counter that starts at 0: increment (returns the new value), read. */
export const counterModel: Model<number> = {
  init: 0,
  step(state, input, output) {
    switch (input.kind) {
      case 'incr':
        return output === undefined || output === state + 1 ? state + 1 : undefined;
      case 'read':
        return output === undefined || output === state ? state : undefined;
      default:
        return undefined;
    }
  },
  key: (state) => String(state),
};
