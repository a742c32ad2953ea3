// `shoal status`, `shoal node drain` and `shoal node leave`: the member list and repair progress, emptying a node, a graceful leave.
import type { Command } from 'commander';
import { ShoalError } from '../../../storage-node/base/errors.js';
import { formatBytes } from '../../../storage-node/base/units.js';
import { clientCredentials } from '../../../storage-node/cli/cluster-dir.js';
import { ConnectionPool } from '../../../storage-node/wire/connection-pool.js';
import { OP, parseMembers, type MemberView } from '../../../storage-node/wire/operations.js';
import { collect, DEFAULT_CLUSTER_DIR, parseReplicas, seedsFor } from '../cli-context.js';
import { fetchRepairProgress, formatRepairTable } from './repair-progress.js';

interface StatusFlags {
  dir: string;
  node?: string[];
  json?: boolean;
  repair?: boolean;
}

function formatAgo(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return 'now';
  if (ms < 120_000) return `${Math.round(ms / 1000)}s ago`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m ago`;
  return `${Math.round(ms / 3_600_000)}h ago`;
}

export function formatMembersTable(members: readonly MemberView[]): string {
  const rows = [['ID', 'ADDRESS', 'ZONE', 'RACK', 'STATE', 'CAPACITY', 'USED', 'LAST HEARD', 'INCARNATION']];
  const order = [...members].sort((a, b) => a.zone.localeCompare(b.zone) || a.rack.localeCompare(b.rack) || a.id.localeCompare(b.id));
  for (const m of order) {
    rows.push([m.id, m.address, m.zone, m.rack, m.state, formatBytes(m.capacityBytes), formatBytes(m.usedBytes), formatAgo(m.lastHeardAgoMs), String(m.incarnation)]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** Asks the given nodes in turn; the first that answers speaks for the cluster. */
async function membersFrom(pool: ConnectionPool, seeds: readonly string[]): Promise<{ seed: string; members: MemberView[] }> {
  const failures: string[] = [];
  for (const seed of seeds) {
    try {
      return { seed, members: parseMembers(await pool.request({ address: seed }, OP.members, null, { timeoutMs: 5000 })) };
    } catch (err) {
      failures.push(`${seed}: ${(err as Error).message}`);
    }
  }
  throw new ShoalError('Unavailable', `no node answered (${failures.join('; ')}); is the cluster running? (\`npm start\` or \`shoal cluster up\`)`, { subject: 'node' });
}

export function registerStatusCommands(program: Command): void {
  program.command('status')
    .description('list the members of the cluster as a node sees them: state, capacity, used bytes, last heard')
    .option('--dir <dir>', 'cluster directory (credentials; endpoints of `shoal cluster up`)', DEFAULT_CLUSTER_DIR)
    .option('--node <host:port>', 'node to ask (repeatable; default: SHOAL_NODE, then the endpoints in --dir)', collect)
    .option('--json', 'print the members as JSON')
    .option('--repair', 'with --json: print each node\'s repair progress instead of the members')
    .action(async (flags: StatusFlags) => {
      const pool = new ConnectionPool(await clientCredentials(flags.dir, 'cli'));
      try {
        const { seed, members } = await membersFrom(pool, seedsFor(flags));
        const progress = await fetchRepairProgress(pool, members);
        if (flags.json) {
          console.log(JSON.stringify(flags.repair ? progress : members));
          return;
        }
        const counts = new Map<string, number>();
        for (const m of members) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
        console.log(formatMembersTable(members));
        console.log(`\n${members.length} members: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')} (as seen by ${seed})`);
        console.log(`\nrepair and rebalance:\n${formatRepairTable(progress)}`);
      } finally {
        pool.close();
      }
    });

  const node = program.commands.find((c) => c.name() === 'node') ?? program.command('node');
  node.command('drain')
    .description('move every block off a node (placement stops choosing it; repair copies its blocks away); leave once it holds none')
    .argument('<node>', 'node id (as `shoal status` lists it) or its host:port')
    .option('--dir <dir>', 'cluster directory (credentials; endpoints of `shoal cluster up`)', DEFAULT_CLUSTER_DIR)
    .option('--node <host:port>', 'node to look the id up through (repeatable; default: SHOAL_NODE, then the endpoints in --dir)', collect)
    .option('--replicas <n>', 'copies each block should keep (R): a drain that would leave fewer nodes is refused', '3')
    .option('--force', 'drain even when fewer than R nodes would be left (blocks then keep fewer copies)')
    .action(async (target: string, flags: { dir: string; node?: string[]; replicas: string; force?: boolean }) => {
      const pool = new ConnectionPool(await clientCredentials(flags.dir, 'cli'));
      try {
        const { members } = await membersFrom(pool, target.includes(':') ? [target] : seedsFor(flags));
        const member = members.find((m) => m.id === target || m.address === target);
        if (!member) throw new ShoalError('NotFound', `no member ${target}: \`shoal status\` lists the ids`, { subject: 'node' });
        if (member.state !== 'alive' && member.state !== 'suspect' && member.state !== 'draining') {
          throw new ShoalError('Invalid', `node ${member.id} is ${member.state}: only a serving node can be drained`, { subject: 'node' });
        }
        const replicas = parseReplicas(flags.replicas);
        const remaining = members.filter((m) => m.id !== member.id && (m.state === 'alive' || m.state === 'suspect')).length;
        if (remaining < replicas && !flags.force) {
          throw new ShoalError('Invalid', `draining ${member.id} would leave ${remaining} nodes to hold R = ${replicas} copies of each block: add a node first, or pass --force`, { subject: 'node' });
        }
        await pool.request({ address: member.address, id: member.id }, OP.drain, null, { timeoutMs: 5000 });
        console.log(`${member.id} (${member.address}) is draining; follow it with \`shoal status\`, then \`shoal node leave --node ${member.address}\` once it holds 0 blocks`);
      } finally {
        pool.close();
      }
    });

  node.command('leave')
    .description('make a node leave the cluster gracefully (others record it as left, not dead) and stop')
    .requiredOption('--node <host:port>', 'the node that should leave')
    .option('--dir <dir>', 'cluster directory (credentials)', DEFAULT_CLUSTER_DIR)
    .action(async (flags: { node: string; dir: string }) => {
      const pool = new ConnectionPool(await clientCredentials(flags.dir, 'cli'));
      try {
        await pool.request({ address: flags.node }, OP.leave, null, { timeoutMs: 5000 });
        console.log(`${flags.node} is leaving the cluster`);
      } finally {
        pool.close();
      }
    });
}
