// The pod network on a bridge: each pod gets a veth pair, the host end on
// the node's bridge (which holds the subnet's gateway address), the other
// end in the pod's namespace with an address from the node's subnet and a
// default route via the bridge.
//
// An ADD is two batches, one per namespace (the kernel work of a pod start):
//   node:  link add pier<hash> address .. mtu M master cni0 up type veth
//              peer name eth0 address .. mtu M netns <pod>
//          link set dev pier<hash> type bridge_slave hairpin on
//   pod:   link set dev lo up; addr add 10.244.1.5/24 dev eth0;
//          link set dev eth0 up; route replace default via 10.244.1.1 dev eth0
// The node's go through the agent's long-lived ip session; the pod's are one
// `ip -n <pod> -batch -` process, started first so that its start-up runs
// while the address is claimed and the veth made.
// An ADD that fails midway undoes what it did, so it leaves no veth, address
// or allocation behind.
//
// A DEL answers as soon as its address is marked releasing on disk; the
// kernel work (`link del pier<hash>`, which takes the pod end with it and
// waits out an RCU grace period, tens of milliseconds) and freeing the
// address follow in the background. The address stays taken until the
// interface is gone, an ADD of the same attachment waits for it, and an
// agent that dies meanwhile finishes the job when it starts again.

import { access } from 'node:fs/promises';
import { isPierError } from '../../src/errors.ts';
import { CniCodes, CniError } from '../cni/errors.ts';
import type { AttachResult } from '../cni/result.ts';
import { formatIp, parseIpWithPrefix } from '../ipam/ipv4.ts';
import type { PodIpam } from '../ipam/pod-ipam.ts';
import type { AgentLogger } from '../logger.ts';
import { isNetlinkError, type LinkOp, type Netlink } from '../netlink.ts';
import type {
  AttachmentRef,
  AttachRequest,
  CheckRequest,
  DetachRequest,
  DnsForPod,
  NetworkStatus,
  PodNetwork,
} from '../pod-network.ts';
import {
  HOST_MAC_PREFIX,
  HOST_VETH_PREFIX,
  hostVethName,
  macFromIp,
  POD_MAC_PREFIX,
} from './names.ts';

/** What the pod network needs of the node: present once the agent has a subnet. */
/** How long after the last CNI request a deferred teardown runs, and its longest wait. */
const TEARDOWN_IDLE_MS = 50;
const TEARDOWN_MAX_WAIT_MS = 2000;

export interface NodeAttachment {
  ipam: PodIpam;
  /** The pods' MTU: the node interface's, less the overlay's overhead. */
  mtu: number;
}

export interface BridgePodNetworkOptions {
  netlink: Netlink;
  bridge: string;
  node: () => NodeAttachment | undefined;
  status: () => NetworkStatus;
  dns: DnsForPod;
  logger: AgentLogger;
  netnsExists?: (path: string) => Promise<boolean>;
}

