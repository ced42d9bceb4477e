// The CNI benchmark: how fast pier-cni starts and stops pods, and how fast
// pods talk across nodes, side by side with Debian's reference plugins on the
// same kind of network namespace. The targets:
//
//   ADD p50 <= 1.5x the reference's (bridge + host-local), DEL p50 <= 0.5x,
//   host-gw pod-to-pod throughput >= 0.95x a plain veth pair's.
//
// Two groups, both on namespaces made for the run (test/support/netns.ts):
//   add-del     50 pods started, then stopped, one at a time, through each
//               plugin (load/cni/add-del.ts is the load tool)
//   throughput  iperf3, one TCP stream, pod on node 1 -> pod on node 2
//               (a 2-node cluster per backend), against two namespaces joined
//               by one veth pair
//
// `reference` is the row every ratio is against: bridge + host-local in the
// latency group, the plain veth pair in the throughput group.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderPluginFile } from '../../agent/cni/plugin-file.ts';
import {
  createNetnsScope,
  type NetnsScope,
  netnsRequirementsMissing,
} from '../../test/support/netns.ts';
import { createCluster } from '../../test/support/netns-cluster.ts';
import type {
  BenchmarkDefinition,
  Group,
  LoadRun,
  Peer,
  PeerContext,
  PeerTarget,
  Sample,
} from '../bench/benchmark.ts';
import { startProcess } from '../bench/process.ts';
import { makeTempDir } from '../bench/temp-dir.ts';
import { commandVersion, REPO_ROOT, repoVersion } from '../bench/versions.ts';

const PODS = 50;
const PIER = join(REPO_ROOT, 'bin/pier.ts');
const ADD_DEL = join(REPO_ROOT, 'load/cni/add-del.ts');
const IPERF_PORT = 5201;

/** What a started peer hands its group's load: where to run it. */
interface CniTarget extends PeerTarget {
  /** add-del: the node namespace, the plugin and its config. */
  node?: string;
  plugin?: string;
  conf?: string;
  compileCache?: string;
  /** throughput: the client namespace and the server's address. */
  client?: string;
}

export interface CniFixture {
  nodeJs: string;
}

function netnsScopeFor(ctx: PeerContext<CniFixture>, tag: string): NetnsScope {
  const scope = createNetnsScope(tag);
  ctx.scope.defer(() => scope.cleanup());
  return scope;
}

/** A node namespace like the cluster's: eth0 on an underlay bridge, a default route. */
async function makeNode(scope: NetnsScope): Promise<string> {
  await scope.create('ul');
  await scope.create('node');
  await scope.ip('ul', [
    'link add br0 type bridge',
    'link set dev br0 up',
    'addr add 192.168.78.254/24 dev br0',
  ]);
  await scope.ip('ul', [
    `link add n1 type veth peer name eth0 netns ${scope.path('node')}`,
    'link set dev n1 master br0 up',
  ]);
  await scope.ip('node', [
    'addr add 192.168.78.1/24 dev eth0',
    'link set dev eth0 up',
    'route add default via 192.168.78.254',
  ]);
  return scope.name('node');
}

function referenceConf(dataDir: string, ipMasq: boolean): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'reference',
    type: 'bridge',
    bridge: 'cni0',
    isDefaultGateway: true,
    ipMasq,
    hairpinMode: true,
    ipam: { type: 'host-local', subnet: '10.244.1.0/24', dataDir },
  });
}

async function startIperfServer(ctx: PeerContext<CniFixture>, scope: NetnsScope, ns: string) {
  return startProcess(
    ctx.scope,
    {
      name: 'iperf3 server',
      command: 'ip',
      args: [
        'netns',
        'exec',
        scope.name(ns),
        'iperf3',
        '-s',
        '-p',
        String(IPERF_PORT),
        '--forceflush',
      ],
      ready: [{ kind: 'line', pattern: /Server listening/ }],
      readyTimeoutMs: ctx.options.readyTimeoutMs,
    },
    ctx.signal,
  );
}

