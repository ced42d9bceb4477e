// `pier gateway`: the edge gateway as its own process (one per replica).
//
//   gateway.workers = 1    the gateway runs in this process (startRuntime + createGateway)
//   gateway.workers = N    this process is the primary: admin server, readiness, the
//                          workers' metrics aggregated; N forked workers each run the
//                          whole gateway and bind the ports with SO_REUSEPORT
//   gateway.workers = 0    one worker per core
//
// A worker is this same command re-run by node:cluster (same argv and
// environment, so the same config); it sees cluster.isWorker and runs
// gateway/workers/worker.ts. With the memory Store every process loads
// manifests.path itself; with Redis they all watch the shared Store.

import type { CommandContext, OptionSpec } from '../command.ts';

export const name = 'gateway';
export const summary = 'Run the edge gateway: listeners, routes, upstreams (N workers)';
export const usage = 'pier gateway [settings]';
export const description =
  "Serves the Gateways of Pier's GatewayClasses (and Ingresses) from the Store: listeners on gateway.address at the Gateway listener ports, routes to Service endpoints. gateway.workers processes share the ports (0: one per core). With the memory Store, manifests.path is loaded; with Redis, every replica and worker watches the shared Store. SIGTERM drains within gateway.shutdownGraceMs and exits 0.";
export const options: readonly OptionSpec[] = [];
export const settings = true;

/** What the closers other than the gateway's drain (admin, Store, sources) may take at shutdown. */
const OTHER_CLOSERS_MS = 1_500;

export async function run(ctx: CommandContext): Promise<number> {
  const { config } = await ctx.config();
  const cluster = (await import('node:cluster')).default;
  const { isMemoryStore, runWorker } = await import('../../../gateway/workers/worker.ts');
  if (cluster.isWorker) return runWorker({ config, cwd: ctx.cwd });

  const { availableParallelism } = await import('node:os');
  const workers = config.gateway.workers === 0 ? availableParallelism() : config.gateway.workers;
  const { startRuntime } = await import('../runtime.ts');
  // With workers, /metrics shows the workers' registries, summed.
  const aggregator =
    workers === 1 ? undefined : new (await import('prom-client')).AggregatorRegistry();
  const graceMs = config.gateway.shutdownGraceMs;
  const runtime = await startRuntime(ctx, {
    component: 'gateway',
    loadManifests: isMemoryStore(config.store.url),
    graceMs: graceMs + OTHER_CLOSERS_MS,
    renderMetrics: aggregator && (() => aggregator.clusterMetrics()),
  });
  const { logger, lifecycle, readiness } = runtime;

  if (workers === 1) {
    const { createGateway } = await import('../../../gateway/gateway.ts');
    const gateway = createGateway({
      store: runtime.store,
      settings: config.gateway,
      logger,
      metrics: runtime.metrics,
    });
    readiness.set('gateway', () => gateway.ready());
    lifecycle.onShutdown('gateway', () => gateway.close(graceMs));
    await gateway.start();
    const ports = gateway.state().ports;
    ctx.stdout.write(
      `Pier gateway ${ctx.version}: ${ports.length === 0 ? 'no Gateway listeners yet' : ports.map((p) => `${p.protocol === 'HTTPS' ? 'https' : 'http'}://${formatAddress(p.address)}:${p.port}`).join(', ')} (1 process); admin ${runtime.admin.url}\n`,
    );
    return lifecycle.done;
  }

  const { createSupervisor } = await import('../../../gateway/workers/supervisor.ts');
  const supervisor = createSupervisor({ workers, logger, stopTimeoutMs: graceMs + 1000 });
  readiness.set('workers', () => supervisor.ready());
  lifecycle.onShutdown('workers', async () => {
    const clean = await supervisor.stop('shutdown');
    if (!clean) throw new Error('a worker did not drain and exit cleanly; see its log');
  });
  supervisor.start();
  await supervisor.whenReady();
  ctx.stdout.write(
    `Pier gateway ${ctx.version}: ${workers} workers on ${config.gateway.address}; admin ${runtime.admin.url}\n`,
  );
  return lifecycle.done;
}

function formatAddress(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
