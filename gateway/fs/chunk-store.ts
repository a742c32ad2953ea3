// Sealed content blocks for chunks and FAT index blocks: each sealed with its own data key (AES-256-GCM), which is
// kept only in the reference to it, so storage nodes hold ciphertext they cannot open.
import { newDataKey, openData, sealData } from '../../storage-node/blocks/seal.js';
import type { SealedRef } from './fat-record.js';
import type { FsBlocks } from './fs-blocks.js';

export class ChunkStore {
  readonly #blocks: FsBlocks;

  constructor(blocks: FsBlocks) {
    this.#blocks = blocks;
  }

  async store(plaintext: Buffer): Promise<SealedRef> {
    const key = newDataKey(this.#blocks.entropy);
    const address = await this.#blocks.putContent(sealData(key, plaintext, this.#blocks.entropy));
    return { address, key };
  }

  async load(ref: SealedRef): Promise<Buffer> {
    return openData(ref.key, await this.#blocks.getContent(ref.address));
  }
}
