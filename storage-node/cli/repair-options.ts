// The repair flags of `shoal node run` (rate, replacement delay, walk interval, R), with their defaults in --help.
import type { Command } from 'commander';
import { ShoalError } from '../base/errors.js';
import { formatBytes, parseBytes, parseDurationMs } from '../base/units.js';
import { REPAIR_CONFIG_DEFAULTS, type RepairConfig } from '../server/repair/repair-config.js';

export function addRepairOptions(command: Command): void {
  const d = REPAIR_CONFIG_DEFAULTS;
  command
    .option('--repair-rate <size>', `repair: bytes per second copied to other nodes, e.g. 50MB (${formatBytes(d.bytesPerSecond)}/s)`, String(d.bytesPerSecond))
    .option('--repair-blocks-rate <n>', 'repair: blocks per second copied to other nodes', String(d.blocksPerSecond))
    .option('--replace-after <duration>', 'repair: how long a member must be dead before its blocks are copied elsewhere (a restart within it costs nothing)', `${d.replaceAfterMs / 1000}s`)
    .option('--repair-interval <duration>', 'repair: pause between two walks of this node\'s store', `${d.intervalMs / 1000}s`)
    .option('--repair-replicas <n>', 'repair: copies of a content block stored without its own count (each block keeps the R its writer asked for)', String(d.replicas));
}

function wholeNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new ShoalError('Invalid', `${flag} "${text}": give a whole number`, { subject: 'config' });
  return value;
}

export function repairConfigFrom(flags: Record<string, string | undefined>): RepairConfig {
  const d = REPAIR_CONFIG_DEFAULTS;
  return {
    bytesPerSecond: flags['repairRate'] === undefined ? d.bytesPerSecond : parseBytes(flags['repairRate']),
    blocksPerSecond: flags['repairBlocksRate'] === undefined ? d.blocksPerSecond : wholeNumber(flags['repairBlocksRate'], '--repair-blocks-rate'),
    replaceAfterMs: flags['replaceAfter'] === undefined ? d.replaceAfterMs : parseDurationMs(flags['replaceAfter']),
    intervalMs: flags['repairInterval'] === undefined ? d.intervalMs : parseDurationMs(flags['repairInterval']),
    batchBlocks: d.batchBlocks,
    replicas: flags['repairReplicas'] === undefined ? d.replicas : wholeNumber(flags['repairReplicas'], '--repair-replicas'),
  };
}
