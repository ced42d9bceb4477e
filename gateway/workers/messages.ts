// What the primary and its gateway workers say to each other over the
// cluster IPC channel. Every message has a `type` starting with `pier:`, so
// prom-client's own messages (metrics aggregation) pass by untouched.

export interface ReadyMessage {
  type: 'pier:ready';
  /** Ports the worker listens on. */
  ports: number[];
}

export interface ShutdownMessage {
  type: 'pier:shutdown';
  /** Why, for the worker's log. */
  reason: string;
}

export type WorkerMessage = ReadyMessage;
export type PrimaryMessage = ShutdownMessage;

export function isReadyMessage(message: unknown): message is ReadyMessage {
  return (message as { type?: unknown } | null)?.type === 'pier:ready';
}

export function isShutdownMessage(message: unknown): message is ShutdownMessage {
  return (message as { type?: unknown } | null)?.type === 'pier:shutdown';
}
