// A storage node's configuration: flags over defaults, checked once with messages that say the fix.
import { isIP } from 'node:net';
import { ShoalError } from './base/errors.js';
import { validateOverlayConfig, type OverlayConfig } from './overlay/overlay-config.js';
import { validateRepairConfig, type RepairConfig } from './server/repair/repair-config.js';
import { splitHostPort } from './wire/wire-connection.js';

export interface NodeConfig {
  /** Cluster directory: the CA to issue this node's certificate from (unless --cert/--key are given). */
  readonly clusterDir: string;
  readonly dataPath: string;
  readonly host: string;
  readonly port: number;
  readonly zone: string;
  readonly rack: string;
  readonly capacityBytes: number;
  readonly join?: string;
  /** host:port others reach this node at, when not --listen (a proxy, NAT). */
  readonly advertise?: string;
  /** The local address connections to other nodes come from (a multi-homed host; tests tell nodes apart by it). */
  readonly sourceAddress?: string;
  readonly certPath?: string;
  readonly keyPath?: string;
  readonly metricsHost?: string;
  readonly metricsPort?: number;
  readonly logLevel: string;
  readonly overlay: Partial<OverlayConfig>;
  readonly repair: RepairConfig;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function validateNodeConfig(config: NodeConfig): NodeConfig {
  const fail = (message: string): never => {
    throw new ShoalError('Invalid', message, { subject: 'config' });
  };
  if (!NAME.test(config.zone)) fail(`--zone "${config.zone}": use letters, digits, '.', '_' or '-' (e.g. eu-west-1a)`);
  if (!NAME.test(config.rack)) fail(`--rack "${config.rack}": use letters, digits, '.', '_' or '-' (e.g. r12)`);
  if (config.capacityBytes < 1024 * 1024) fail(`--capacity must be at least 1MiB (got ${config.capacityBytes} bytes)`);
  if ((config.certPath === undefined) !== (config.keyPath === undefined)) fail('give --cert and --key together, or neither (the node then issues its own from --dir)');
  if (config.join !== undefined) splitHostPort(config.join);
  if (config.advertise !== undefined) splitHostPort(config.advertise);
  if (config.sourceAddress !== undefined && isIP(config.sourceAddress) === 0) fail(`--source-address "${config.sourceAddress}": give an IP address of this host (e.g. 10.0.0.5)`);
  validateOverlayConfig(config.overlay);
  validateRepairConfig(config.repair);
  return config;
}