async function bridgeTarget(ctx: PeerContext<CniFixture>, ipMasq: boolean): Promise<CniTarget> {
  const scope = netnsScopeFor(ctx, ipMasq ? 'br' : 'bn');
  const node = await makeNode(scope);
  const dir = await makeTempDir(ctx.scope, 'cni-host-local');
  return {
    host: '',
    port: 0,
    processes: [],
    node,
    plugin: '/usr/lib/cni/bridge',
    conf: referenceConf(dir, ipMasq),
  };
}

async function vethTarget(ctx: PeerContext<CniFixture>): Promise<CniTarget> {
  const scope = netnsScopeFor(ctx, 'vp');
  await scope.create('a');
  await scope.create('b');
  await scope.ip('a', [
    `link add eth0 type veth peer name eth0 netns ${scope.path('b')}`,
    'addr add 10.99.0.1/24 dev eth0',
    'link set dev eth0 up',
  ]);
  await scope.ip('b', ['addr add 10.99.0.2/24 dev eth0', 'link set dev eth0 up']);
  const server = await startIperfServer(ctx, scope, 'b');
  return { host: '10.99.0.2', port: IPERF_PORT, processes: [server], client: scope.name('a') };
}

async function clusterTarget(
  ctx: PeerContext<CniFixture>,
  backend: 'host-gw' | 'vxlan',
): Promise<CniTarget> {
  const scope = netnsScopeFor(ctx, backend === 'vxlan' ? 'cv' : 'ch');
  const cluster = await createCluster({
    scope,
    nodes: 2,
    backend,
    storeCluster: `bench-${backend}`,
  });
  ctx.scope.defer(() => cluster.stop());
  const [one, two] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
  await Promise.all([one.start(), two.start()]);
  await one.addPod('client');
  const server = await two.addPod('server');
  const iperf = await startIperfServer(ctx, scope, 'server');
  return { host: server.ip, port: IPERF_PORT, processes: [iperf], client: scope.name('client') };
}

const pierCniPeer: Peer<CniFixture> = {
  name: 'pier-cni',
  label: 'pier-cni (thin client of the pier agent)',
  version: repoVersion,
  async start(ctx) {
    const scope = netnsScopeFor(ctx, 'pc');
    const node = await makeNode(scope);
    const dir = await makeTempDir(ctx.scope, 'cni-pier');
    const socket = join(dir, 'cni.sock');
    const agent = await startProcess(
      ctx.scope,
      {
        name: 'pier agent',
        command: 'ip',
        args: [
          'netns',
          'exec',
          node,
          ctx.fixture.nodeJs,
          PIER,
          'agent',
          '--node-name',
          'bench-node',
          '--net-conf-json',
          JSON.stringify({ Network: '10.244.0.0/16', SubnetLen: 24, Backend: { Type: 'host-gw' } }),
          '--iface',
          'eth0',
          '--data-dir',
          join(dir, 'data'),
          '--subnet-env',
          join(dir, 'subnet.env'),
          '--socket',
          socket,
          '--cluster-dns',
          '10.96.0.10',
          '--store.url',
          'memory:',
          '--admin.address',
          '127.0.0.1:0',
        ],
        ready: [{ kind: 'line', pattern: /"msg":"agent ready"/ }],
        readyTimeoutMs: ctx.options.readyTimeoutMs,
      },
      ctx.signal,
    );
    const compileCache = join(dir, 'compile-cache');
    await mkdir(compileCache, { recursive: true });
    // The plugin as `pier cni install` puts it in a runtime's CNI bin dir.
    const plugin = join(dir, 'pier-cni');
    await writeFile(plugin, await renderPluginFile({ node: ctx.fixture.nodeJs }));
    await chmod(plugin, 0o755);
    return {
      host: '',
      port: 0,
      processes: [agent],
      node,
      plugin,
      conf: JSON.stringify({
        cniVersion: '1.0.0',
        name: 'pier',
        type: 'pier-cni',
        agentSocket: socket,
      }),
      compileCache,
    } satisfies CniTarget;
  },
};

