// A simulated cluster in network namespaces: N nodes joined by an underlay
// bridge, one real Redis, one real `pier agent` per node, pods started
// through the real pier-cni executable as a runtime would (netns-runtime.ts).
//
//   ns "ul": bridge br0 192.168.77.254/24   <- the underlay; also Redis, and the
//      |   |   |                               "outside world" for masquerade tests
//   ns "n1" eth0 .1   ns "n2" eth0 .2   ns "n3" eth0 .3     (default route via .254)
//      cni0 10.244.x.1/24, agent, pods "n1a", "n1b" ...
//
// Each node's agent runs inside its namespace (`ip netns exec`), with its own
// data directory, subnet.env and CNI socket under the scope's directory. The
// service-proxy tests reuse this harness: nodes expose their namespace
// (`short`) for their own processes and nft checks.

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetnsScope } from './netns.ts';
import {
  type CniOutcome,
  type CniRuntime,
  createCniRuntime,
  PIER_BIN_DIR,
} from './netns-runtime.ts';

const REPO = join(PIER_BIN_DIR, '..');
const PIER = join(REPO, 'bin/pier.ts');

export interface ClusterOptions {
  scope: NetnsScope;
  nodes: number;
  backend: 'host-gw' | 'vxlan';
  network?: string;
  /** Redis key prefix, so two clusters of one run stay apart. */
  storeCluster: string;
  leaseTtlSeconds?: number;
  renewMarginSeconds?: number;
  /** Extra plugins after pier-cni in the conflist (e.g. portmap). */
  chain?: Record<string, unknown>[];
  cniVersion?: string;
}

export interface Pod {
  /** Namespace short name. */
  ns: string;
  node: SimNode;
  containerId: string;
  ip: string;
  result: Record<string, unknown>;
}

export interface SimNode {
  readonly index: number;
  /** Namespace short name: `n1`. */
  readonly short: string;
  /** Node name (lease owner): `node-1`. */
  readonly name: string;
  /** Underlay address. */
  readonly ip: string;
  readonly dir: string;
  readonly socket: string;
  readonly subnetEnv: string;
  readonly runtime: CniRuntime;
  /** Starts the agent and waits until it says it is ready. */
  start(extraArgs?: string[]): Promise<void>;
  /** Sends a signal and waits for the agent to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  running(): boolean;
  /** The node's pod subnet, from its subnet.env. */
  subnet(): string;
  logs(): string;
  /** Creates a pod namespace and ADDs it through the runtime. */
  addPod(short: string, podNamespace?: string): Promise<Pod>;
  delPod(pod: Pod): Promise<CniOutcome>;
}

export interface Cluster {
  readonly nodes: SimNode[];
  readonly underlay: string;
  readonly externalIp: string;
  readonly redis: { url: string; stop(): Promise<void>; start(): Promise<void> };
  /** Stops every agent (SIGTERM); namespaces go with the scope's cleanup. */
  stop(): Promise<void>;
}

const UNDERLAY = '192.168.77';
const REDIS_PORT = 6379;

