// The node agent's pod network: one per node. It leases the node a pod
// subnet in the shared Store, sets up the bridge the pods hang on, keeps
// routes to every other node's subnet (host-gw or vxlan) and the
// masquerade table in step with the leases, and serves pier-cni on its
// socket.
//
// Record, then sync (convention 4): the lease informer only schedules a
// sync; one sync at a time reads the kernel, plans (pure), and applies the
// difference in batches. Nothing is flushed, ever: a restarted agent finds
// its routes, rules, bridge and pods in place, and changes only what
// differs. Pods keep their connectivity while the agent is down, since the
// kernel does all the forwarding.
//
// The Store may be down: pod addresses live on the node's disk, and a node
// that had a subnet (its subnet.env) runs on it until the Store answers.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPierError } from '../src/errors.ts';
import { Kinds } from '../src/model/object.ts';
import { createInformer, type Informer } from '../src/store/informer.ts';
import type { Store } from '../src/store.ts';
import { createHostGwBackend } from './backend/host-gw-backend.ts';
import { createVxlanBackend } from './backend/vxlan-backend.ts';
import type { BackendSelf, NetworkBackend, NodeEndpoint } from './backend.ts';
import { createCniHandler } from './cni/handler.ts';
import { type CniServer, createCniServer } from './cni/server.ts';
import type { AgentSettings } from './config.ts';
import { AgentErrors } from './errors.ts';
import { type Cidr, containsCidr, formatCidr, formatIp, parseIp, sameCidr } from './ipam/ipv4.ts';
import { createLeaseManager, type LeaseManager } from './ipam/lease-manager.ts';
import type { NetConf } from './ipam/net-conf.ts';
import { createPodIpam, gatewayOf, type PodIpam } from './ipam/pod-ipam.ts';
import { inRange } from './ipam/subnet-choice.ts';
import { readSubnetEnv, writeSubnetEnv } from './ipam/subnet-env.ts';
import { isExpired, type Lease, leaseName, parseLease } from './ipam/subnet-lease.ts';
import type { AgentLogger } from './logger.ts';
import { isNetlinkError, type LinkOp, type Netlink } from './netlink.ts';
import { type Nftables, tableComment } from './nftables.ts';
import { planBridge } from './pod-network/bridge-plan.ts';
import { createBridgePodNetwork } from './pod-network/bridge-pod-network.ts';
import { createDnsForPod } from './pod-network/dns-block.ts';
import {
  FIREWALL_FAMILY,
  FIREWALL_TABLE,
  renderFirewallTable,
} from './pod-network/firewall-table.ts';
import {
  BRIDGE_MAC_PREFIX,
  HOST_VETH_PREFIX,
  hostVethName,
  macFromIp,
} from './pod-network/names.ts';
import type { NetworkStatus, PodNetwork } from './pod-network.ts';

export interface NodeAgentPorts {
  store: Store;
  netlink: Netlink;
  nftables: Nftables;
  logger: AgentLogger;
  /** Writes /proc/sys/<key with dots as slashes>; injectable for unit tests. */
  writeSysctl?: (key: string, value: string) => Promise<void>;
  netnsExists?: (path: string) => Promise<boolean>;
  now?: () => number;
  /** Called after each CNI request (metrics). */
  observeCni?: (command: string, ok: boolean, seconds: number) => void;
}

export interface NodeAgentInfo {
  node: string;
  iface?: string;
  publicIp?: string;
  subnet?: string;
  podMtu?: number;
  backend: string;
  /** Running on the subnet from subnet.env while the Store has not confirmed the lease. */
  provisional: boolean;
  peers: { node: string; subnet: string; publicIp: string }[];
  syncs: number;
}

export interface NodeAgent {
  /** Resolves once pods can be attached (a subnet is leased, or taken over from subnet.env). */
  start(): Promise<void>;
  /** Stops serving and watching; leaves every route, rule and pod in place (releases the lease if configured). */
  stop(): Promise<void>;
  /** Runs a sync now and waits for it. */
  sync(): Promise<void>;
  status(): NetworkStatus;
  info(): NodeAgentInfo;
  readonly podNetwork: PodNetwork;
}