const referencePeer: Peer<CniFixture> = {
  name: 'reference',
  label: 'reference: bridge + host-local with ipMasq (latency) | a plain veth pair (throughput)',
  version: () => commandVersion('/usr/lib/cni/bridge', [], /CNI bridge plugin (\S+)/),
  start: (ctx) => (ctx.group.id === 'throughput' ? vethTarget(ctx) : bridgeTarget(ctx, true)),
};

const bridgeNoMasqPeer: Peer<CniFixture> = {
  name: 'bridge-nomasq',
  label: 'bridge + host-local without ipMasq (no iptables work; for scale)',
  version: () => commandVersion('/usr/lib/cni/bridge', [], /CNI bridge plugin (\S+)/),
  start: (ctx) => bridgeTarget(ctx, false),
};

const underlayPeer: Peer<CniFixture> = {
  name: 'underlay',
  label: 'the simulated underlay alone: node 1 -> node 2, no pods (for scale)',
  version: () => commandVersion('ip', ['-V'], /iproute2-(\S+)/),
  async start(ctx) {
    const scope = netnsScopeFor(ctx, 'cu');
    const cluster = await createCluster({
      scope,
      nodes: 2,
      backend: 'host-gw',
      storeCluster: 'bench-underlay',
    });
    ctx.scope.defer(() => cluster.stop());
    const [one, two] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    const iperf = await startIperfServer(ctx, scope, two.short);
    return {
      host: two.ip,
      port: IPERF_PORT,
      processes: [iperf],
      client: scope.name(one.short),
    } satisfies CniTarget;
  },
};

/**
 * Pier's host-gw path built by hand, hop for hop (two nodes on the underlay
 * bridge, a cni0 bridge each, a pod veth on it with hairpin on, routes to the
 * other node's subnet, forwarding on), but without the agent's nft tables:
 * no connection tracking. What the kernel's routing and bridging cost alone.
 */
async function bareHostGwTarget(ctx: PeerContext<CniFixture>): Promise<CniTarget> {
  const scope = netnsScopeFor(ctx, 'hb');
  await scope.create('ul');
  await scope.ip('ul', ['link add br0 type bridge', 'link set dev br0 up']);
  for (const i of [1, 2]) {
    const node = `n${i}`;
    const pod = i === 1 ? 'client' : 'server';
    const other = 3 - i;
    await scope.create(node);
    await scope.create(pod);
    await scope.ip('ul', [
      `link add ${node} type veth peer name eth0 netns ${scope.path(node)}`,
      `link set dev ${node} master br0 up`,
    ]);
    await scope.ip(node, [
      `addr add 192.168.77.${i}/24 dev eth0`,
      'link set dev eth0 up',
      'link add cni0 type bridge',
      `addr add 10.244.${i}.1/24 dev cni0`,
      'link set dev cni0 up',
      `link add pod${i} master cni0 up type veth peer name eth0 netns ${scope.path(pod)}`,
      `link set dev pod${i} type bridge_slave hairpin on`,
      `route add 10.244.${other}.0/24 via 192.168.77.${other} dev eth0`,
    ]);
    await scope.run(node, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await scope.ip(pod, [
      `addr add 10.244.${i}.2/24 dev eth0`,
      'link set dev eth0 up',
      `route add default via 10.244.${i}.1`,
    ]);
  }
  const server = await startIperfServer(ctx, scope, 'server');
  return {
    host: '10.244.2.2',
    port: IPERF_PORT,
    processes: [server],
    client: scope.name('client'),
  };
}

const bareHostGwPeer: Peer<CniFixture> = {
  name: 'host-gw-bare',
  label:
    "the same host-gw path built by hand, without Pier's nft tables (no connection tracking; for scale)",
  version: () => commandVersion('ip', ['-V'], /iproute2-(\S+)/),
  start: bareHostGwTarget,
};

const hostGwPeer: Peer<CniFixture> = {
  name: 'host-gw',
  label: 'Pier host-gw (pod on node 1 -> pod on node 2)',
  version: repoVersion,
  start: (ctx) => clusterTarget(ctx, 'host-gw'),
};

const vxlanPeer: Peer<CniFixture> = {
  name: 'vxlan',
  label: 'Pier vxlan (pod on node 1 -> pod on node 2)',
  version: repoVersion,
  start: (ctx) => clusterTarget(ctx, 'vxlan'),
};

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** add-del.ts's JSON -> a sample. */
export function parseAddDel(stdout: string): Sample {
  const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    addMs: number[];
    delMs: number[];
    failed: number;
    firstError: string;
  };
  if (report.addMs.length === 0 || report.delMs.length === 0) {
    throw new Error(`no pod started and stopped: ${report.firstError}`);
  }
  return {
    metrics: {
      addP50: percentile(report.addMs, 50),
      addP99: percentile(report.addMs, 99),
      delP50: percentile(report.delMs, 50),
      delP99: percentile(report.delMs, 99),
    },
    completed: report.addMs.length + report.delMs.length,
    failed: report.failed,
  };
}

