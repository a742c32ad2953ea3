// Repair progress for `shoal status`: each serving node's blocks and bytes left to move, rate, ETA and a text bar.
import { formatBytes } from '../../../storage-node/base/units.js';
import { isServing } from '../../../storage-node/overlay/membership.js';
import type { ConnectionPool } from '../../../storage-node/wire/connection-pool.js';
import { OP, parseRepairStatus, type MemberView, type RepairStatus } from '../../../storage-node/wire/operations.js';

const BAR_WIDTH = 20;

export interface NodeProgress {
  readonly id: string;
  readonly state: string;
  /** Undefined when the node did not answer. */
  readonly status: RepairStatus | undefined;
}

export async function fetchRepairProgress(pool: ConnectionPool, members: readonly MemberView[]): Promise<NodeProgress[]> {
  return Promise.all(members.filter(isServing).map(async (m) => {
    try {
      const status = parseRepairStatus(await pool.request({ address: m.address, id: m.id }, OP.repairStatus, null, { timeoutMs: 3000 }));
      return { id: m.id, state: m.state, status };
    } catch {
      return { id: m.id, state: m.state, status: undefined };
    }
  }));
}

/** `[#######.............]  35%`: how much of the bytes pending at the start of this move are moved. */
export function progressBar(pendingBytes: number, episodeBytes: number): string {
  const fraction = episodeBytes <= 0 ? 1 : Math.min(1, Math.max(0, 1 - pendingBytes / episodeBytes));
  const filled = Math.round(fraction * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

export function formatEta(pendingBytes: number, bytesPerSecond: number): string {
  if (pendingBytes === 0) return 'done';
  if (bytesPerSecond <= 0) return '-';
  const seconds = Math.ceil(pendingBytes / bytesPerSecond);
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

export function formatRepairTable(rows: readonly NodeProgress[]): string {
  const table = [['ID', 'STATE', 'BLOCKS', 'HELD', 'TO MOVE', 'BYTES TO MOVE', 'RATE', 'ETA', 'PROGRESS']];
  for (const row of [...rows].sort((a, b) => a.id.localeCompare(b.id))) {
    const s = row.status;
    if (!s) {
      table.push([row.id, row.state, '?', '?', '?', '?', '?', '?', 'no answer']);
      continue;
    }
    table.push([
      row.id, s.draining ? 'draining' : row.state, String(s.heldBlocks), formatBytes(s.heldBytes), String(s.pendingBlocks),
      formatBytes(s.pendingBytes), `${formatBytes(s.bytesPerSecond)}/s`, formatEta(s.pendingBytes, s.bytesPerSecond),
      progressBar(s.pendingBytes, s.episodeBytes),
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((r) => r[column]!.length)));
  return table.map((r) => r.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}