const defaultWriteSysctl = (key: string, value: string) =>
  writeFile(`/proc/sys/${key.replaceAll('.', '/')}`, value);

export function createNodeAgent(
  settings: AgentSettings,
  netConf: NetConf,
  ports: NodeAgentPorts,
): NodeAgent {
  const { store, netlink, nftables, logger } = ports;
  const now = ports.now ?? Date.now;
  const writeSysctl = ports.writeSysctl ?? defaultWriteSysctl;
  const backend: NetworkBackend =
    netConf.backend.type === 'vxlan'
      ? (createVxlanBackend({
          vni: netConf.backend.vni,
          port: netConf.backend.port,
        }) as NetworkBackend)
      : (createHostGwBackend() as NetworkBackend);

  let underlay: { iface: string; mtu: number; publicIp: number } | undefined;
  let subnet: Cidr | undefined;
  let ipam: PodIpam | undefined;
  let provisional = false;
  let lostTo: string | undefined;
  let leases: LeaseManager | undefined;
  let informer: Informer | undefined;
  let server: CniServer | undefined;
  let peers: NodeEndpoint[] = [];
  let syncs = 0;
  const stopping = new AbortController();
  const timers = new Set<NodeJS.Timeout>();

  const podMtu = () => (underlay === undefined ? 1500 : underlay.mtu - backend.overhead);

  const status = (): NetworkStatus => {
    if (lostTo !== undefined) {
      return {
        ready: false,
        code: 51,
        reason: AgentErrors.LEASE_LOST(subnet === undefined ? '?' : formatCidr(subnet), lostTo)
          .message,
      };
    }
    if (subnet === undefined || ipam === undefined) {
      return {
        ready: false,
        code: 50,
        reason: 'the agent has not leased a node subnet yet (is the Store reachable?)',
      };
    }
    return { ready: true };
  };

  const podNetwork = createBridgePodNetwork({
    netlink,
    bridge: settings.bridge,
    node: () => (ipam === undefined ? undefined : { ipam, mtu: podMtu() }),
    status,
    dns: createDnsForPod({ nameservers: settings.clusterDns, domain: settings.clusterDomain }),
    logger,
    ...(ports.netnsExists === undefined ? {} : { netnsExists: ports.netnsExists }),
  });

  const later = (ms: number, fn: () => void): NodeJS.Timeout | undefined => {
    if (stopping.signal.aborted) return undefined;
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    return timer;
  };

  // ---- underlay ---------------------------------------------------------

  const detectUnderlay = async () => {
    const [links, addresses] = await Promise.all([netlink.links(), netlink.addresses()]);
    let iface = settings.iface;
    let ip = settings.nodeIp;
    if (iface === undefined && ip !== undefined) {
      iface = addresses.find((a) => a.address.split('/')[0] === ip)?.dev;
      if (iface === undefined) throw AgentErrors.NO_NODE_ADDRESS(`no interface holds ${ip}`);
    }
    if (iface === undefined) {
      const routes = await netlink.routes();
      iface = routes.find((r) => r.dst === 'default')?.dev;
      if (iface === undefined)
        throw AgentErrors.NO_NODE_ADDRESS('there is no default route to take the interface from');
    }
    const link = links.find((l) => l.name === iface);
    if (link === undefined) throw AgentErrors.NO_NODE_ADDRESS(`interface ${iface} does not exist`);
    ip ??= addresses.find((a) => a.dev === iface)?.address.split('/')[0];
    if (ip === undefined)
      throw AgentErrors.NO_NODE_ADDRESS(`interface ${iface} has no IPv4 address`);
    underlay = { iface, mtu: link.mtu, publicIp: parseIp(ip) as number };
  };

  const self = (): BackendSelf | undefined =>
    underlay === undefined || subnet === undefined
      ? undefined
      : { subnet, publicIp: underlay.publicIp, iface: underlay.iface, ifaceMtu: underlay.mtu };

  // ---- applying ---------------------------------------------------------

  /** Applies ops in one batch; an operation that fails is reported and the rest still applied. */
  const applyTolerant = async (ops: readonly LinkOp[], what: string) => {
    let rest = ops;
    while (rest.length > 0) {
      try {
        await netlink.apply(rest);
        return;
      } catch (error) {
        if (!isNetlinkError(error) || error.opIndex === undefined) throw error;
        logger.warn({ err: error, op: error.op }, `${what}: a change failed; applying the rest`);
        rest = rest.slice(error.opIndex + 1);
      }
    }
  };

  const ensureBridge = async (own: Cidr) => {
    const gateway = gatewayOf(own);
    const [links, addresses] = await Promise.all([netlink.links(), netlink.addresses({})]);
    const ops = planBridge(
      {
        name: settings.bridge,
        mtu: podMtu(),
        mac: macFromIp(BRIDGE_MAC_PREFIX, gateway),
        address: `${formatIp(gateway)}/${own.prefix}`,
      },
      links,
      addresses,
    );
    if (ops.length > 0) await netlink.apply(ops);
    return links;
  };

  const ensureFirewall = async () => {
    if (underlay === undefined) return;
    const nodeIps = [underlay.publicIp, ...peers.map((p) => p.publicIp)];
    const table = renderFirewallTable({ network: netConf.network, nodeIps });
    const listing = await nftables.listTable(FIREWALL_FAMILY, FIREWALL_TABLE);
    if (listing !== undefined && tableComment(listing) === table.comment) return;
    await nftables.apply(table.script);
    logger.info(
      { table: FIREWALL_TABLE, nodes: nodeIps.length },
      'pod network nftables table written',
    );
  };

  // ---- activation: this node has a subnet -------------------------------

  const activate = async (own: Cidr, how: 'leased' | 'provisional') => {
    if (subnet !== undefined && sameCidr(subnet, own) && ipam !== undefined) {
      provisional = how === 'provisional';
      return;
    }
    if (subnet !== undefined && ipam !== undefined && ipam.list().length > 0) {
      logger.error(
        { from: formatCidr(subnet), to: formatCidr(own), pods: ipam.list().length },
        'this node now has a different subnet than the one it ran on; pods started before keep addresses that no longer route here: restart them',
      );
    }
    const podIpam = await createPodIpam({
      dir: join(settings.dataDir, 'ipam', leaseName(own)),
      subnet: own,
    });
    await writeSubnetEnv(settings.subnetEnv, {
      network: netConf.network,
      subnet: own,
      mtu: podMtu(),
      ipMasq: true,
    });
    await writeSysctl('net.ipv4.ip_forward', '1');
    const links = await ensureBridge(own);
    // Host veths of ours without an address record cannot belong to a pod
    // (ADD records the address before it makes the veth): remove them.
    const known = new Set(podIpam.list().map((r) => hostVethName(r.containerId, r.ifname)));
    const orphans = links.filter(
      (l) =>
        l.kind === 'veth' &&
        l.name.startsWith(HOST_VETH_PREFIX) &&
        l.master === settings.bridge &&
        !known.has(l.name),
    );
    if (orphans.length > 0) {
      logger.warn(
        { interfaces: orphans.map((l) => l.name) },
        'removing host veths no pod address record refers to',
      );
      await applyTolerant(
        orphans.map((l): LinkOp => ({ op: 'del-link', name: l.name })),
        'orphan veths',
      );
    }
    subnet = own;
    ipam = podIpam;
    provisional = how === 'provisional';
    logger.info(
      {
        subnet: formatCidr(own),
        how,
        backend: backend.type,
        iface: underlay?.iface,
        publicIp: underlay === undefined ? undefined : formatIp(underlay.publicIp),
        podMtu: podMtu(),
        pods: podIpam.list().length,
      },
      how === 'leased'
        ? 'node subnet leased'
        : 'running on the subnet from subnet.env until the Store answers',
    );
    // DELs the previous agent answered but did not finish.
    void podNetwork.settle();
  };

  // ---- leases -----------------------------------------------------------

  const scheduleRenew = (lease: Lease) => {
    const margin = settings.renewMarginSeconds * 1000;
    later(Math.max(1000, lease.expireTime - margin - now()), () => void renew(0));
  };

  const renew = async (attempt: number) => {
    if (stopping.signal.aborted || leases === undefined) return;
    try {
      const lease = await leases.renew();
      lostTo = undefined;
      await activate(lease.subnet, 'leased');
      scheduleRenew(lease);
    } catch (error) {
      if (isPierError(error, 'PIER_AGENT_LEASE_LOST')) {
        const owner = /belongs to (\S+);/.exec(error.message)?.[1] ?? 'another node';
        lostTo = owner;
        logger.error({ err: error }, 'this node lost its subnet lease');
        requestSync();
        return;
      }
      const wait = Math.min(30_000, 1000 * 2 ** attempt);
      logger.warn({ err: error, retryInMs: wait }, 'renewing the subnet lease failed; retrying');
      later(wait, () => void renew(attempt + 1));
    }
  };

  const acquireUntilDone = async (): Promise<Lease> => {
    for (let attempt = 0; ; attempt++) {
      if (stopping.signal.aborted) throw AgentErrors.NOT_READY('stopping');
      try {
        return await (leases as LeaseManager).acquire();
      } catch (error) {
        const wait = Math.min(30_000, 500 * 2 ** attempt);
        logger.warn({ err: error, retryInMs: wait }, 'leasing a node subnet failed; retrying');
        await new Promise<void>((resolve) => later(wait, resolve));
      }
    }
  };

  // ---- sync -------------------------------------------------------------

  let syncRunning: Promise<void> | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let syncAgain = false;

  const readPeers = (): NodeEndpoint[] => {
    if (informer === undefined || underlay === undefined || !informer.hasSynced()) return peers;
    const t = now();
    const out: NodeEndpoint[] = [];
    let nextExpiry = Number.POSITIVE_INFINITY;
    let taken: string | undefined;
    for (const object of informer.list(Kinds.SubnetLease)) {
      let lease: Lease;
      try {
        lease = parseLease(object);
      } catch (error) {
        logger.warn({ err: error }, 'ignoring a malformed SubnetLease');
        continue;
      }
      if (!containsCidr(netConf.network, lease.subnet) || isExpired(lease, t)) continue;
      if (lease.node === settings.nodeName) continue;
      if (subnet !== undefined && sameCidr(lease.subnet, subnet)) {
        taken = lease.node;
        continue;
      }
      nextExpiry = Math.min(nextExpiry, lease.expireTime);
      out.push({
        node: lease.node,
        subnet: lease.subnet,
        publicIp: lease.publicIp,
        backend: lease.backend,
      });
    }
    // Another node holds our subnet (our lease expired and was taken): we must not route it away.
    if (taken !== undefined && !provisional) lostTo = taken;
    if (expiryTimer !== undefined) {
      clearTimeout(expiryTimer);
      timers.delete(expiryTimer);
      expiryTimer = undefined;
    }
    if (Number.isFinite(nextExpiry)) {
      expiryTimer = later(Math.max(50, nextExpiry - t + 50), requestSync);
    }
    return out.sort((a, b) => a.subnet.base - b.subnet.base);
  };

  const syncOnce = async () => {
    const me = self();
    if (me === undefined) return;
    await ensureBridge(me.subnet);
    await podNetwork.settle();
    // Until the leases are known, what the kernel holds is the best guess:
    // planning from nothing would remove every route to the other nodes.
    if (informer === undefined || !informer.hasSynced()) return;
    peers = readPeers();
    const observed = await backend.observe(netlink, me);
    const ops = backend.plan(me, peers, observed);
    if (ops.length > 0) {
      await applyTolerant(ops, `${backend.type} routes`);
      logger.info({ changes: ops.length, peers: peers.length }, `${backend.type} routes updated`);
    }
    await ensureFirewall();
    syncs++;
  };

  const sync = (): Promise<void> => {
    if (syncRunning !== undefined) {
      syncAgain = true;
      return syncRunning;
    }
    syncRunning = (async () => {
      try {
        do {
          syncAgain = false;
          try {
            await syncOnce();
          } catch (error) {
            logger.error({ err: error }, 'pod network sync failed; retrying at the next resync');
          }
        } while (syncAgain && !stopping.signal.aborted);
      } finally {
        syncRunning = undefined;
      }
    })();
    return syncRunning;
  };

  let syncScheduled = false;
  function requestSync() {
    if (syncScheduled) return;
    syncScheduled = true;
    later(20, () => {
      syncScheduled = false;
      void sync();
    });
  }

  const resyncLoop = () => {
    later(settings.resyncSeconds * 1000, () => {
      void sync().finally(resyncLoop);
    });
  };

  // ---- start / stop -----------------------------------------------------

  const start = async () => {
    await detectUnderlay();
    const u = underlay as NonNullable<typeof underlay>;
    let previous: Cidr | undefined;
    try {
      const env = await readSubnetEnv(settings.subnetEnv);
      if (
        env !== undefined &&
        sameCidr(env.network, netConf.network) &&
        inRange(netConf, env.subnet)
      ) {
        previous = env.subnet;
      }
    } catch (error) {
      logger.warn({ err: error }, 'ignoring an unreadable subnet.env');
    }
    leases = createLeaseManager({
      store,
      conf: netConf,
      node: settings.nodeName,
      publicIp: u.publicIp,
      backend: backend.leaseData(u.publicIp),
      ttlMs: settings.leaseTtlSeconds * 1000,
      previous,
      logger,
      now,
    });

    informer = createInformer(store, { kinds: [Kinds.SubnetLease], logger });
    informer.subscribe(() => requestSync());
    informer.start();

    server = createCniServer({
      path: settings.socket,
      handler: createCniHandler({
        podNetwork,
        logger,
        ...(ports.observeCni === undefined ? {} : { observe: ports.observeCni }),
      }),
      logger,
    });
    await server.listen();

    const storeWait = () =>
      new Promise<undefined>((resolve) =>
        later(settings.storeWaitSeconds * 1000, () => resolve(undefined)),
      );
    const acquiring = acquireUntilDone();
    const lease =
      previous === undefined ? await acquiring : await Promise.race([acquiring, storeWait()]);
    if (lease === undefined && previous !== undefined) {
      await activate(previous, 'provisional');
      void acquiring.then(
        async (late) => {
          await activate(late.subnet, 'leased');
          scheduleRenew(late);
          requestSync();
        },
        () => {},
      );
    } else if (lease !== undefined) {
      await activate(lease.subnet, 'leased');
      scheduleRenew(lease);
    }

    // The other nodes' leases, if the Store answers; the sync waits for them before routing.
    await Promise.race([informer.waitForSync(stopping.signal).catch(() => {}), storeWait()]);
    await sync();
    resyncLoop();
  };

  const stop = async () => {
    stopping.abort();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    await server?.close();
    await podNetwork.settle();
    await informer?.stop();
    await syncRunning;
    if (settings.releaseOnExit && leases !== undefined) {
      try {
        await leases.release();
        logger.info({}, 'subnet lease released (releaseOnExit)');
      } catch (error) {
        logger.warn({ err: error }, 'releasing the subnet lease failed; it expires on its own');
      }
    }
  };

  return {
    start,
    stop,
    sync,
    status,
    podNetwork,
    info: () => ({
      node: settings.nodeName,
      ...(underlay === undefined
        ? {}
        : { iface: underlay.iface, publicIp: formatIp(underlay.publicIp), podMtu: podMtu() }),
      ...(subnet === undefined ? {} : { subnet: formatCidr(subnet) }),
      backend: backend.type,
      provisional,
      peers: peers.map((p) => ({
        node: p.node,
        subnet: formatCidr(p.subnet),
        publicIp: formatIp(p.publicIp),
      })),
      syncs,
    }),
  };
}
