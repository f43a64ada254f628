import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
}

/** The machine a benchmark ran on, as the results file and the README quote it. */
export function machineInfo(now = new Date()): MachineInfo {
  const c = cpus();
  return {
    cpuModel: (c[0]?.model ?? 'unknown').trim(),
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    date: now.toISOString(),
  };
}
