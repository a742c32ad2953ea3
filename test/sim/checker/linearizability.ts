// A Wing–Gong linearizability checker with Lowe's memoisation (as in Porcupine), for one object's history.
//
// Method: the history's call and return events, in real-time order, form a doubly linked list. The search walks
// it: at a call it tries to linearize that op now (the model must accept its output), removing the op's call and
// return from the list ("lifting") and restarting from the head; at a return whose op is not yet linearized it
// backtracks. A set of (linearized ops, model state) already explored prunes the search: the same set of ops in
// another order reaching the same state has the same future. Ops that never returned ("unknown") return at +∞:
// they may be linearized anywhere after their call, or never, so the search succeeds once every op that returned
// is linearized.
import type { OpOutput } from '../harness/op-history.js';
import type { Model, ModelInput } from './models.js';

export interface CheckOp {
  readonly id: number;
  /** Real-time order of the call and of the return (Infinity: never returned). */
  readonly call: number;
  readonly ret: number;
  readonly input: ModelInput;
  /** Undefined when the op never returned. */
  readonly output: OpOutput | undefined;
}

export type CheckResult =
  | { readonly ok: true; readonly explored: number }
  | { readonly ok: false; readonly explored: number; readonly reason: 'violation' | 'too-costly'; readonly deepest: readonly number[] };

interface Entry {
  readonly op: number;
  readonly isCall: boolean;
  readonly at: number;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

export function checkLinearizable<S>(model: Model<S>, ops: readonly CheckOp[], options: { exploredMax?: number } = {}): CheckResult {
  const exploredMax = options.exploredMax ?? 5_000_000;
  const head = buildList(ops);
  const mustReturn = ops.reduce((n, op) => n + (op.ret === Infinity ? 0 : 1), 0);
  // Zobrist hashing of the linearized set: two 32-bit words per op, xor-ed in and out.
  const zobrist = zobristTable(ops.length);
  const linearized = new Uint8Array(ops.length);
  let h1 = 0;
  let h2 = 0;
  let done = 0;
  let state = model.init;
  const seen = new Set<string>();
  const stack: { entry: Entry; state: S }[] = [];
  let deepest: number[] = [];
  let explored = 0;
  let entry = head.next;
  while (done < mustReturn) {
    if (++explored > exploredMax) return { ok: false, explored, reason: 'too-costly', deepest };
    if (entry === undefined) throw new Error('checker: ran off the list with returns still due');
    const op = ops[entry.op] as CheckOp;
    if (entry.isCall) {
      const next = model.step(state, op.input, op.output);
      if (next !== undefined) {
        const n1 = (h1 ^ (zobrist[2 * entry.op] as number)) >>> 0;
        const n2 = (h2 ^ (zobrist[2 * entry.op + 1] as number)) >>> 0;
        const key = `${n1}:${n2}:${model.key(next)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, state });
          state = next;
          h1 = n1;
          h2 = n2;
          linearized[entry.op] = 1;
          if (op.ret !== Infinity) done++;
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      // A return whose op is not linearized: every order tried from here failed; undo the last choice.
      if (stack.length > deepest.length) deepest = stack.map((s) => ops[s.entry.op]?.id ?? -1);
      const top = stack.pop();
      if (top === undefined) return { ok: false, explored, reason: 'violation', deepest };
      state = top.state;
      h1 = (h1 ^ (zobrist[2 * top.entry.op] as number)) >>> 0;
      h2 = (h2 ^ (zobrist[2 * top.entry.op + 1] as number)) >>> 0;
      linearized[top.entry.op] = 0;
      if ((ops[top.entry.op] as CheckOp).ret !== Infinity) done--;
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { ok: true, explored };
}

function buildList(ops: readonly CheckOp[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    if (!(op.call < op.ret)) throw new Error(`checker: op ${op.id} returns before it is called`);
    const call: Entry = { op: i, isCall: true, at: op.call, match: undefined, prev: undefined, next: undefined };
    const ret: Entry = { op: i, isCall: false, at: op.ret, match: call, prev: undefined, next: undefined };
    call.match = ret;
    entries.push(call, ret);
  });
  // Returns at +∞ keep their ops' call order, so the search is deterministic.
  entries.sort((a, b) => a.at - b.at || (a.at === Infinity ? a.op - b.op : 0));
  const head: Entry = { op: -1, isCall: false, at: -Infinity, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const entry of entries) {
    entry.prev = last;
    last.next = entry;
    last = entry;
  }
  return head;
}

function lift(call: Entry): void {
  const ret = call.match as Entry;
  (call.prev as Entry).next = call.next;
  if (call.next !== undefined) call.next.prev = call.prev;
  (ret.prev as Entry).next = ret.next;
  if (ret.next !== undefined) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match as Entry;
  (ret.prev as Entry).next = ret;
  if (ret.next !== undefined) ret.next.prev = ret;
  (call.prev as Entry).next = call;
  if (call.next !== undefined) call.next.prev = call;
}

/** Fixed pseudo-random words (xorshift32 from a constant): the checker needs no seed of its own. */
function zobristTable(count: number): Uint32Array {
  const table = new Uint32Array(2 * count);
  let x = 0x9e3779b9;
  for (let i = 0; i < table.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    table[i] = x;
  }
  return table;
}