/** iperf3 -J's report -> a sample: what the receiver got, in Gbit/s. */
export function parseIperf(stdout: string): Sample {
  const report = JSON.parse(stdout) as {
    error?: string;
    end?: { sum_received?: { bits_per_second?: number } };
  };
  if (report.error !== undefined) throw new Error(`iperf3: ${report.error}`);
  const bps = report.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error('iperf3 reported no received throughput');
  return { metrics: { gbps: bps / 1e9 }, completed: 1, failed: 0 };
}

function addDelRun(target: PeerTarget): LoadRun {
  const t = target as CniTarget;
  return {
    argv: [
      'env',
      `PIER_CNI_COMPILE_CACHE=${t.compileCache ?? '/nonexistent'}`,
      process.execPath,
      ADD_DEL,
      '--node',
      t.node ?? '',
      '--plugin',
      t.plugin ?? '',
      '--conf',
      t.conf ?? '',
      '--pods',
      String(PODS),
    ],
    timeoutMs: 180_000,
    parse: parseAddDel,
  };
}

function iperfRun(target: PeerTarget, durationSec: number): LoadRun {
  const t = target as CniTarget;
  const client = [
    'ip',
    'netns',
    'exec',
    t.client ?? '',
    'iperf3',
    '-c',
    t.host,
    '-p',
    String(t.port),
    '-t',
    String(durationSec),
    '-J',
  ];
  return {
    // A second's pause first: iperf3's server refuses ("busy") a test that comes before it has finished the last one.
    argv: ['sh', '-c', 'sleep 1; exec "$@"', 'sh', ...client],
    timeoutMs: (durationSec + 20) * 1000,
    parse: parseIperf,
  };
}

const groups: Group[] = [
  {
    id: 'add-del',
    title: `Pod ADD and DEL latency (${PODS} pods, one at a time)`,
    params: { pods: PODS },
    peers: ['pier-cni', 'reference', 'bridge-nomasq'],
    load: (target) => addDelRun(target),
  },
  {
    id: 'throughput',
    title: 'Pod-to-pod TCP throughput across nodes (iperf3, one stream)',
    params: { streams: 1 },
    peers: ['reference', 'host-gw', 'vxlan', 'host-gw-bare', 'underlay'],
    load: iperfRun,
  },
];

