// An in-memory Netlink for unit tests: a model of network namespaces with
// their links, addresses, routes, neighbours and forwarding entries, that
// applies LinkOps with the kernel's rules where they matter to the agent
// (names are unique per namespace; a veth pair dies together, also with its
// namespace; a gateway must be reachable unless `onlink`; a batch stops at
// its first failure). Passes the same suite as the real one
// (netlink.case.ts), so the two do not drift apart.
//
// Maintained code, not a mock: it also records every batch, and can be told
// to fail an operation, for rollback tests.

import { contains, formatIp, parseCidr, parseIp, parseIpWithPrefix } from '../ipam/ipv4.ts';
import {
  type AddrInfo,
  type FdbInfo,
  type LinkInfo,
  type LinkOp,
  type NeighInfo,
  type Netlink,
  NetlinkError,
  type NetlinkFailure,
  type NetnsOption,
  type RouteInfo,
} from '../netlink.ts';
import { renderOp } from './ip-commands.ts';

interface FakeLink extends LinkInfo {
  peer?: { netns: string; name: string };
}

interface FakeRoute extends RouteInfo {
  proto?: number;
}

interface Namespace {
  links: Map<string, FakeLink>;
  addrs: AddrInfo[];
  routes: FakeRoute[];
  neighs: NeighInfo[];
  fdb: FdbInfo[];
}

export interface FakeNetlink extends Netlink {
  /** Creates an empty namespace (with `lo`, down) at this path. */
  addNetns(path: string): void;
  /** Removes a namespace: veth pairs with an end in it go too, as in the kernel. */
  deleteNetns(path: string): void;
  hasNetns(path: string): boolean;
  /** Every batch applied so far, with the namespace it ran in (`self` for the agent's own). */
  readonly batches: { netns: string; ops: LinkOp[] }[];
  /** Makes the next operation that matches fail (once), as the kernel would with `failure`. */
  failNext(match: (op: LinkOp, netns: string) => boolean, failure?: NetlinkFailure): void;
}

const SELF = 'self';
let nextIndex = 100;

