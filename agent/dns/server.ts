// createDnsServer: the query loop in this thread (workers: 1), or in worker
// threads that share the listen addresses through SO_REUSEPORT, each with
// its own zone (rebuilt from forwarded change batches), cache and
// forwarder. The main thread keeps the informer subscription, restarts a
// worker that dies, and sums the workers' counters.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { formatHostPort, parseHostPort } from '../../src/config/host-port.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { kindKeyOf } from '../../src/model/object.ts';
import type { DnsAddress, DnsLogger, DnsServer, DnsServerOptions } from '../dns.ts';
import { DnsErrors } from './errors.ts';
import type { MirrorChange } from './object-mirror.ts';
import { type DnsRuntime, startRuntime } from './runtime.ts';
import { type DnsStatsSnapshot, mergeSnapshots } from './stats.ts';
import { resolveUpstreams } from './upstreams.ts';
import type { FromWorker, ToWorker, WorkerData } from './worker.ts';
import { ZONE_KINDS } from './zone-sync.ts';

const stderrLogger: DnsLogger = {
  info: (fields, msg) =>
    process.stderr.write(`${JSON.stringify({ level: 30, time: Date.now(), ...fields, msg })}\n`),
  warn: (fields, msg) =>
    process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), ...fields, msg })}\n`),
  error: (fields, msg) =>
    process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), ...fields, msg })}\n`),
};

const zoneKinds = new Set(ZONE_KINDS);

export function createDnsServer(options: DnsServerOptions): DnsServer {
  const { settings, objects } = options;
  const logger = options.logger ?? stderrLogger;
  const workerCount = settings.workers === 0 ? availableParallelism() : settings.workers;
  let runtime: DnsRuntime | undefined;
  let pool: WorkerPool | undefined;
  let unsubscribe: (() => void) | undefined;

  const server: DnsServer = {
    async start() {
      const listen = settings.listen.map((l) => parseHostPort(l) ?? { host: l, port: -1 });
      let upstreams: WorkerData['upstreams'] = [];
      if (settings.forward.enabled) {
        const resolved = resolveUpstreams(
          settings.forward.upstreams,
          settings.forward.resolvConf,
          listen,
        );
        upstreams = resolved.upstreams;
        if (upstreams.length === 0) {
          const e = DnsErrors.NO_UPSTREAMS(resolved.source);
          logger.warn({ code: e.code }, e.message);
        } else
          logger.info(
            { upstreams: upstreams.map((u) => `${u.address}:${u.port}`), source: resolved.source },
            'dns forwarding',
          );
      }
      // Subscribe before the first read of the objects: changes made while the
      // zone is built and the sockets bind wait here, then go in order (replaying
      // one the first read already saw is harmless: the last state wins).
      let deliver: ((changes: MirrorChange[]) => void) | undefined;
      const early: MirrorChange[] = [];
      unsubscribe = objects.subscribe((batch) => {
        const changes = batch.changes.filter((c) =>
          zoneKinds.has(kindKeyOf(c.object)),
        ) as MirrorChange[];
        if (changes.length === 0) return;
        if (deliver) deliver(changes);
        else early.push(...changes);
      });
      try {
        if (workerCount <= 1) {
          const r = await startRuntime({
            settings,
            upstreams,
            view: objects,
            logger,
            reusePort: false,
          });
          runtime = r;
          deliver = (changes) => r.zoneSync.record(changes);
        } else {
          const p = await startWorkers(workerCount, { settings, upstreams }, objects, logger);
          pool = p;
          deliver = (changes) => p.broadcast({ type: 'objects', changes, reset: false });
        }
      } catch (error) {
        unsubscribe();
        unsubscribe = undefined;
        throw error;
      }
      if (early.length > 0) deliver(early.splice(0));
      logger.info(
        {
          addresses: server.addresses().map((a) => `${a.transport} ${a.address}:${a.port}`),
          workers: workerCount,
        },
        'dns listening',
      );
    },
    addresses() {
      return runtime?.addresses ?? pool?.addresses ?? [];
    },
    async stats() {
      if (runtime) return runtime.stats.snapshot();
      return pool ? pool.stats() : mergeSnapshots([]);
    },
    async close() {
      unsubscribe?.();
      unsubscribe = undefined;
      await runtime?.close();
      runtime = undefined;
      await pool?.close();
      pool = undefined;
    },
  };
  return server;
}

