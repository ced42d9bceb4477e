// One gateway worker process (forked by supervisor.ts): the same set-up as
// a long-running command, minus the admin server (the primary's serves the
// workers' aggregated metrics): logger, lifecycle, metrics, the Store (and,
// with the embedded memory Store, the manifests folder loaded into it: each
// worker has its own), then the gateway itself. It tells the primary when
// it listens, drains when the primary asks (or on its own SIGTERM), and
// stops when the primary goes away.

import cluster from 'node:cluster';
import { resolve } from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import type { PierConfig } from '../../src/config/schema.ts';
import { createLifecycle } from '../../src/observe/lifecycle.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { createMetrics } from '../../src/observe/metrics.ts';
import { createManifestsSource } from '../../src/sources/manifests/source.ts';
import { createStore } from '../../src/store/create-store.ts';
import { createGateway } from '../gateway.ts';
import { isShutdownMessage, type ReadyMessage } from './messages.ts';

export interface WorkerOptions {
  config: PierConfig;
  /** Where a relative manifests.path starts. */
  cwd: string;
}

/** Whether a Store URL is the per-process memory Store. */
export function isMemoryStore(url: string): boolean {
  return url === '' || url.toLowerCase().startsWith('memory:');
}

/** Runs until shutdown; resolves to the exit code. */
export async function runWorker(options: WorkerOptions): Promise<number> {
  const { config } = options;
  const slot = process.env.PIERGW_WORKER_SLOT ?? String(cluster.worker?.id ?? 0);
  const logger = createLogger(config.log).child({ command: 'gateway', worker: Number(slot) });
  const lifecycle = createLifecycle({ logger, graceMs: config.gateway.shutdownGraceMs + 2000 });
  lifecycle.install();
  const metrics = createMetrics();
  // Answer the primary's metrics requests from this process's registry.
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry();

  const store = createStore(config.store.url, { cluster: config.store.cluster, logger });
  lifecycle.onShutdown('store', () => store.close());
  if (isMemoryStore(config.store.url)) {
    const source = createManifestsSource({
      path: resolve(options.cwd, config.manifests.path),
      store,
      logger: logger.child({ component: 'manifests' }),
      watch: config.manifests.watch,
    });
    await source.start();
    lifecycle.onShutdown('manifests', () => source.close());
  }

  const gateway = createGateway({ store, settings: config.gateway, logger, metrics });
  lifecycle.onShutdown('gateway', () => gateway.close());
  process.on('message', (message: unknown) => {
    if (isShutdownMessage(message)) void lifecycle.shutdown(message.reason);
  });
  process.once('disconnect', () => void lifecycle.shutdown('the primary went away'));
  await gateway.start();
  // Ready once every configured port listens (a busy port is retried by the gateway).
  const announce = () => {
    if (!gateway.ready()) {
      setTimeout(announce, 200).unref();
      return;
    }
    const ready: ReadyMessage = {
      type: 'pier:ready',
      ports: gateway.state().ports.map((p) => p.port),
    };
    process.send?.(ready);
  };
  announce();
  return lifecycle.done;
}
