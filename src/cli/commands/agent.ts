// `pier agent`: the node agent's pod network (agent/node-agent.ts): the
// node's subnet lease, bridge, routes to the other nodes, masquerade, and
// the socket pier-cni talks to. One per node, as root. The Service proxy
// (agent/service-proxy.ts) runs beside it, on its own nftables table.

import type { CommandContext, OptionSpec } from '../command.ts';
import { ExitCode } from '../command.ts';

export const name = 'agent';
export const summary = 'Run the node agent: CNI daemon, pod network, Service proxy, DNS';
export const usage =
  'pier agent [--node-name NAME] [--net-conf PATH] [--iface DEV] [flags] [settings]';
export const description = `The node agent: leases this node a pod subnet in the Store (store.url: a Redis
all nodes share), keeps the bridge, the routes to every other node (net-conf Backend
host-gw or vxlan) and the masquerade rules, and serves pier-cni on a root-only unix
socket. Pod addresses are kept on this node's disk (--data-dir). Stopping the agent
leaves pods connected; a restarted agent changes only what differs.`;

export const options: readonly OptionSpec[] = [
  {
    name: 'node-name',
    type: 'string',
    value: 'NAME',
    description: 'This node (default: the hostname)',
  },
  {
    name: 'net-conf',
    type: 'string',
    value: 'PATH',
    description: 'flannel net-conf.json (default /etc/pier/net-conf.json)',
  },
  {
    name: 'net-conf-json',
    type: 'string',
    value: 'JSON',
    description: 'The net-conf itself, inline',
  },
  {
    name: 'iface',
    type: 'string',
    value: 'DEV',
    description: 'Underlay interface (default: the default route’s)',
  },
  {
    name: 'node-ip',
    type: 'string',
    value: 'IP',
    description: 'Underlay address (default: the interface’s first)',
  },
  {
    name: 'data-dir',
    type: 'string',
    value: 'DIR',
    description: 'Pod address records (default /var/lib/pier/agent)',
  },
  {
    name: 'subnet-env',
    type: 'string',
    value: 'PATH',
    description: 'flannel subnet.env to write (default /run/flannel/subnet.env)',
  },
  {
    name: 'socket',
    type: 'string',
    value: 'PATH',
    description: 'CNI socket (default /run/pier/cni.sock)',
  },
  { name: 'bridge', type: 'string', value: 'DEV', description: 'Pod bridge (default cni0)' },
  {
    name: 'cluster-dns',
    type: 'string',
    value: 'IP[,IP]',
    description: 'DNS servers in pods’ CNI results (default: dns.serverAddresses)',
  },
  {
    name: 'lease-ttl',
    type: 'string',
    value: 'SECONDS',
    description: 'Subnet lease lifetime (default 86400)',
  },
  {
    name: 'renew-margin',
    type: 'string',
    value: 'SECONDS',
    description: 'Renew this long before expiry (default 3600)',
  },
  {
    name: 'resync',
    type: 'string',
    value: 'SECONDS',
    description: 'Full resync interval (default 30)',
  },
  {
    name: 'store-wait',
    type: 'string',
    value: 'SECONDS',
    description: 'Wait this long for the Store at start before running on subnet.env (default 5)',
  },
  {
    name: 'release-on-exit',
    type: 'boolean',
    description: 'Delete this node’s lease on a clean stop (leaving)',
  },
];
export const settings = true;

