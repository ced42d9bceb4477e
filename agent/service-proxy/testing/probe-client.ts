// The test side of probe.ts: start a probe in a namespace and ask it things.

import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SeenBy {
  remote: string;
  local: string;
  localPort: number;
}

export type ProbeResult =
  | { seenBy: SeenBy; local?: string; ms?: number }
  | { error: string; ms?: number };

export interface Probe {
  listen(proto: 'tcp' | 'udp', port: number, host?: string): Promise<void>;
  tcp(host: string, port: number, timeoutMs?: number): Promise<ProbeResult>;
  udp(
    host: string,
    port: number,
    options?: { timeoutMs?: number; fromPort?: number },
  ): Promise<ProbeResult>;
  stop(): void;
}

export const PROBE_SCRIPT = new URL('./probe.ts', import.meta.url).pathname;

/** `spawn(argv)` starts argv inside the namespace (e.g. NetnsScope.spawn). */
export async function startProbe(
  spawn: (argv: string[]) => ChildProcess,
  label: string,
): Promise<Probe> {
  const child = spawn([process.execPath, PROBE_SCRIPT]);
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`probe ${label} exited ${code}: ${stderr}`)));
    waiting.set(0, () => resolve());
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const answer = JSON.parse(line) as { id: number } & Record<string, unknown>;
    waiting.get(answer.id)?.(answer);
    waiting.delete(answer.id);
  });
  let nextId = 1;
  const ask = (command: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      if (child.exitCode !== null) return reject(new Error(`probe ${label} is gone: ${stderr}`));
      const id = nextId++;
      waiting.set(id, resolve);
      child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  await ready;
  return {
    async listen(proto, port, host = '0.0.0.0') {
      const answer = await ask({ cmd: 'listen', proto, port, host });
      if (answer.error !== undefined)
        throw new Error(`probe ${label}: listen ${proto} ${host}:${port}: ${answer.error}`);
    },
    tcp: (host, port, timeoutMs = 2000) =>
      ask({ cmd: 'tcp', host, port, timeoutMs }) as Promise<ProbeResult>,
    udp: (host, port, options = {}) =>
      ask({ cmd: 'udp', host, port, ...options }) as Promise<ProbeResult>,
    stop() {
      child.stdin?.end();
      child.kill('SIGKILL');
    },
  };
}