interface WorkerPool {
  addresses: DnsAddress[];
  broadcast(m: ToWorker): void;
  stats(): Promise<DnsStatsSnapshot>;
  close(): Promise<void>;
}

async function startWorkers(
  count: number,
  data: WorkerData,
  objects: DnsServerOptions['objects'],
  logger: DnsLogger,
): Promise<WorkerPool> {
  const workers: (Worker | undefined)[] = new Array(count).fill(undefined);
  const statsWaiters = new Map<
    number,
    { snapshots: DnsStatsSnapshot[]; expected: number; resolve: (s: DnsStatsSnapshot) => void }
  >();
  let nextStatsId = 0;
  let closing = false;
  const snapshot = (): MirrorChange[] =>
    ZONE_KINDS.flatMap((kind) => objects.list<KubeObject>(kind)).map((object) => ({
      type: 'added',
      object,
    }));

  const spawn = (index: number, workerData: WorkerData): Promise<DnsAddress[]> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData });
      workers[index] = worker;
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          ready = true;
          resolve(m.addresses);
        } else if (m.type === 'failed') {
          reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
          void worker.terminate();
        } else if (m.type === 'log') {
          logger[m.level]({ ...m.fields, worker: index }, m.message);
        } else if (m.type === 'stats') {
          const waiter = statsWaiters.get(m.id);
          if (waiter) {
            waiter.snapshots.push(m.snapshot);
            if (waiter.snapshots.length === waiter.expected) {
              statsWaiters.delete(m.id);
              waiter.resolve(mergeSnapshots(waiter.snapshots));
            }
          }
        }
      });
      worker.on('error', (error) => {
        logger.error(
          { code: DnsErrors.codes.WORKER_FAILED, worker: index },
          DnsErrors.WORKER_FAILED(index, error.message).message,
        );
      });
      worker.on('exit', (code) => {
        if (workers[index] === worker) workers[index] = undefined;
        if (!ready) {
          reject(DnsErrors.WORKER_FAILED(index, `exited with code ${code} before listening`));
          return;
        }
        if (closing) return;
        // A worker that died is replaced; its sockets went with it, the others kept serving.
        logger.error(
          { code: DnsErrors.codes.WORKER_FAILED, worker: index, exitCode: code },
          DnsErrors.WORKER_FAILED(index, `exit code ${code}`).message,
        );
        spawn(index, workerData).catch((error: Error) =>
          logger.error({ worker: index, err: error.message }, 'dns worker restart failed'),
        );
      });
      worker.postMessage({ type: 'objects', changes: snapshot(), reset: true } satisfies ToWorker);
    });

  // The first worker binds (and picks ports when they are 0); the others join on the same ports.
  const first = await spawn(0, data);
  const udp = first.filter((a) => a.transport === 'udp');
  const listen = data.settings.listen.map((l, i) => {
    const hp = parseHostPort(l)!;
    return formatHostPort({ host: hp.host, port: udp[i]?.port ?? hp.port });
  });
  const rest = { ...data, settings: { ...data.settings, listen } };
  try {
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => spawn(i + 1, rest)));
  } catch (error) {
    closing = true;
    await Promise.all(workers.map((w) => w?.terminate()));
    throw error;
  }

  return {
    addresses: first,
    broadcast(m) {
      for (const w of workers) w?.postMessage(m);
    },
    stats() {
      const live = workers.filter((w): w is Worker => w !== undefined);
      return new Promise((resolve) => {
        const id = nextStatsId++;
        statsWaiters.set(id, { snapshots: [], expected: live.length, resolve });
        for (const w of live) w.postMessage({ type: 'stats', id } satisfies ToWorker);
        // A worker that dies meanwhile must not hang the scrape.
        setTimeout(() => {
          const waiter = statsWaiters.get(id);
          if (waiter) {
            statsWaiters.delete(id);
            resolve(mergeSnapshots(waiter.snapshots));
          }
        }, 1000).unref();
      });
    },
    async close() {
      closing = true;
      await Promise.all(
        workers.map(
          (w) =>
            w &&
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => void w.terminate(), 2000);
              w.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              w.postMessage({ type: 'close' } satisfies ToWorker);
            }),
        ),
      );
    },
  };
}
