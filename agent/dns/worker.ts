// A DNS worker thread: one query loop (runtime.ts) over a mirror of the
// zone's objects, kept current by the change batches the main thread
// forwards. Its sockets share the listen addresses with the other workers'
// (SO_REUSEPORT). Logs and counters go to the main thread by message.
//
// Messages in: objects {changes, reset}, stats {id}, close.
// Messages out: ready {addresses}, failed {message, code}, stats {id, snapshot}, log {...}.

import { parentPort, workerData } from 'node:worker_threads';
import type { DnsLogger, DnsSettings } from '../dns.ts';
import type { UpstreamAddress } from './forwarder.ts';
import { createObjectMirror, type MirrorChange } from './object-mirror.ts';
import { type DnsRuntime, startRuntime } from './runtime.ts';

export interface WorkerData {
  settings: DnsSettings;
  upstreams: UpstreamAddress[];
}

export type ToWorker =
  | { type: 'objects'; changes: MirrorChange[]; reset: boolean }
  | { type: 'stats'; id: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; addresses: DnsRuntime['addresses'] }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'stats'; id: number; snapshot: ReturnType<DnsRuntime['stats']['snapshot']> }
  | {
      type: 'log';
      level: 'info' | 'warn' | 'error';
      fields: Record<string, unknown>;
      message: string;
    };

const port = parentPort;
if (port !== null) {
  const { settings, upstreams } = workerData as WorkerData;
  const post = (m: FromWorker) => port.postMessage(m);
  const log =
    (level: 'info' | 'warn' | 'error') => (fields: Record<string, unknown>, message: string) =>
      post({
        type: 'log',
        level,
        fields: JSON.parse(JSON.stringify(fields)) as Record<string, unknown>,
        message,
      });
  const logger: DnsLogger = { info: log('info'), warn: log('warn'), error: log('error') };
  const mirror = createObjectMirror();
  let runtime: DnsRuntime | undefined;
  let starting = false;

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'objects':
        mirror.apply(m.changes, m.reset);
        if (runtime) {
          if (m.reset) runtime.zoneSync.recordAll();
          else runtime.zoneSync.record(m.changes);
        } else if (!starting) {
          // The first snapshot is in: build the zone, then take queries.
          starting = true;
          startRuntime({ settings, upstreams, view: mirror, logger, reusePort: true }).then(
            (r) => {
              runtime = r;
              post({ type: 'ready', addresses: r.addresses });
            },
            (error: { message?: string; code?: string }) =>
              post({
                type: 'failed',
                message: String(error?.message ?? error),
                ...(error?.code ? { code: error.code } : {}),
              }),
          );
        }
        break;
      case 'stats':
        if (runtime) post({ type: 'stats', id: m.id, snapshot: runtime.stats.snapshot() });
        break;
      case 'close':
        void (runtime?.close() ?? Promise.resolve()).finally(() => port.close());
        break;
    }
  });
}
