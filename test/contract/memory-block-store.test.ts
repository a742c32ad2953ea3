// Runs the BlockStore contract against the in-memory store; a reopen is a new store on the same MemoryBlockDisk.
import { MemoryBlockDisk, MemoryBlockStore } from '../../storage-node/store/memory-block-store.js';
import { blockStoreContract } from './block-store.contract.js';

blockStoreContract('memory', async (capacityBytes) => {
  const disk = new MemoryBlockDisk();
  let current = new MemoryBlockStore({ capacityBytes, disk });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new MemoryBlockStore({ capacityBytes, disk });
      return current;
    },
    cleanup: () => current.close(),
  };
});