export async function run(ctx: CommandContext): Promise<number> {
  const { config } = await ctx.config();
  const { readFile } = await import('node:fs/promises');
  const { createLogger } = await import('../../observe/logger.ts');
  const { createMetrics } = await import('../../observe/metrics.ts');
  const { createReadiness } = await import('../../observe/readiness.ts');
  const { createAdminServer } = await import('../../observe/admin-server.ts');
  const { createLifecycle } = await import('../../observe/lifecycle.ts');
  const { createStore } = await import('../../store/create-store.ts');
  const { parseAgentSettings } = await import('../../../agent/config.ts');
  const { parseNetConf } = await import('../../../agent/ipam/net-conf.ts');
  const { createNodeAgent } = await import('../../../agent/node-agent.ts');
  const { createIpNetlink } = await import('../../../agent/netlink/ip-netlink.ts');
  const { createNftables } = await import('../../../agent/nftables/nft.ts');

  const o = ctx.options;
  const text = (key: string) => (typeof o[key] === 'string' ? (o[key] as string) : undefined);
  const seconds = (key: string) => {
    const value = text(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) {
      ctx.stderr.write(
        `pier: --${key} must be a number of seconds, got ${JSON.stringify(value)}\n`,
      );
      return Number.NaN;
    }
    return n;
  };
  const input = {
    nodeName: text('node-name'),
    netConf: text('net-conf'),
    netConfJson: text('net-conf-json'),
    iface: text('iface'),
    nodeIp: text('node-ip'),
    dataDir: text('data-dir'),
    subnetEnv: text('subnet-env'),
    socket: text('socket'),
    bridge: text('bridge'),
    // Pods reach cluster DNS where the dns section says (dns.serverAddresses), unless told here.
    clusterDns:
      text('cluster-dns')
        ?.split(',')
        .filter((s) => s !== '') ??
      (config.dns.serverAddresses.length > 0 ? [...config.dns.serverAddresses] : undefined),
    clusterDomain: config.cluster.domain,
    leaseTtlSeconds: seconds('lease-ttl'),
    renewMarginSeconds: seconds('renew-margin'),
    resyncSeconds: seconds('resync'),
    storeWaitSeconds: seconds('store-wait'),
    releaseOnExit: o['release-on-exit'] === true,
  };
  if (Object.values(input).some((v) => typeof v === 'number' && Number.isNaN(v)))
    return ExitCode.usage;
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));

  let agentSettings: ReturnType<typeof parseAgentSettings>;
  let netConf: ReturnType<typeof parseNetConf>;
  try {
    agentSettings = parseAgentSettings(defined);
    netConf =
      agentSettings.netConfJson !== undefined
        ? parseNetConf(agentSettings.netConfJson, '--net-conf-json')
        : parseNetConf(await readNetConf(readFile, agentSettings.netConf), agentSettings.netConf);
  } catch (error) {
    ctx.stderr.write(`pier: ${(error as Error).message}\n`);
    return ExitCode.usage;
  }

  const logger = createLogger(config.log).child({
    component: 'agent',
    node: agentSettings.nodeName,
  });
  const readiness = createReadiness();
  const lifecycle = createLifecycle({ logger, readiness });
  lifecycle.install();
  const metrics = createMetrics();
  const cniSeconds = metrics.histogram(
    'agent_cni_request_seconds',
    'CNI requests by verb and outcome',
    ['command', 'outcome'],
  );

  const store = createStore(config.store.url, { cluster: config.store.cluster, logger });
  lifecycle.onShutdown('store', () => store.close());
  const netlink = createIpNetlink();
  lifecycle.onShutdown('netlink', () => netlink.close());
  const agent = createNodeAgent(agentSettings, netConf, {
    store,
    netlink,
    nftables: createNftables(),
    logger,
    observeCni: (command, ok, s) =>
      cniSeconds.observe({ command, outcome: ok ? 'ok' : 'error' }, s),
  });
  const admin = createAdminServer({
    address: config.admin.address,
    logger,
    metrics,
    readiness,
    state: () => agent.info(),
  });
  await admin.listen();
  lifecycle.onShutdown('admin', () => admin.close());
  readiness.set('pod-network', () => agent.status().ready);
  lifecycle.onShutdown('agent', () => agent.stop());
  // The Service proxy (issue 6): its own nftables table, from the same Store.
  const { startServiceProxy } = await import('../../../agent/service-proxy/start.ts');
  startServiceProxy({
    settings: config.serviceProxy,
    nodeName: agentSettings.nodeName,
    podNetwork: netConf.network,
    store,
    logger,
    metrics,
    readiness,
    lifecycle,
  });
  // Cluster DNS on this node (issue 5; agent/dns): it waits for the Store on its own,
  // so the pod network does not wait for it, and a port it cannot bind is logged.
  if (config.dns.enabled) {
    const { serveClusterDns } = await import('../../../agent/dns/serve.ts');
    serveClusterDns({ config, store, logger, lifecycle, metrics, readiness }).catch(
      (error: unknown) => logger.error({ err: error }, 'cluster DNS could not start'),
    );
  }
  agent.start().then(
    () => logger.info(agent.info() as unknown as Record<string, unknown>, 'agent ready'),
    (error: unknown) => {
      logger.fatal({ err: error }, 'the agent could not start');
      void lifecycle.shutdown('start failed', ExitCode.failure);
    },
  );
  return lifecycle.done;
}

async function readNetConf(
  readFile: (path: string, encoding: 'utf8') => Promise<string>,
  path: string,
): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const { AgentErrors } = await import('../../../agent/errors.ts');
    throw AgentErrors.BAD_NET_CONF(
      path,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
}
