// What every long-running command (start, gateway, agent, dns) stands on, set
// up in one order: config -> logger -> lifecycle -> metrics -> Store ->
// manifests source -> Kubernetes source -> admin server. Shutdown runs the
// closers in reverse.

import type { PierConfig } from '../config/schema.ts';
import type { AdminAddress } from '../observe/admin-server.ts';
import type { Lifecycle } from '../observe/lifecycle.ts';
import type { Logger } from '../observe/logger.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { Readiness } from '../observe/readiness.ts';
import type { KubernetesSource } from '../sources/kubernetes/source.ts';
import type { ManifestsSource, SyncReport } from '../sources/manifests/source.ts';
import type { Store } from '../store.ts';
import type { CommandContext } from './command.ts';

export interface Runtime {
  config: PierConfig;
  logger: Logger;
  lifecycle: Lifecycle;
  metrics: Metrics;
  readiness: Readiness;
  store: Store;
  /** Present when the command loads a manifests folder. */
  manifests?: { source: ManifestsSource; report: SyncReport };
  /** Present when `kubernetes.enabled`: reading a cluster (when elected) into the Store. */
  kubernetes?: KubernetesSource;
  admin: AdminAddress;
}

export interface RuntimeOptions {
  /** The command this process runs, on every log line: `start`, `gateway`, ... */
  component: string;
  /** Load `manifests.path` into the Store (the embedded source). */
  loadManifests: boolean;
  /** How long shutdown may take, all closers together (default: the lifecycle's, 10 s). */
  graceMs?: number;
  /**
   * What /metrics shows, when not this process's own registry: a primary shows
   * its workers' registries, summed.
   */
  renderMetrics?: () => Promise<string>;
}

export async function startRuntime(ctx: CommandContext, options: RuntimeOptions): Promise<Runtime> {
  const { config } = await ctx.config();
  const { createLogger } = await import('../observe/logger.ts');
  const { createMetrics } = await import('../observe/metrics.ts');
  const { createReadiness } = await import('../observe/readiness.ts');
  const { createAdminServer } = await import('../observe/admin-server.ts');
  const { createLifecycle } = await import('../observe/lifecycle.ts');
  const { createStoreState } = await import('../observe/store-state.ts');
  const { createStore } = await import('../store/create-store.ts');

  const logger = createLogger(config.log).child({ command: options.component });
  const readiness = createReadiness();
  const lifecycle = createLifecycle({ logger, readiness, graceMs: options.graceMs });
  lifecycle.install();
  const own = createMetrics();
  const metrics: Metrics =
    options.renderMetrics === undefined ? own : { ...own, render: options.renderMetrics };

  const store = createStore(config.store.url, { cluster: config.store.cluster, logger });
  lifecycle.onShutdown('store', () => store.close());

  let manifests: Runtime['manifests'];
  if (options.loadManifests) {
    const { resolve } = await import('node:path');
    const { createManifestsSource } = await import('../sources/manifests/source.ts');
    const source = createManifestsSource({
      path: resolve(ctx.cwd, config.manifests.path),
      store,
      logger: logger.child({ component: 'manifests' }),
      watch: config.manifests.watch,
    });
    const report = await source.start();
    lifecycle.onShutdown('manifests', () => source.close());
    readiness.set('manifests', () => true);
    manifests = { source, report };
  }

  let kubernetes: KubernetesSource | undefined;
  if (config.kubernetes.enabled) {
    const { resolve } = await import('node:path');
    const { createKubernetesSource } = await import('../sources/kubernetes/source.ts');
    const settings = config.kubernetes;
    // Gateway API status goes back to the cluster from whichever process leads the
    // source (gateway, agent or start alike): the CLI is the composition root, so it
    // hands the gateway's publisher to the source (src/sources/kubernetes/status-publisher.ts).
    const statusPublishers = config.gateway.writeStatus
      ? [
          (await import('../../gateway/status/status-publisher.ts')).createGatewayStatusPublisher({
            controllerName: config.gateway.controllerName,
            ingress: {
              enabled: config.gateway.ingress.enabled,
              classNames: [...config.gateway.ingress.classNames],
              httpPort: config.gateway.ingress.httpPort,
              httpsPort: config.gateway.ingress.httpsPort,
            },
            ingressStatusAddress: config.gateway.ingress.statusAddress,
          }),
        ]
      : [];
    const source = createKubernetesSource({
      store,
      logger: logger.child({ component: 'kubernetes' }),
      kubeconfig: settings.kubeconfig === '' ? undefined : resolve(ctx.cwd, settings.kubeconfig),
      context: settings.context === '' ? undefined : settings.context,
      namespaces: settings.namespaces,
      leaseMs: settings.leaseSeconds * 1000,
      renewMs: settings.renewSeconds * 1000,
      statusPublishers,
    });
    await source.start();
    lifecycle.onShutdown('kubernetes', () => source.close());
    readiness.set('kubernetes', () => source.ready());
    kubernetes = source;
  }

  const admin = createAdminServer({
    address: config.admin.address,
    logger,
    metrics,
    readiness,
    state: createStoreState(store),
  });
  const address = await admin.listen();
  lifecycle.onShutdown('admin', () => admin.close());
  return {
    config,
    logger,
    lifecycle,
    metrics,
    readiness,
    store,
    manifests,
    kubernetes,
    admin: address,
  };
}