export function createBridgePodNetwork(options: BridgePodNetworkOptions): PodNetwork {
  const { netlink, bridge, logger } = options;
  const netnsExists =
    options.netnsExists ??
    ((path: string) =>
      access(path).then(
        () => true,
        () => false,
      ));

  const ready = (): NodeAttachment => {
    const node = options.node();
    const status = options.status();
    if (node === undefined || !status.ready) {
      throw new CniError(
        CniCodes.TRY_AGAIN_LATER,
        `the pier agent cannot attach pods yet: ${status.ready ? 'it has no subnet yet' : status.reason}`,
      );
    }
    return node;
  };

  const deleteHostVeth = async (name: string) => {
    try {
      await netlink.apply([{ op: 'del-link', name }]);
    } catch (error) {
      if (!isNetlinkError(error, 'missing')) throw error;
    }
  };

  // ---- deferred teardown ----------------------------------------------
  // A teardown waits until no CNI request has run for a moment (at most
  // TEARDOWN_MAX_WAIT_MS), so the kernel's slow veth removal does not compete
  // with the next pod's start or stop; settle() and an ADD of the same
  // attachment hurry it.
  const teardowns = new Map<string, { done: Promise<void>; hurry: () => void }>();
  let active = 0;
  let lastActivity = 0;
  const busy = async <T>(work: () => Promise<T>): Promise<T> => {
    active++;
    try {
      return await work();
    } finally {
      active--;
      lastActivity = Date.now();
    }
  };
  const whenIdle = (hurried: Promise<void>) =>
    Promise.race([
      hurried,
      new Promise<void>((resolve) => {
        const started = Date.now();
        const check = () => {
          const now = Date.now();
          if (
            (active === 0 && now - lastActivity >= TEARDOWN_IDLE_MS) ||
            now - started >= TEARDOWN_MAX_WAIT_MS
          ) {
            resolve();
          } else {
            setTimeout(check, TEARDOWN_IDLE_MS).unref?.();
          }
        };
        check();
      }),
    ]);

  const teardown = (host: string, ip: number | undefined): Promise<void> => {
    const previous = teardowns.get(host)?.done ?? Promise.resolve();
    let hurry: () => void = () => {};
    const hurried = new Promise<void>((resolve) => {
      hurry = resolve;
    });
    const done = previous
      .then(() => whenIdle(hurried))
      .then(async () => {
        try {
          await deleteHostVeth(host);
          if (ip !== undefined) await options.node()?.ipam.freeAddress(ip);
        } catch (error) {
          // The address stays marked releasing; the next settle() tries again.
          logger.error(
            { err: error, hostVeth: host },
            'tearing down a deleted pod failed; retrying later',
          );
        }
      });
    const entry = { done, hurry };
    teardowns.set(host, entry);
    void done.finally(() => {
      if (teardowns.get(host) === entry) teardowns.delete(host);
    });
    return done;
  };

  /** Waits for the teardown of one host veth, hurrying it. */
  const teardownOf = async (host: string) => {
    const entry = teardowns.get(host);
    if (entry === undefined) return;
    entry.hurry();
    await entry.done;
  };

  const settle = async () => {
    const node = options.node();
    for (const record of node?.ipam.list() ?? []) {
      if (record.releasing !== true) continue;
      const host = hostVethName(record.containerId, record.ifname);
      if (!teardowns.has(host)) void teardown(host, record.ip);
    }
    while (teardowns.size > 0) {
      for (const entry of teardowns.values()) entry.hurry();
      await Promise.all([...teardowns.values()].map((e) => e.done));
    }
  };

  const attach = async (request: AttachRequest): Promise<AttachResult> => {
    const { containerId, ifname, netns } = request;
    const node = ready();
    // The pod-side batch's process starts now and gets its lines once the
    // veth exists: its start overlaps the checks, the address and the veth.
    let providePodOps: (ops: readonly LinkOp[]) => void = () => {};
    let abandonPod: (reason: unknown) => void = () => {};
    const podOpsKnown = new Promise<readonly LinkOp[]>((resolve, reject) => {
      providePodOps = resolve;
      abandonPod = reject;
    });
    podOpsKnown.catch(() => {});
    const podBatch = netlink.apply(podOpsKnown, { netns });
    podBatch.catch(() => {}); // awaited below, or abandoned
    const abandon = (reason: unknown) => {
      abandonPod(reason);
      return reason;
    };

    if (!(await netnsExists(netns))) {
      throw abandon(
        new CniError(CniCodes.UNKNOWN_CONTAINER, `the network namespace ${netns} does not exist`),
      );
    }
    const host = hostVethName(containerId, ifname);
    // The same attachment deleted a moment ago: its interface must be gone first.
    await teardownOf(host);
    const { ipam, mtu } = node;
    let allocation: { ip: number; existing: boolean };
    try {
      allocation = await ipam.allocate(containerId, ifname);
    } catch (error) {
      if (isPierError(error, 'PIER_AGENT_SUBNET_FULL')) {
        throw abandon(new CniError(CniCodes.NO_ADDRESS, error.message));
      }
      throw abandon(new CniError(CniCodes.IO_FAILURE, (error as Error).message));
    }
    const address = `${formatIp(allocation.ip)}/${ipam.subnet.prefix}`;
    const gateway = formatIp(ipam.gateway);
    const hostMac = macFromIp(HOST_MAC_PREFIX, allocation.ip);
    const podMac = macFromIp(POD_MAC_PREFIX, allocation.ip);
    const hostOps: LinkOp[] = [
      {
        op: 'add-veth',
        name: host,
        mac: hostMac,
        mtu,
        master: bridge,
        up: true,
        peer: ifname,
        peerMac: podMac,
        peerNetns: netns,
      },
      { op: 'set-hairpin', name: host, on: true },
    ];
    const podOps: LinkOp[] = [
      { op: 'set-link', name: 'lo', up: true },
      { op: 'add-addr', dev: ifname, address },
      { op: 'set-link', name: ifname, up: true },
      { op: 'replace-route', dst: 'default', via: gateway, dev: ifname },
    ];

    let created = false;
    try {
      try {
        await netlink.apply(hostOps);
        created = true;
      } catch (error) {
        // Only the first operation creates; if a later one failed, the veth exists.
        if (isNetlinkError(error) && error.opIndex !== 0) created = true;
        throw abandon(error);
      }
      providePodOps(podOps);
      await podBatch;
    } catch (error) {
      await rollback(created, host, request, allocation.existing);
      throw await explain(error, request, host, created);
    }
    return {
      host: { name: host, mac: hostMac, mtu },
      pod: { name: ifname, mac: podMac, mtu, sandbox: netns },
      address,
      gateway,
      routes: [{ dst: '0.0.0.0/0', gw: gateway }],
      dns: options.dns(request.podNamespace),
    };
  };

  const rollback = async (
    created: boolean,
    host: string,
    request: AttachRequest,
    keepAddress: boolean,
  ) => {
    try {
      if (created) await deleteHostVeth(host);
      if (!keepAddress) await options.node()?.ipam.release(request.containerId, request.ifname);
    } catch (error) {
      // The runtime DELs a failed ADD, which retries this; say what is left meanwhile.
      logger.error(
        { err: error, containerId: request.containerId, ifname: request.ifname, hostVeth: host },
        'rolling back a failed ADD failed; the runtime DEL will retry',
      );
    }
  };

  const explain = async (
    error: unknown,
    request: AttachRequest,
    host: string,
    created: boolean,
  ): Promise<CniError> => {
    if (isNetlinkError(error, 'exists') && !created) {
      const hostExists = (await netlink.links().catch(() => [])).some((l) => l.name === host);
      return new CniError(
        CniCodes.INTERFACE_EXISTS,
        hostExists
          ? `container ${request.containerId} is already attached as ${request.ifname} (host interface ${host}); DEL it before adding it again`
          : `interface ${request.ifname} already exists in ${request.netns}`,
        error.message,
      );
    }
    if (isNetlinkError(error, 'no-netns')) {
      return new CniError(
        CniCodes.UNKNOWN_CONTAINER,
        `the network namespace ${request.netns} went away during ADD`,
        error.message,
      );
    }
    return new CniError(
      CniCodes.SETUP_FAILED,
      `setting up ${request.ifname} in ${request.netns} failed; nothing was left behind`,
      (error as Error).message,
    );
  };

  const detach = async (request: DetachRequest) => {
    const host = hostVethName(request.containerId, request.ifname);
    let record: { ip: number } | undefined;
    try {
      record = await options.node()?.ipam.markReleasing(request.containerId, request.ifname);
    } catch (error) {
      throw new CniError(CniCodes.IO_FAILURE, (error as Error).message);
    }
    // Without a record (a second DEL, an agent without a subnet yet) the
    // interface may still exist: remove it all the same.
    void teardown(host, record?.ip);
  };

  const check = async (request: CheckRequest) => {
    const { containerId, ifname, netns } = request;
    const node = ready();
    if (!(await netnsExists(netns))) {
      throw new CniError(
        CniCodes.UNKNOWN_CONTAINER,
        `the network namespace ${netns} does not exist`,
      );
    }
    const problems: string[] = [];
    const expected = parseIpWithPrefix(request.address);
    const recorded = node.ipam.lookup(containerId, ifname);
    if (expected === undefined)
      problems.push(`prevResult address ${request.address} is not IPv4/prefix`);
    else if (recorded !== expected.ip) {
      problems.push(
        recorded === undefined
          ? `no address is allocated to ${containerId}/${ifname}`
          : `the allocated address is ${formatIp(recorded)}, not ${request.address}`,
      );
    }
    const host = hostVethName(containerId, ifname);
    const hostLink = (await netlink.links()).find((l) => l.name === host);
    if (hostLink === undefined) problems.push(`host interface ${host} is missing`);
    else {
      if (hostLink.master !== bridge) problems.push(`host interface ${host} is not on ${bridge}`);
      if (!hostLink.up) problems.push(`host interface ${host} is down`);
      if (hostLink.hairpin !== true) problems.push(`host interface ${host} has hairpin off`);
    }
    try {
      const podLink = (await netlink.links({ netns })).find((l) => l.name === ifname);
      if (podLink === undefined) problems.push(`${ifname} is missing in ${netns}`);
      else {
        if (!podLink.up) problems.push(`${ifname} is down`);
        if (podLink.mtu !== node.mtu)
          problems.push(`${ifname} has MTU ${podLink.mtu}, not ${node.mtu}`);
        const addresses = await netlink.addresses({ netns, dev: ifname });
        if (!addresses.some((a) => a.address === request.address)) {
          problems.push(`${ifname} does not hold ${request.address}`);
        }
      }
    } catch (error) {
      problems.push(`reading ${netns} failed: ${(error as Error).message}`);
    }
    if (problems.length > 0) {
      throw new CniError(
        CniCodes.CHECK_FAILED,
        `pod network of ${containerId} is not as ADD left it`,
        problems.join('; '),
      );
    }
  };

  const gc = async (valid: readonly AttachmentRef[]) => {
    const keep = new Set(valid.map((a) => `${a.containerId}\0${a.ifname}`));
    const keepHosts = new Set(valid.map((a) => hostVethName(a.containerId, a.ifname)));
    const node = options.node();
    const freed = node === undefined ? [] : await node.ipam.gc((c, i) => keep.has(`${c}\0${i}`));
    const stale = (await netlink.links())
      .filter(
        (l) => l.name.startsWith(HOST_VETH_PREFIX) && l.kind === 'veth' && !keepHosts.has(l.name),
      )
      .map((l) => l.name);
    for (const name of stale) await deleteHostVeth(name);
    if (freed.length > 0 || stale.length > 0) {
      logger.info(
        { addresses: freed.map((r) => formatIp(r.ip)), interfaces: stale },
        'GC freed what the runtime no longer has',
      );
    }
  };

  return {
    attach: (request) => busy(() => attach(request)),
    detach: (request) => busy(() => detach(request)),
    check: (request) => busy(() => check(request)),
    gc,
    settle,
    status: options.status,
  };
}
