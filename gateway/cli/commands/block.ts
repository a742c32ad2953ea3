// `shoal block put|get|stat|rm`: content blocks by hand, for operators and scripts.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { CONTENT_BLOCK_BYTES_MAX } from '../../../storage-node/base/limits.js';
import { formatBytes } from '../../../storage-node/base/units.js';
import { addressHex, parseAddress } from '../../../storage-node/blocks/address.js';
import { newContentBlock, signContentRemoval } from '../../../storage-node/blocks/immutable.js';
import { newDataKey, openData, SEAL_OVERHEAD_BYTES, sealData } from '../../../storage-node/blocks/seal.js';
import { readAdminIdentity } from '../../../storage-node/cli/cluster-dir.js';
import { systemEntropy } from '../../../storage-node/system.js';
import { collect, connectClient, DEFAULT_CLUSTER_DIR, type ClientFlags } from '../cli-context.js';

interface OutputFlags {
  json?: boolean;
}

function clientOptions(command: Command): Command {
  return command
    .option('--dir <dir>', 'cluster directory (credentials; endpoints of `shoal cluster up`)', DEFAULT_CLUSTER_DIR)
    .option('--node <host:port>', 'a node to reach the cluster through (repeatable; default: SHOAL_NODE, then the endpoints in --dir)', collect)
    .option('--replicas <n>', 'copies of each block (R)', '3')
    .option('--zone <zone>', 'read from replicas in this zone first');
}

const DATA_BYTES_MAX = CONTENT_BLOCK_BYTES_MAX - 4096 - SEAL_OVERHEAD_BYTES;

export function registerBlockCommands(program: Command): void {
  const block = program.command('block').description('store, fetch and inspect content blocks directly');

  clientOptions(block.command('put').argument('<file>', 'file to store (at most 4 MiB: larger files go through a volume)'))
    .description('encrypt a file into one content block and store it on its R placed nodes')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, flags: ClientFlags & OutputFlags) => {
      const plaintext = await readFile(file);
      if (plaintext.length > DATA_BYTES_MAX) {
        throw new ShoalError('TooLarge', `${file} is ${formatBytes(plaintext.length)}; a block holds at most ${formatBytes(DATA_BYTES_MAX)}. Store larger files through a volume (NFS or S3)`, { subject: 'block' });
      }
      const owner = await readAdminIdentity(flags.dir);
      const key = newDataKey(systemEntropy);
      const { address, block: content } = newContentBlock(owner.publicKey, sealData(key, plaintext, systemEntropy), systemEntropy);
      const client = await connectClient(flags);
      try {
        const result = await client.putContent(address, content);
        await client.settled();
        const stat = await client.statContent(address);
        const out = { address: addressHex(address), key: key.toString('hex'), bytes: plaintext.length, placed: result.placed, holders: stat.holders.map((m) => m.id) };
        if (flags.json) console.log(JSON.stringify(out));
        else {
          console.log(`address  ${out.address}`);
          console.log(`key      ${out.key}   (keep it: the nodes hold only ciphertext)`);
          console.log(`stored   ${formatBytes(out.bytes)} on ${out.holders.length} of ${out.placed.length} placed nodes: ${out.placed.join(', ')}`);
        }
      } finally {
        client.close();
      }
    });

  clientOptions(block.command('get').argument('<address>', 'block address (64 hex digits)'))
    .description('fetch a block, check it against its address and decrypt it')
    .option('--key <hex>', 'the data key `block put` printed')
    .option('--raw', 'write the stored ciphertext instead of decrypting')
    .option('-o, --output <file>', 'write here instead of standard output')
    .action(async (text: string, flags: ClientFlags & { key?: string; raw?: boolean; output?: string }) => {
      const address = parseAddress(text);
      if (!flags.raw && (flags.key === undefined || !/^[0-9a-fA-F]{64}$/.test(flags.key))) {
        throw new ShoalError('Invalid', 'give --key with the 64-hex-digit key that `shoal block put` printed, or --raw for the ciphertext', { subject: 'config' });
      }
      const client = await connectClient(flags);
      try {
        const content = await client.getContent(address);
        const bytes = flags.raw ? content.data : openData(Buffer.from(flags.key as string, 'hex'), content.data);
        if (flags.output !== undefined) await writeFile(flags.output, bytes);
        else process.stdout.write(bytes);
      } finally {
        client.close();
      }
    });

  clientOptions(block.command('stat').argument('<address>', 'block address (64 hex digits)'))
    .description('show which nodes placement names for a block and which hold it')
    .option('--json', 'print the result as JSON')
    .action(async (text: string, flags: ClientFlags & OutputFlags) => {
      const address = parseAddress(text);
      const client = await connectClient(flags);
      try {
        const stat = await client.statContent(address);
        const holderIds = new Set(stat.holders.map((m) => m.id));
        const placedIds = new Set(stat.placed.map((m) => m.id));
        if (flags.json) {
          console.log(JSON.stringify({ address: text.toLowerCase(), placed: [...placedIds], holders: [...holderIds], unreachable: stat.unreachable.map((m) => m.id) }));
          return;
        }
        console.log(`block ${text.toLowerCase()}: held by ${holderIds.size}, placed on ${placedIds.size}`);
        console.log(['NODE'.padEnd(18), 'ADDRESS'.padEnd(22), 'ZONE'.padEnd(10), 'RACK'.padEnd(8), 'PLACED', 'HOLDS'].join(' '));
        const unreachable = new Set(stat.unreachable.map((m) => m.id));
        for (const member of client.members) {
          const holds = unreachable.has(member.id) ? 'unreachable' : holderIds.has(member.id) ? 'yes' : 'no';
          console.log([member.id.padEnd(18), member.address.padEnd(22), member.zone.padEnd(10), member.rack.padEnd(8), (placedIds.has(member.id) ? 'yes' : 'no').padEnd(6), holds].join(' '));
        }
      } finally {
        client.close();
      }
    });

  clientOptions(block.command('rm').argument('<address>', 'block address (64 hex digits)'))
    .description("remove a block from every node, signed with the cluster admin's key (its owner)")
    .action(async (text: string, flags: ClientFlags) => {
      const address = parseAddress(text);
      const owner = await readAdminIdentity(flags.dir);
      const client = await connectClient(flags);
      try {
        const { removedFrom } = await client.removeContent(address, signContentRemoval(owner, address));
        console.log(removedFrom.length === 0 ? 'no node held the block' : `removed from ${removedFrom.join(', ')}`);
      } finally {
        client.close();
      }
    });
}
