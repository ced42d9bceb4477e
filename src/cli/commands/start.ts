// `pier start`: the quickstart. Everything in one process on an embedded
// Store: the manifests folder (examples/ by default), the admin server, the
// demo echo backends the examples point at, the gateway and cluster DNS.
// Prints what it serves, with curl commands derived from the routes.

import { type CommandContext, ExitCode, type OptionSpec } from '../command.ts';
import type { Runtime } from '../runtime.ts';

export const name = 'start';
export const summary =
  'Run Pier in one process: Store, manifests, gateway and agent parts (quickstart)';
export const usage = 'pier start [--no-demo-backends] [settings]';
export const description =
  "Loads manifests.path (examples/ by default) into the Store and serves it: the gateway on its Gateways' listeners (examples/: 127.0.0.1:8080, with curl commands to try), cluster DNS, the admin server and, unless --no-demo-backends, the two demo echo backends of examples/echo.yaml on 127.0.0.1:9101 and :9102.";
export const options: readonly OptionSpec[] = [
  {
    name: 'demo-backends',
    type: 'boolean',
    description: 'Run the demo echo backends (default true).',
  },
];
export const settings = true;

// The examples' EndpointSlices point here (examples/echo.yaml).
const DEMO_BACKENDS = [
  { name: 'echo-a', port: 9101 },
  { name: 'echo-b', port: 9102 },
] as const;

/** The gateway in this process, on the Store's Gateways; returns the lines to print (curls that work). */
async function startGateway(runtime: Runtime): Promise<string[]> {
  const { createGateway } = await import('../../../gateway/gateway.ts');
  const { exampleRequests } = await import('../../../gateway/assembly/example-requests.ts');
  const { config, lifecycle } = runtime;
  const gateway = createGateway({
    store: runtime.store,
    settings: config.gateway,
    logger: runtime.logger,
    metrics: runtime.metrics,
  });
  runtime.readiness.set('gateway', () => gateway.ready());
  // The runtime's shutdown has 10 s for every closer together.
  lifecycle.onShutdown('gateway', () => gateway.close(config.gateway.shutdownGraceMs));
  await gateway.start();
  const ports = gateway
    .state()
    .ports.map((p) => `${p.protocol.toLowerCase()}://${p.address}:${p.port}`);
  const examples = exampleRequests(gateway.config()!, config.gateway.address);
  const width = Math.max(0, ...examples.map((e) => e.command.length));
  return [
    `  gateway: ${ports.length === 0 ? 'no Gateway listener in the Store yet' : ports.join(', ')}`,
    ...examples.map((e) => `    ${e.command.padEnd(width)}  # ${e.comment}`),
  ];
}

export async function run(ctx: CommandContext): Promise<number> {
  const { startRuntime } = await import('../runtime.ts');
  const { config } = await ctx.config();
  // Shutdown may take the gateway's drain plus a moment for the other closers.
  const runtime = await startRuntime(ctx, {
    component: 'start',
    loadManifests: true,
    graceMs: config.gateway.shutdownGraceMs + 1_500,
  });
  const { logger, lifecycle, manifests, admin } = runtime;

  try {
    const lines: string[] = [];
    if (ctx.options['demo-backends'] !== false) {
      const { startEchoServer } = await import('../../demo/echo-server.ts');
      for (const backend of DEMO_BACKENDS) {
        const server = await startEchoServer(backend.name, '127.0.0.1', backend.port);
        lifecycle.onShutdown(`demo ${backend.name}`, () => server.close());
        lines.push(`  demo backend ${backend.name}: ${server.url}`);
      }
    }

    if (runtime.config.dns.enabled) {
      const { serveClusterDns } = await import('../../../agent/dns/serve.ts');
      const dns = await serveClusterDns(runtime);
      const udp = dns.addresses().find((a) => a.transport === 'udp');
      if (udp) {
        const host = udp.address.includes(':') ? `[${udp.address}]` : udp.address;
        lines.push(
          `  dns: ${host}:${udp.port}  (dig @${udp.address} -p ${udp.port} echo-a.demo.svc.${runtime.config.cluster.domain})`,
        );
      }
    }

    const gateway = await startGateway(runtime);
    lines.push(...gateway);

    const report = manifests?.report;
    const out = [
      `Pier ${ctx.version} is running (store: ${runtime.store.name}).`,
      report
        ? `  manifests: ${report.objects} objects from ${report.files} files in ${runtime.config.manifests.path}${report.problems.length > 0 ? ` (${report.problems.length} problems, see the log)` : ''}`
        : '',
      `  admin: ${admin.url}  (curl ${admin.url}/readyz, /metrics, /debug/state)`,
      ...lines,
      'Stop with Ctrl-C.',
    ].filter((line) => line !== '');
    ctx.stdout.write(`${out.join('\n')}\n`);
    logger.info({ admin: admin.url }, 'pier started');
  } catch (error) {
    // A port already taken (another pier start, a busy 8080) must end the
    // process with a clear message, not leave it half up.
    const message = (error as Error).message;
    logger.error(
      { err: error, code: 'PIER_START_FAILED' },
      `pier start could not start: ${message}`,
    );
    ctx.stderr.write(`pier: could not start: ${message}\n`);
    return lifecycle.shutdown('start failed', ExitCode.failure);
  }
  return lifecycle.done;
}
