// Goal: the acceptor service leaves nothing it stepped to unwritten when its node closes, including learned values
// whose write it had deferred (a confirm needs no reply, so its state waits for the next group commit or a timer).
// Method: the real service over the in-memory store, fed a confirm carrying a signed first version; closed at once.
import test from 'ava';
import { silentLogger } from '../../../../storage-node/base/log.js';
import { addressHex } from '../../../../storage-node/blocks/address.js';
import { firstOwnerVersion } from '../../../../storage-node/blocks/mutable.js';
import { identityFromSeed } from '../../../../storage-node/blocks/sign.js';
import type { VersionRecord } from '../../../../storage-node/blocks/version-record.js';
import type { AcceptorBlockState } from '../../../../storage-node/consensus/acceptor.js';
import { AcceptorService } from '../../../../storage-node/server/acceptor-service.js';
import { MemoryAcceptorStore } from '../../../../storage-node/store/acceptor-store.js';

test('close writes the states of learned confirms still waiting for their deferred write', async (t) => {
  const store = new MemoryAcceptorStore<AcceptorBlockState<VersionRecord>>();
  const service = new AcceptorService({ nodeId: 'n1', store, log: silentLogger });
  const owner = identityFromSeed(Buffer.alloc(32, 7));
  const value = firstOwnerVersion(owner, Buffer.alloc(16, 1), Buffer.from('sealed'), ['n1', 'n2', 'n3']);
  const block = addressHex(value.address);
  const origin = { round: 1, proposer: 'client:a/1' };
  const request = { peerId: 'client:a', peerRole: 'client', signal: new AbortController().signal };

  const reply = await service.handle({ messages: [{ kind: 'confirm', block, from: 'client:a', chosen: { version: 1, origin, value } }] }, request);
  t.deepEqual(reply.messages, [], 'a confirm is not answered');
  t.is(store.load(block), undefined, 'its write is deferred');
  await service.close();
  t.is(store.load(block)?.chosen?.value.version, 1, 'written by close');
});