export function createFakeNetlink(): FakeNetlink {
  const namespaces = new Map<string, Namespace>();
  const batches: { netns: string; ops: LinkOp[] }[] = [];
  const failures: { match: (op: LinkOp, netns: string) => boolean; failure: NetlinkFailure }[] = [];

  const makeNs = (): Namespace => ({
    links: new Map([
      ['lo', { name: 'lo', index: 1, mtu: 65536, up: false, mac: '00:00:00:00:00:00' }],
    ]),
    addrs: [],
    routes: [],
    neighs: [],
    fdb: [],
  });
  namespaces.set(SELF, makeNs());

  const nsOf = (netns: string | undefined): Namespace => {
    const ns = namespaces.get(netns ?? SELF);
    if (ns === undefined) {
      throw new NetlinkError(
        `Cannot open network namespace "${netns}"`,
        'no-netns',
        undefined,
        undefined,
      );
    }
    return ns;
  };

  const fail = (failure: NetlinkFailure, message: string): never => {
    throw Object.assign(new Error(message), { failure });
  };
  const linkOf = (ns: Namespace, name: string): FakeLink =>
    ns.links.get(name) ?? fail('missing', `Cannot find device "${name}"`);
  const ensureFree = (ns: Namespace, name: string) => {
    if (ns.links.has(name)) fail('exists', 'RTNETLINK answers: File exists');
  };
  const newLink = (name: string, mtu: number, kind: string, mac?: string): FakeLink => ({
    name,
    index: nextIndex++,
    mtu,
    up: false,
    mac: mac ?? randomMac(),
    kind,
  });

  const removeLink = (ns: Namespace, name: string) => {
    const link = ns.links.get(name);
    if (link === undefined) return;
    ns.links.delete(name);
    ns.addrs = ns.addrs.filter((a) => a.dev !== name);
    ns.routes = ns.routes.filter((r) => r.dev !== name);
    ns.neighs = ns.neighs.filter((n) => n.dev !== name);
    ns.fdb = ns.fdb.filter((f) => f.dev !== name);
    for (const other of ns.links.values()) if (other.master === name) delete other.master;
    if (link.peer !== undefined) {
      const peerNs = namespaces.get(link.peer.netns);
      const peer = peerNs?.links.get(link.peer.name);
      if (peerNs !== undefined && peer !== undefined) {
        delete peer.peer;
        removeLink(peerNs, link.peer.name);
      }
    }
  };

  const connected = (ns: Namespace): FakeRoute[] => {
    const out: FakeRoute[] = [];
    for (const a of ns.addrs) {
      const parsed = parseIpWithPrefix(a.address);
      if (parsed === undefined || parsed.prefix === 32 || !ns.links.get(a.dev)?.up) continue;
      const net = parseCidr(a.address, false);
      if (net === undefined) continue;
      out.push({ dst: `${formatIp(net.base)}/${net.prefix}`, dev: a.dev, onlink: false });
    }
    return out;
  };

  const applyOne = (ns: Namespace, netnsKey: string, op: LinkOp) => {
    switch (op.op) {
      case 'add-bridge':
        ensureFree(ns, op.name);
        ns.links.set(op.name, newLink(op.name, op.mtu, 'bridge', op.mac));
        return;
      case 'add-veth': {
        ensureFree(ns, op.name);
        if (op.master !== undefined && linkOf(ns, op.master).kind !== 'bridge') {
          fail('other', `${op.master} is not a bridge`);
        }
        const peerKey = op.peerNetns ?? netnsKey;
        const peerNs =
          namespaces.get(peerKey) ?? fail('no-netns', `Invalid "netns" value "${op.peerNetns}"`);
        if (peerNs.links.has(op.peer) || (peerKey === netnsKey && op.peer === op.name)) {
          fail('exists', 'RTNETLINK answers: File exists');
        }
        const host = newLink(op.name, op.mtu, 'veth', op.mac);
        host.peer = { netns: peerKey, name: op.peer };
        if (op.master !== undefined) {
          host.master = op.master;
          host.hairpin = false;
        }
        if (op.up) host.up = true;
        const peer = newLink(op.peer, op.mtu, 'veth', op.peerMac);
        peer.peer = { netns: netnsKey, name: op.name };
        ns.links.set(op.name, host);
        peerNs.links.set(op.peer, peer);
        return;
      }
      case 'add-vxlan': {
        ensureFree(ns, op.name);
        linkOf(ns, op.dev);
        const link = newLink(op.name, op.mtu, 'vxlan', op.mac);
        link.vxlan = { vni: op.vni, local: op.local, port: op.port, dev: op.dev };
        ns.links.set(op.name, link);
        return;
      }
      case 'add-dummy':
        ensureFree(ns, op.name);
        ns.links.set(op.name, newLink(op.name, 1500, 'dummy'));
        return;
      case 'set-link': {
        const link = linkOf(ns, op.name);
        if (op.master !== undefined) {
          if (linkOf(ns, op.master).kind !== 'bridge')
            fail('other', `${op.master} is not a bridge`);
          link.master = op.master;
          link.hairpin ??= false;
        }
        if (op.mtu !== undefined) link.mtu = op.mtu;
        if (op.mac !== undefined) link.mac = op.mac;
        if (op.up !== undefined) link.up = op.up;
        return;
      }
      case 'set-hairpin': {
        const link = linkOf(ns, op.name);
        if (link.master === undefined) fail('other', 'RTNETLINK answers: Operation not supported');
        link.hairpin = op.on;
        return;
      }
      case 'del-link':
        linkOf(ns, op.name);
        removeLink(ns, op.name);
        return;
      case 'add-addr':
        linkOf(ns, op.dev);
        if (ns.addrs.some((a) => a.dev === op.dev && a.address === op.address)) {
          fail('exists', 'RTNETLINK answers: File exists');
        }
        ns.addrs.push({ dev: op.dev, address: op.address });
        return;
      case 'del-addr': {
        const before = ns.addrs.length;
        ns.addrs = ns.addrs.filter((a) => !(a.dev === op.dev && a.address === op.address));
        if (ns.addrs.length === before)
          fail('missing', 'RTNETLINK answers: Cannot assign requested address');
        return;
      }
      case 'replace-route': {
        if (op.dev !== undefined) linkOf(ns, op.dev);
        if (op.via !== undefined && !op.onlink) {
          const via = parseIp(op.via) as number;
          const reachable = connected(ns).some(
            (r) =>
              (op.dev === undefined || r.dev === op.dev) &&
              contains(parseCidr(r.dst) as never, via),
          );
          if (!reachable) fail('other', 'Error: Nexthop has invalid gateway.');
        }
        const route: FakeRoute = {
          dst: op.dst === 'default' ? 'default' : op.dst,
          onlink: op.onlink ?? false,
        };
        if (op.via !== undefined) route.via = op.via;
        const dev =
          op.dev ??
          connected(ns).find(
            (r) =>
              op.via !== undefined &&
              contains(parseCidr(r.dst) as never, parseIp(op.via) as number),
          )?.dev;
        if (dev !== undefined) route.dev = dev;
        if (op.proto !== undefined) route.proto = op.proto;
        ns.routes = ns.routes.filter((r) => r.dst !== route.dst);
        ns.routes.push(route);
        return;
      }
      case 'del-route': {
        const before = ns.routes.length;
        ns.routes = ns.routes.filter((r) => r.dst !== op.dst);
        if (ns.routes.length === before) fail('missing', 'RTNETLINK answers: No such process');
        return;
      }
      case 'replace-neigh':
        linkOf(ns, op.dev);
        ns.neighs = ns.neighs.filter((n) => !(n.dev === op.dev && n.address === op.address));
        ns.neighs.push({ address: op.address, lladdr: op.lladdr.toLowerCase(), dev: op.dev });
        return;
      case 'del-neigh': {
        const before = ns.neighs.length;
        ns.neighs = ns.neighs.filter((n) => !(n.dev === op.dev && n.address === op.address));
        if (ns.neighs.length === before)
          fail('missing', 'RTNETLINK answers: No such file or directory');
        return;
      }
      case 'replace-fdb':
        linkOf(ns, op.dev);
        ns.fdb = ns.fdb.filter((f) => !(f.dev === op.dev && f.lladdr === op.lladdr.toLowerCase()));
        ns.fdb.push({ lladdr: op.lladdr.toLowerCase(), dev: op.dev, dst: op.dst });
        return;
      case 'del-fdb': {
        const before = ns.fdb.length;
        ns.fdb = ns.fdb.filter(
          (f) => !(f.dev === op.dev && f.lladdr === op.lladdr.toLowerCase() && f.dst === op.dst),
        );
        if (ns.fdb.length === before)
          fail('missing', 'RTNETLINK answers: No such file or directory');
        return;
      }
    }
  };

  const copy = <T>(value: T): T => structuredClone(value);

  return {
    batches,
    addNetns(path) {
      if (namespaces.has(path)) throw new Error(`fake netlink: netns ${path} exists`);
      namespaces.set(path, makeNs());
    },
    deleteNetns(path) {
      const ns = namespaces.get(path);
      if (ns === undefined) return;
      for (const name of [...ns.links.keys()]) removeLink(ns, name);
      namespaces.delete(path);
    },
    hasNetns: (path) => namespaces.has(path),
    close() {},
    failNext(match, failure = 'other') {
      failures.push({ match, failure });
    },

    async apply(given, { netns }: NetnsOption = {}) {
      const key = netns ?? SELF;
      // As the real one, a namespace that does not exist fails at once, before the ops are known.
      const ns = nsOf(netns);
      const ops = await given;
      batches.push({ netns: key, ops: [...ops] });
      for (const [index, op] of ops.entries()) {
        const line = renderOp(op).line; // the same validation as the real one
        const injected = failures.findIndex((f) => f.match(op, key));
        try {
          if (injected !== -1) {
            const { failure } = failures.splice(injected, 1)[0] as (typeof failures)[number];
            fail(failure, `injected ${failure} failure`);
          }
          applyOne(ns, key, op);
        } catch (error) {
          const failure = (error as { failure?: NetlinkFailure }).failure ?? 'other';
          throw new NetlinkError(`fake "${line}": ${(error as Error).message}`, failure, index, op);
        }
      }
    },
    async links({ netns }: NetnsOption = {}) {
      return copy([...nsOf(netns).links.values()]).map(({ peer: _peer, ...link }) => link);
    },
    async addresses({ netns, dev }: NetnsOption & { dev?: string } = {}) {
      const ns = nsOf(netns);
      if (dev !== undefined) linkOfOrThrow(ns, dev);
      return copy(ns.addrs.filter((a) => dev === undefined || a.dev === dev));
    },
    async routes({ netns, proto }: NetnsOption & { proto?: number } = {}) {
      const ns = nsOf(netns);
      const own = ns.routes.filter((r) => proto === undefined || r.proto === proto);
      const all = proto === undefined ? [...connected(ns), ...own] : own;
      // The kernel lists the main table in address order.
      const key = (r: RouteInfo) =>
        r.dst === 'default' ? -1 : (parseIp(r.dst.split('/')[0] as string) ?? 0);
      return copy(all)
        .sort((a, b) => key(a) - key(b))
        .map(({ proto: _proto, ...route }) => route);
    },
    async neighbours(dev, { netns }: NetnsOption = {}) {
      const ns = nsOf(netns);
      linkOfOrThrow(ns, dev);
      return copy(ns.neighs.filter((n) => n.dev === dev));
    },
    async fdb(dev, { netns }: NetnsOption = {}) {
      const ns = nsOf(netns);
      linkOfOrThrow(ns, dev);
      return copy(ns.fdb.filter((f) => f.dev === dev));
    },
  };

  function linkOfOrThrow(ns: Namespace, dev: string) {
    if (!ns.links.has(dev)) {
      throw new NetlinkError(`Device "${dev}" does not exist.`, 'missing', undefined, undefined);
    }
  }
}

function randomMac(): string {
  const bytes = [0x02, ...Array.from({ length: 5 }, () => Math.floor(Math.random() * 256))];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
