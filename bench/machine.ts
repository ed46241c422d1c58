import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { Piscina } from 'piscina';

/** The machine and software a benchmark ran on, for the report's header. */
export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGB: number;
  node: string;
  piscina: string;
  /** The 1-minute load average when the run started: the machine may be shared. */
  loadAverage: number;
}

/**
 * Describes this machine; the CPU model comes from /proc/cpuinfo where there is one.
 *
 * @example
 * ```ts
 * machineInfo().cores; // 2
 * ```
 */
export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cores: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    piscina: Piscina.version,
    loadAverage: loadavg()[0]!,
  };
}

/** One line for the report: `2 cores, AMD EPYC, 8 GB, Node v20.20.2, piscina 5.3.2`. */
export function describeMachine(info: MachineInfo): string {
  return (
    `${info.date} · ${info.cores} cores (availableParallelism) · CPU ${info.cpuModel} · ${info.memoryGB} GB · ` +
    `Node ${info.node} · piscina ${info.piscina} · load average at start ${info.loadAverage.toFixed(2)}`
  );
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1]!.trim();
  } catch {
    // Not Linux: fall back to what os.cpus() reports.
  }
  return cpus()[0]?.model ?? 'unknown';
}