export async function createCluster(options: ClusterOptions): Promise<Cluster> {
  const { scope } = options;
  const network = options.network ?? '10.244.0.0/16';
  const netConf =
    options.backend === 'vxlan'
      ? { Network: network, SubnetLen: 24, Backend: { Type: 'vxlan', VNI: 1, Port: 8472 } }
      : { Network: network, SubnetLen: 24, Backend: { Type: 'host-gw' } };
  const underlay = 'ul';
  const externalIp = `${UNDERLAY}.254`;
  await scope.create(underlay);
  await scope.ip(underlay, [
    'link add br0 type bridge',
    'link set dev br0 up',
    `addr add ${externalIp}/24 dev br0`,
  ]);

  const redis = await startRedis(scope, underlay, externalIp);
  const compileCache = join(scope.dir, 'compile-cache');

  const nodes: SimNode[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const short = `n${i}`;
    const ip = `${UNDERLAY}.${i}`;
    await scope.create(short);
    await scope.ip(underlay, [
      `link add ${short} type veth peer name eth0 netns ${scope.path(short)}`,
      `link set dev ${short} master br0 up`,
    ]);
    await scope.ip(short, [
      `addr add ${ip}/24 dev eth0`,
      'link set dev eth0 up',
      `route add default via ${externalIp}`,
    ]);
    const dir = join(scope.dir, short);
    mkdirSync(dir, { recursive: true });
    const socket = join(dir, 'cni.sock');
    const subnetEnv = join(dir, 'subnet.env');
    const runtime = createCniRuntime({
      scope,
      node: short,
      conflist: {
        cniVersion: options.cniVersion ?? '1.1.0',
        name: 'pier',
        plugins: [{ type: 'pier-cni', agentSocket: socket }, ...(options.chain ?? [])],
      },
      cniPath: [PIER_BIN_DIR, '/usr/lib/cni'],
      env: { PIER_CNI_COMPILE_CACHE: compileCache },
    });
    let agent: ChildProcess | undefined;
    let log = '';
    const node: SimNode = {
      index: i,
      short,
      name: `node-${i}`,
      ip,
      dir,
      socket,
      subnetEnv,
      runtime,
      async start(extraArgs = []) {
        if (agent !== undefined && agent.exitCode === null && agent.signalCode === null) {
          throw new Error(`${node.name}: agent already running`);
        }
        const args = [
          process.execPath,
          PIER,
          'agent',
          '--node-name',
          node.name,
          '--net-conf-json',
          JSON.stringify(netConf),
          '--iface',
          'eth0',
          '--data-dir',
          join(dir, 'data'),
          '--subnet-env',
          subnetEnv,
          '--socket',
          socket,
          '--cluster-dns',
          '10.96.0.10',
          '--lease-ttl',
          String(options.leaseTtlSeconds ?? 3600),
          '--renew-margin',
          String(options.renewMarginSeconds ?? 600),
          '--resync',
          '5',
          '--store-wait',
          '2',
          '--store.url',
          redis.url,
          '--store.cluster',
          options.storeCluster,
          ...extraArgs,
        ];
        const child = scope.spawn(short, args);
        agent = child;
        const from = log.length;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(new Error(`${node.name}: agent not ready after 20 s:\n${log.slice(-3000)}`)),
            20_000,
          );
          const onData = (chunk: Buffer) => {
            log += chunk.toString();
            if (log.indexOf('"msg":"agent ready"', from) !== -1) {
              clearTimeout(timer);
              resolve();
            }
          };
          child.stdout?.on('data', onData);
          child.stderr?.on('data', (c: Buffer) => {
            log += c.toString();
          });
          child.once('exit', (code, signal) => {
            clearTimeout(timer);
            reject(
              new Error(
                `${node.name}: agent exited (${code ?? signal}) before it was ready:\n${log.slice(-3000)}`,
              ),
            );
          });
        });
      },
      async kill(signal = 'SIGKILL') {
        const child = agent;
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill(signal);
        });
      },
      running: () => agent !== undefined && agent.exitCode === null && agent.signalCode === null,
      subnet() {
        const text = readFileSync(subnetEnv, 'utf8');
        const gateway = /FLANNEL_SUBNET=([0-9.]+)\/(\d+)/.exec(text);
        if (gateway === null) throw new Error(`${subnetEnv}: no FLANNEL_SUBNET`);
        const parts = (gateway[1] as string).split('.');
        return `${parts.slice(0, 3).join('.')}.0/${gateway[2]}`;
      },
      logs: () => log,
      async addPod(podShort, podNamespace = 'default') {
        await scope.create(podShort);
        const containerId = `c-${podShort}`;
        const outcome = await runtime.add({
          containerId,
          netns: scope.path(podShort),
          args: { K8S_POD_NAMESPACE: podNamespace, K8S_POD_NAME: podShort },
        });
        if (!outcome.ok) {
          throw new Error(
            `ADD ${podShort} on ${node.name} failed: ${JSON.stringify(outcome.output)} ${outcome.runs.map((r) => r.stderr).join('')}`,
          );
        }
        const result = outcome.output as { ips: { address: string }[] };
        const ip = (result.ips[0]?.address ?? '').split('/')[0] as string;
        return {
          ns: podShort,
          node,
          containerId,
          ip,
          result: outcome.output as Record<string, unknown>,
        };
      },
      delPod(pod) {
        return runtime.del({ containerId: pod.containerId, netns: scope.path(pod.ns) });
      },
    };
    nodes.push(node);
  }
  return {
    nodes,
    underlay,
    externalIp,
    redis,
    async stop() {
      await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
      await redis.stop();
    },
  };
}

async function startRedis(scope: NetnsScope, ns: string, host: string) {
  const dir = join(scope.dir, 'redis');
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess | undefined;
  const start = async () => {
    child = scope.spawn(
      ns,
      [
        'redis-server',
        '--bind',
        host,
        '--port',
        String(REDIS_PORT),
        '--save',
        '',
        '--appendonly',
        'yes',
        '--dir',
        dir,
        '--protected-mode',
        'no',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      const ping = await scope.exec(ns, [
        'redis-cli',
        '-h',
        host,
        '-p',
        String(REDIS_PORT),
        'ping',
      ]);
      if (ping.stdout.trim() === 'PONG') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server in ${scope.name(ns)} did not answer`);
  };
  const stop = async () => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGTERM');
    });
  };
  await start();
  return { url: `redis://${host}:${REDIS_PORT}`, start, stop };
}

export function fileExists(path: string): boolean {
  return existsSync(path);
}
