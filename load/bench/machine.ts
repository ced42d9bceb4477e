// The machine a result was measured on: results from different machines are
// not comparable, so every report names it.

import { readFile } from 'node:fs/promises';
import { arch, cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  arch: string;
  node: string;
  /** 1-minute load average when the run started: high means the numbers are suspect. */
  loadAverage: number;
}

async function osName(): Promise<string> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
    return pretty ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(): Promise<Machine> {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: await osName(),
    kernel: release(),
    arch: arch(),
    node: process.version,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
