#!/usr/bin/env node
// The `shoal` command: parses arguments and calls the parts; errors are printed as one line with the fix.
import { Command } from 'commander';
import { isShoalError } from '../../storage-node/base/errors.js';
import { registerNodeCommands } from '../../storage-node/cli/node-commands.js';
import { DEFAULT_CLUSTER_DIR } from './cli-context.js';
import { registerBlockCommands } from './commands/block.js';
import { registerClusterUp } from './commands/cluster-up.js';
import { registerGatewayCommands } from './commands/gateway.js';
import { registerKeyCommands } from './commands/key.js';
import { registerPresignCommand } from './commands/presign.js';
import { registerStatusCommands } from './commands/status.js';
import { registerVolumeCommands } from './commands/volume.js';

const program = new Command('shoal')
  .description('Shoal: decentralised storage for container and VM fleets')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');

registerNodeCommands(program, { clusterDir: DEFAULT_CLUSTER_DIR });
registerClusterUp(program);
registerBlockCommands(program);
registerStatusCommands(program);
registerVolumeCommands(program);
registerGatewayCommands(program);
registerKeyCommands(program);
registerPresignCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (isShoalError(err)) {
    process.stderr.write(`shoal: ${err.message}\n`);
    process.exit(err.kind === 'Invalid' ? 2 : 1);
  }
  throw err;
}
