// Describes the machine a benchmark ran on, so that figures from different runs are read against their hardware.
import { readFileSync } from 'node:fs';
import { arch, cpus, release, totalmem, type, version } from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemoryBytes: number;
  /** e.g. "Debian GNU/Linux 12 (bookworm)"; the kernel alone does not say which distribution. */
  readonly os: string;
  readonly kernel: string;
  readonly arch: string;
  readonly node: string;
  readonly date: string;
}

export function machineInfo(now: Date = new Date()): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    totalMemoryBytes: totalmem(),
    os: osName(),
    kernel: `${type()} ${release()} (${version()})`,
    arch: arch(),
    node: process.version,
    date: now.toISOString(),
  };
}

export function formatMachine(info: MachineInfo): string {
  const gib = (info.totalMemoryBytes / 2 ** 30).toFixed(1);
  return [
    `machine  ${info.cpuModel}, ${info.cores} cores, ${gib} GiB memory`,
    `os       ${info.os}; ${info.kernel}; ${info.arch}`,
    `node     ${info.node}`,
    `date     ${info.date}`,
  ].join('\n');
}

/** PRETTY_NAME from os-release where there is one (Linux); otherwise the kernel's own name. */
function osName(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    if (match?.[1]) return match[1];
  } catch {
    // Not Linux, or a container without os-release: the kernel type is the best we have.
  }
  return type();
}
