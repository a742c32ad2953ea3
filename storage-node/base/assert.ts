// Invariant checks: a failed assertion is a programmer error, never a reply to bad input (that is ShoalError 'Invalid').

export class AssertionFailed extends Error {
  override readonly name = 'AssertionFailed';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionFailed(`${message}: ${JSON.stringify(value)}`);
}
