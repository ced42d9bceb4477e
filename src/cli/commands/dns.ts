// `pier dns`: cluster DNS as its own process (agent/dns): the zone built
// from the Store's Services, EndpointSlices, Pods and Namespaces, and
// everything else forwarded through a cache. With the embedded memory Store
// it loads manifests.path first, so `pier dns` alone serves a folder of YAML.

import type { CommandContext, OptionSpec } from '../command.ts';

export const name = 'dns';
export const summary = 'Run cluster DNS';
export const usage = 'pier dns [settings]';
export const description = `Serves the cluster zone (dns.listen, 127.0.0.1:5353 by default; UDP and TCP) for
cluster.domain: Service, endpoint, SRV, PTR and (dns.pods) pod records, and forwards
other names to dns.forward.upstreams (or the nameservers of /etc/resolv.conf) for
clients in dns.forward.allowed-networks, through a cache. Metrics on the admin
server's /metrics (pier_dns_*). Try: dig @127.0.0.1 -p 5353 echo-a.demo.svc.cluster.local`;
export const options: readonly OptionSpec[] = [];
export const settings = true;

export async function run(ctx: CommandContext): Promise<number> {
  const { config } = await ctx.config();
  const { startRuntime } = await import('../runtime.ts');
  const { serveClusterDns } = await import('../../../agent/dns/serve.ts');
  const runtime = await startRuntime(ctx, {
    component: 'dns',
    loadManifests: config.store.url.startsWith('memory:'),
  });
  const server = await serveClusterDns(runtime);
  const listening = server
    .addresses()
    .filter((a) => a.transport === 'udp')
    .map((a) => (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`));
  ctx.stdout.write(
    `${[
      `Pier ${ctx.version} DNS is running (store: ${runtime.store.name}, zone: ${config.cluster.domain}).`,
      `  dns: ${listening.join(', ')} (UDP and TCP)`,
      `  admin: ${runtime.admin.url}`,
      'Stop with Ctrl-C.',
    ].join('\n')}\n`,
  );
  return runtime.lifecycle.done;
}