export const cniBenchmark: BenchmarkDefinition<CniFixture> = {
  name: 'cni',
  title: 'CNI benchmark: pod start/stop latency and pod-to-pod throughput',
  description: [
    `**Latency**: ${PODS} pods started (ADD), then stopped (DEL), one at a time, through each plugin, each in a pod network namespace of its own, from a node namespace (eth0 on an underlay bridge, a default route). Each time is the plugin process's wall time as the runtime sees it (\`ip netns exec <node> <plugin>\` with CNI_* set and the config on stdin, CNI version 1.0.0), measured by load/cni/add-del.ts. pier-cni is the one-file plugin \`pier cni install\` writes (Node.js 24, a thin client) talking to \`pier agent\` in the node namespace; the reference is Debian's bridge plugin delegating to host-local, with \`isDefaultGateway\`, \`hairpinMode\` and \`ipMasq\` (what pier-cni provides: Pier masquerades with one static nft table per node instead of rules per pod).`,
    "**Throughput**: iperf3, one TCP stream for the run duration, from a pod on node 1 to a pod on node 2 of a 2-node simulated cluster (nodes are namespaces on an underlay bridge, real agents, one Redis), per backend; the reference is two namespaces joined by one veth pair. `host-gw-bare` is the same host-gw path built by hand (the same namespaces, bridges, veths, hairpin and routes) without Pier's nft tables, so without connection tracking; `underlay` is node 1 to node 2 with no pods. Both are for scale.",
  ],
  metrics: [
    { key: 'addP50', label: 'ADD p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'addP99', label: 'ADD p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'delP50', label: 'DEL p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'delP99', label: 'DEL p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'gbps', label: 'throughput', unit: 'Gbit/s', better: 'higher', digits: 2 },
  ],
  reference: { peer: 'reference', metrics: ['addP50', 'delP50', 'gbps'] },
  plotMetric: 'addP50',
  peers: [
    pierCniPeer,
    referencePeer,
    bridgeNoMasqPeer,
    hostGwPeer,
    vxlanPeer,
    bareHostGwPeer,
    underlayPeer,
  ],
  tools: [
    {
      name: 'ip',
      label: 'iproute2',
      hint: 'apt-get install iproute2',
      version: () => commandVersion('ip', ['-V'], /iproute2-(\S+)/),
    },
    {
      name: 'nft',
      label: 'nftables',
      hint: 'apt-get install nftables',
      version: () => commandVersion('nft', ['-v'], /nftables v(\S+)/),
    },
    {
      name: 'iperf3',
      label: 'iperf3 (load)',
      hint: 'apt-get install iperf3',
      version: () => commandVersion('iperf3', ['-v'], /iperf (\S+)/),
    },
    {
      name: 'redis-server',
      label: 'redis-server (Store)',
      hint: 'apt-get install redis-server',
      version: () => commandVersion('redis-server', ['--version'], /v=(\S+)/),
    },
    {
      name: '/usr/lib/cni/bridge',
      label: 'containernetworking-plugins (reference)',
      hint: 'apt-get install containernetworking-plugins',
      version: () =>
        commandVersion(
          'dpkg-query',
          // dpkg's own ${Version} field placeholder, not a template.
          ['-W', '-f', '$' + '{Version}', 'containernetworking-plugins'],
          /^(\S+)/,
        ),
    },
  ],
  async setup() {
    const missing = netnsRequirementsMissing({
      tools: ['iperf3', 'redis-server', 'redis-cli'],
      files: ['/usr/lib/cni/bridge', '/usr/lib/cni/host-local'],
    });
    if (missing !== undefined) throw new Error(`the CNI benchmark needs ${missing}`);
    return {
      fixture: { nodeJs: process.execPath },
      groups,
      versions: { 'Node.js': process.version },
    };
  },
  comparisons: [
    {
      label: 'pier-cni ADD p50 vs reference',
      metric: 'addP50',
      subject: 'pier-cni',
      reference: { peer: 'reference' },
      target: { op: '<=', value: 1.5 },
    },
    {
      label: 'pier-cni DEL p50 vs reference',
      metric: 'delP50',
      subject: 'pier-cni',
      reference: { peer: 'reference' },
      target: { op: '<=', value: 0.5 },
    },
    {
      label: 'host-gw throughput vs plain veth',
      metric: 'gbps',
      subject: 'host-gw',
      reference: { peer: 'reference' },
      target: { op: '>=', value: 0.95 },
    },
    {
      label: 'vxlan throughput vs plain veth',
      metric: 'gbps',
      subject: 'vxlan',
      reference: { peer: 'reference' },
    },
    {
      label: 'host-gw path without the nft tables vs plain veth',
      metric: 'gbps',
      subject: 'host-gw-bare',
      reference: { peer: 'reference' },
    },
  ],
  notes: [
    "Latency ratios below 1.00x mean pier-cni is faster than the reference. Starting Node.js 24 for an empty script takes about 24 ms on this machine, most of pier-cni's ADD and DEL; the installed plugin trims what it can around that: `--no-rehash-snapshot` in its shebang (V8 keeps the startup snapshot's hash seed instead of rehashing with a new one, ~3 ms), the agent's socket through libuv's pipe handle instead of node:net (whose modules are not in Node.js's startup snapshot, ~2.5 ms), and process.exit() once it has answered (~1 ms of heap teardown). The agent's own work for an ADD is about 3.5 ms: the address file, the veth made through its long-lived `ip` session, and one `ip -n <pod> -batch -` that a shell started while the agent was idle execs (forking the agent itself, ~145 MB resident, blocked its event loop ~2.5 ms per ADD). A DEL answers once its address is marked releasing on disk; the veth's removal (an RCU grace period, tens of ms) follows in the background, as it does not delay the pod's stop.",
    "The reference's DEL is slow mostly because of ipMasq (iptables chains per pod); `bridge-nomasq` shows the same plugins without it, for scale.",
    "Pod to pod across nodes crosses four veth pairs (pod to node, node to the underlay bridge, the underlay bridge to the other node, node to pod), two node bridges (with br_netfilter, on by default in every namespace of this kernel) and two routing decisions, plus VXLAN encapsulation with vxlan, against one veth pair: all software, on the same two cores as both iperf3 ends and both nodes' kernels (on real nodes the receiving node's work runs on its own CPUs). GSO keeps ~64 KB packets end to end (offloads are the same on every device of the path and on the reference pair), so the cost is per packet and per hop, not per byte. `underlay` shows what the simulated switch between the nodes costs by itself (on real nodes it is a NIC and a wire); joining the two nodes by one veth pair instead measured no different from it within the noise (0.75x vs 0.74x, five alternating 3 s runs each).",
    "What keeps host-gw from 0.95x is the path itself and connection tracking. Pier's nft tables (pier_pod_network's masquerade for traffic leaving the cluster network, and the Service proxy's DNAT) turn conntrack on in each node namespace, so every packet is looked up and TCP-state-tracked once in each node; the reference pair has none. `host-gw-bare`, the same hops without the tables, is the ceiling of this topology; one stream on two shared cores moves by ±15% with where the scheduler puts the two iperf3 ends and the softirq work, so compare within a run, and over several: in the throughput runs made while writing this, host-gw-bare measured 0.85x-0.95x (once 0.66x) and host-gw 0.73x-0.79x; by hand on one cluster, alternating 3 s runs, removing only the nodes' tables took host-gw from 0.77x to 0.93x (nodes on one veth link). Pinning iperf3 (-A) swings both by more than that, depending on which core gets which end, so the runs are not pinned. Conntrack cannot be skipped for pod-to-pod packets: a reply from a Service endpoint to its client pod is itself pod-to-pod and must be un-DNATed on the client's node. The kernel's answer is an nft flowtable (established forwarded flows bypass conntrack, routing and the bridge), which this kernel does not have (no nf_flow_table), so it is not measured here; the 0.95x target is out of reach on this 2-core simulated topology with conntrack on.",
    'Benchmarks are not tests: nothing here is asserted. Run alone on the machine.',
  ],
};
