// Repair's settings (flags of `shoal node run`), their defaults and the checks that say how to fix a bad value.
import { ShoalError } from '../../base/errors.js';
import { REPLICAS_MAX } from '../../placement/policy.js';

export interface RepairConfig {
  /** Bytes per second repair may copy to other nodes; client traffic gets the rest. */
  readonly bytesPerSecond: number;
  readonly blocksPerSecond: number;
  /** A dead member counts as gone for placement only after this long, so that a restart is not repaired around. */
  readonly replaceAfterMs: number;
  /** Pause between two walks of the store. */
  readonly intervalMs: number;
  /** Blocks looked at per step: small, so that a step never holds the event loop long. */
  readonly batchBlocks: number;
  /** Copies each content block should have (R): content blocks do not carry their volume's R. */
  readonly replicas: number;
}

export const REPAIR_CONFIG_DEFAULTS: RepairConfig = {
  bytesPerSecond: 50e6,
  blocksPerSecond: 1000,
  replaceAfterMs: 60_000,
  intervalMs: 10_000,
  batchBlocks: 64,
  replicas: 3,
};

export function validateRepairConfig(config: RepairConfig): RepairConfig {
  const fail = (message: string): never => {
    throw new ShoalError('Invalid', message, { subject: 'config' });
  };
  if (!(config.bytesPerSecond >= 1024)) fail(`--repair-rate must be at least 1KiB (per second), got ${config.bytesPerSecond} bytes`);
  if (!(config.blocksPerSecond >= 1)) fail(`--repair-blocks-rate must be at least 1 block per second, got ${config.blocksPerSecond}`);
  if (!(config.replaceAfterMs >= 0)) fail(`--replace-after must be a duration of 0 or more, e.g. 60s; got ${config.replaceAfterMs} ms`);
  if (!(config.intervalMs >= 10)) fail(`--repair-interval must be at least 10ms, got ${config.intervalMs} ms`);
  if (!Number.isInteger(config.batchBlocks) || config.batchBlocks < 1 || config.batchBlocks > 1000) fail(`repair batch must be 1 to 1000 blocks, got ${config.batchBlocks}`);
  if (!Number.isInteger(config.replicas) || config.replicas < 1 || config.replicas > REPLICAS_MAX) {
    fail(`--repair-replicas must be a whole number from 1 to ${REPLICAS_MAX}, got ${config.replicas}`);
  }
  return config;
}
