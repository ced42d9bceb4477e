// The test side of netns-probe.ts: start a probe in a namespace and talk to it.

import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { NetnsScope } from './netns.ts';

export interface SeenBy {
  /** The client address as the server saw it. */
  remote: string;
  /** The server's own address on that connection. */
  local: string;
}

export type ConnectResult = { seenBy: SeenBy; local: string } | { error: string };

export interface Probe {
  readonly ns: string;
  listen(port: number, host?: string): Promise<void>;
  connect(host: string, port: number, timeoutMs?: number): Promise<ConnectResult>;
  addresses(): Promise<Record<string, string[]>>;
  stop(): void;
}

const NODE = process.execPath;
const SCRIPT = new URL('./netns-probe.ts', import.meta.url).pathname;

export async function startProbe(scope: NetnsScope, ns: string): Promise<Probe> {
  const child: ChildProcess = scope.spawn(ns, [NODE, SCRIPT]);
  const waiting = new Map<number, (value: Record<string, unknown>) => void>();
  let nextId = 1;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`probe in ${ns} exited ${code}`)));
    waiting.set(0, () => resolve());
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { id: number } & Record<string, unknown>;
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  const ask = (command: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      if (child.exitCode !== null) {
        reject(new Error(`probe in ${ns} is gone: ${stderr}`));
        return;
      }
      const id = nextId++;
      waiting.set(id, resolve);
      child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  await ready;
  return {
    ns,
    async listen(port, host = '0.0.0.0') {
      const answer = await ask({ cmd: 'listen', port, host });
      if (answer.error !== undefined)
        throw new Error(`listen ${host}:${port} in ${ns}: ${answer.error}`);
    },
    async connect(host, port, timeoutMs = 3000) {
      const answer = await ask({ cmd: 'connect', host, port, timeoutMs });
      return answer.error === undefined
        ? { seenBy: answer.seenBy as SeenBy, local: answer.local as string }
        : { error: answer.error as string };
    },
    async addresses() {
      return (await ask({ cmd: 'addresses' })).addresses as Record<string, string[]>;
    },
    stop() {
      child.stdin?.end();
      child.kill('SIGKILL');
    },
  };
}
