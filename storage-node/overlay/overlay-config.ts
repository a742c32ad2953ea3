// The overlay's intervals, timeouts and sizes, with defaults and the check that rejects absurd values.
import { ShoalError } from '../base/errors.js';
import { OVERLAY_RECORDS_PER_MESSAGE_MAX } from './overlay-messages.js';

export interface OverlayConfig {
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly indirectProbes: number;
  readonly suspectTimeoutMs: number;
  readonly gossipIntervalMs: number;
  readonly fanout: number;
  readonly piggybackMax: number;
  readonly gossipRecordsMax: number;
  readonly retransmitMult: number;
  readonly syncIntervalMs: number;
  readonly syncBuckets: number;
  readonly syncRecordsMax: number;
  readonly reconnectIntervalMs: number;
  readonly joinRetryMs: number;
  readonly usedBytesPublishIntervalMs: number;
  readonly deadMemberRetentionMs: number;
}

/**
 * Defaults after memberlist's LAN profile (probe 1 s, timeout 500 ms, 3 indirect, gossip 200 ms to 3),
 * which detects a failure in seconds on a LAN without false positives at a few percent loss. With them, a
 * crash is dead everywhere in about probe (≤ 1 s) + suspicion (10 s) + spread (≈ 2 s at 10,000 nodes).
 */
export const OVERLAY_CONFIG_DEFAULTS: OverlayConfig = {
  probeIntervalMs: 1_000,
  probeTimeoutMs: 500,
  indirectProbes: 5,
  suspectTimeoutMs: 10_000,
  gossipIntervalMs: 200,
  fanout: 3,
  piggybackMax: 8,
  gossipRecordsMax: 32,
  retransmitMult: 4,
  syncIntervalMs: 10_000,
  syncBuckets: 256,
  syncRecordsMax: 512,
  reconnectIntervalMs: 2_000,
  joinRetryMs: 1_000,
  usedBytesPublishIntervalMs: 60_000,
  deadMemberRetentionMs: 24 * 3_600_000,
};

/** One line per setting, for `--help` next to the default. */
export const OVERLAY_CONFIG_HELP: Readonly<Record<keyof OverlayConfig, string>> = {
  probeIntervalMs: 'SWIM protocol period: each node probes one member per period',
  probeTimeoutMs: 'wait for a direct ack before asking others to probe (indirect probe)',
  indirectProbes: 'members asked to probe a target that did not answer directly',
  suspectTimeoutMs: 'how long a suspect has to refute before it is declared dead',
  gossipIntervalMs: 'how often recent changes are pushed to random members',
  fanout: 'members each gossip round pushes to',
  piggybackMax: 'recent changes carried by each probe and ack',
  gossipRecordsMax: 'recent changes carried by each gossip message',
  retransmitMult: 'each change is sent retransmitMult × ceil(log10(members + 1)) times by each node',
  syncIntervalMs: 'anti-entropy: how often a node compares digests with a random member',
  syncBuckets: 'anti-entropy digest size (a power of two; the same on every node)',
  syncRecordsMax: 'records in one anti-entropy reply; more are pulled at once in further replies',
  reconnectIntervalMs: 'how often dead members are tried again (each about once per interval cluster-wide)',
  joinRetryMs: 'how often a joining node asks its seed again until it answers',
  usedBytesPublishIntervalMs: 'used-bytes changes are published at most this often',
  deadMemberRetentionMs: 'dead and left records are kept this long, then forgotten',
};

function invalid(message: string): ShoalError {
  return new ShoalError('Invalid', message, { subject: 'config' });
}

/** Defaults under the given values, checked one by one and in relation; the message says what to change. */
export function validateOverlayConfig(overrides: Partial<OverlayConfig> = {}): OverlayConfig {
  const config: OverlayConfig = { ...OVERLAY_CONFIG_DEFAULTS, ...overrides };
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw invalid(`overlay ${key} must be a positive integer (default ${OVERLAY_CONFIG_DEFAULTS[key as keyof OverlayConfig]}), not ${String(value)}`);
    }
  }
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw invalid(`overlay probeTimeoutMs (${config.probeTimeoutMs}) must be below probeIntervalMs (${config.probeIntervalMs}) to leave time for the indirect probe`);
  }
  if (config.suspectTimeoutMs < 2 * config.probeIntervalMs) {
    throw invalid(`overlay suspectTimeoutMs (${config.suspectTimeoutMs}) must be at least 2 × probeIntervalMs so that a suspect can refute`);
  }
  if (!Number.isInteger(Math.log2(config.syncBuckets)) || config.syncBuckets > 65536) {
    throw invalid(`overlay syncBuckets (${config.syncBuckets}) must be a power of two up to 65536, e.g. 256`);
  }
  for (const key of ['piggybackMax', 'gossipRecordsMax', 'syncRecordsMax'] as const) {
    if (config[key] > OVERLAY_RECORDS_PER_MESSAGE_MAX) {
      throw invalid(`overlay ${key} (${config[key]}) must be at most ${OVERLAY_RECORDS_PER_MESSAGE_MAX}, what a peer accepts in one message`);
    }
  }
  return config;
}
