// Content-block operations on one node: every block is checked against its address before it is stored,
// and removed only with its owner's signature.
import { isShoalError } from '../base/errors.js';
import { verifyContentBlock, verifyContentRemoval } from '../blocks/immutable.js';
import type { BlockStore } from '../store/block-store.js';
import { BATCH_BYTES_MAX } from '../base/limits.js';
import { NOT_SENT, OP, parseAddresses, parsePutContent, parseRemoveContent, type PutContentOutcome, type WireContentBlock } from '../wire/operations.js';
import type { Handler } from '../wire/wire-server.js';

export function blockServiceHandlers(store: BlockStore): Map<string, Handler> {
  return new Map<string, Handler>([
    [OP.putContent, (body) => putContent(store, body)],
    [OP.getContent, (body) => getContent(store, body)],
    // "Held" means durably: repair drops a surplus copy on the strength of this answer.
    [OP.hasContent, async (body) => {
      const held = parseAddresses(body).map((address) => store.hasContent(address));
      await store.durable();
      return held;
    }],
    [OP.removeContent, (body) => removeContent(store, body)],
  ]);
}

async function putContent(store: BlockStore, body: unknown): Promise<PutContentOutcome[]> {
  const items = parsePutContent(body);
  const outcomes: (PutContentOutcome | undefined)[] = items.map((item) => {
    try {
      verifyContentBlock(item.address, item.block);
      return undefined;
    } catch (err) {
      if (!isShoalError(err)) throw err;
      return { ok: false, kind: err.kind, message: err.message };
    }
  });
  const valid = items.filter((_, i) => outcomes[i] === undefined);
  // One transaction and one flush for the whole batch: the batch is what makes small puts cheap.
  const stored = await store.putContentMany(valid);
  let next = 0;
  return outcomes.map((outcome) => outcome ?? (stored[next++] as PutContentOutcome));
}

/**
 * Returns each block, null when it is not held, or NOT_SENT once the reply would outgrow a batch:
 * the client asks again for those, so a reply always fits one frame.
 */
function getContent(store: BlockStore, body: unknown): (WireContentBlock | null | typeof NOT_SENT)[] {
  let budget = BATCH_BYTES_MAX;
  return parseAddresses(body).map((address, index) => {
    if (budget <= 0) return NOT_SENT;
    const block = store.getContent(address);
    if (!block) return null;
    const bytes = block.owner.length + block.salt.length + block.data.length;
    if (bytes > budget && index > 0) {
      budget = 0;
      return NOT_SENT;
    }
    budget -= bytes;
    return block;
  });
}

async function removeContent(store: BlockStore, body: unknown): Promise<boolean> {
  const { address, signature } = parseRemoveContent(body);
  const block = store.getContent(address);
  if (!block) return false;
  verifyContentRemoval(block, address, signature);
  return store.removeContent(address);
}

