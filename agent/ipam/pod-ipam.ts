// Pod addresses within this node's subnet, kept on the node's own disk (as
// the reference host-local plugin keeps them): one file per address, named
// after it, holding `<container id>\r\n<ifname>`. Disk is the truth, so
// addresses survive agent restarts, and nothing here needs the Store, so
// pods start while Redis is down.
//
// A DEL answers once the address is marked releasing (a third line in its
// file) and frees it when the pod's interface is gone (bridge-pod-network.ts).
//
// Exclusive file creation (O_EXCL) is the claim, as in host-local; the
// in-memory index makes the choice synchronous, so concurrent ADDs in one
// agent never pick the same address, and the file makes it durable.

import { mkdir, open, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentErrors } from '../errors.ts';
import { type Cidr, formatCidr, formatIp, lastOf, parseIp } from './ipv4.ts';

export interface PodAddress {
  readonly ip: number;
  readonly containerId: string;
  readonly ifname: string;
  /** DEL has answered; the address is freed once the pod's interface is gone. */
  readonly releasing?: boolean;
}

export interface PodIpam {
  readonly subnet: Cidr;
  readonly gateway: number;
  /** The attachment's address: the one it already has, or a newly claimed one. */
  allocate(containerId: string, ifname: string): Promise<{ ip: number; existing: boolean }>;
  /** Frees the attachment's address; the freed address, or undefined when it had none. */
  release(containerId: string, ifname: string): Promise<number | undefined>;
  /**
   * Detaches the address from its attachment but keeps it taken, on disk too,
   * until freeAddress(): a DEL answers before the kernel has removed the pod's
   * interface, and the address must not go to a new pod meanwhile.
   */
  markReleasing(containerId: string, ifname: string): Promise<PodAddress | undefined>;
  /** Frees an address marked releasing. */
  freeAddress(ip: number): Promise<void>;
  lookup(containerId: string, ifname: string): number | undefined;
  /** Every taken address, releasing ones included. */
  list(): PodAddress[];
  /** Frees every address whose attachment `keep` rejects (releasing ones excepted); returns what it freed. */
  gc(keep: (containerId: string, ifname: string) => boolean): Promise<PodAddress[]>;
}

export interface PodIpamOptions {
  /** One directory per subnet: `<dataDir>/ipam/10.244.1.0-24`. */
  dir: string;
  subnet: Cidr;
}

const LAST_RESERVED = 'last_reserved_ip.0';
const SEPARATOR = '\r\n';
const RELEASING = 'releasing';

const keyOf = (containerId: string, ifname: string) => `${containerId}/${ifname}`;

/** The gateway of a node subnet: its first host address (the bridge holds it). */
export function gatewayOf(subnet: Cidr): number {
  return subnet.base + 1;
}

export async function createPodIpam(options: PodIpamOptions): Promise<PodIpam> {
  const { dir, subnet } = options;
  const gateway = gatewayOf(subnet);
  const first = gateway + 1;
  const last = lastOf(subnet) - 1;
  const byIp = new Map<number, PodAddress>();
  const byKey = new Map<string, number>();
  let lastReserved = gateway;

  const diskError = (error: unknown) =>
    AgentErrors.IPAM_DISK(dir, (error as Error).message ?? String(error));

  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) {
      if (name === LAST_RESERVED) {
        const ip = parseIp((await readFile(join(dir, name), 'utf8')).trim());
        if (ip !== undefined && ip >= first && ip <= last) lastReserved = ip;
        continue;
      }
      const ip = parseIp(name);
      if (ip === undefined || ip < first || ip > last) continue;
      const [containerId = '', ifname = 'eth0', state = ''] = (
        await readFile(join(dir, name), 'utf8')
      )
        .trim()
        .split(SEPARATOR);
      const releasing = state.trim() === RELEASING;
      const record = {
        ip,
        containerId: containerId.trim(),
        ifname: ifname.trim(),
        ...(releasing ? { releasing } : {}),
      };
      byIp.set(ip, record);
      if (!releasing) byKey.set(keyOf(record.containerId, record.ifname), ip);
    }
  } catch (error) {
    throw diskError(error);
  }

  const claimFile = async (ip: number, containerId: string, ifname: string): Promise<boolean> => {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(join(dir, formatIp(ip)), 'wx', 0o600);
      await handle.writeFile(`${containerId}${SEPARATOR}${ifname}`);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw diskError(error);
    } finally {
      await handle?.close();
    }
  };

  const allocate = async (containerId: string, ifname: string) => {
    const key = keyOf(containerId, ifname);
    const existing = byKey.get(key);
    if (existing !== undefined) return { ip: existing, existing: true };
    const size = last - first + 1;
    for (let i = 1; i <= size; i++) {
      const ip = first + ((((lastReserved - first + i) % size) + size) % size);
      if (byIp.has(ip)) continue;
      // Reserve in memory before the first await: a concurrent ADD skips it.
      const record = { ip, containerId, ifname };
      byIp.set(ip, record);
      byKey.set(key, ip);
      let claimed = false;
      try {
        claimed = await claimFile(ip, containerId, ifname);
      } finally {
        if (!claimed) {
          byIp.delete(ip);
          byKey.delete(key);
        }
      }
      if (!claimed) continue; // a file we did not know of: someone else's; move on
      lastReserved = ip;
      await writeFile(join(dir, LAST_RESERVED), formatIp(ip)).catch((error: unknown) => {
        throw diskError(error);
      });
      return { ip, existing: false };
    }
    throw AgentErrors.SUBNET_FULL(formatCidr(subnet));
  };

  const releaseRecord = async (record: PodAddress) => {
    try {
      await unlink(join(dir, formatIp(record.ip)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw diskError(error);
    }
    byIp.delete(record.ip);
    if (byKey.get(keyOf(record.containerId, record.ifname)) === record.ip) {
      byKey.delete(keyOf(record.containerId, record.ifname));
    }
  };

  return {
    subnet,
    gateway,
    allocate,
    async release(containerId, ifname) {
      const ip = byKey.get(keyOf(containerId, ifname));
      const record = ip === undefined ? undefined : byIp.get(ip);
      if (record === undefined) return undefined;
      await releaseRecord(record);
      return record.ip;
    },
    async markReleasing(containerId, ifname) {
      const key = keyOf(containerId, ifname);
      const ip = byKey.get(key);
      const record = ip === undefined ? undefined : byIp.get(ip);
      if (record === undefined) return undefined;
      try {
        await writeFile(
          join(dir, formatIp(record.ip)),
          `${containerId}${SEPARATOR}${ifname}${SEPARATOR}${RELEASING}`,
        );
      } catch (error) {
        throw diskError(error);
      }
      const marked = { ...record, releasing: true };
      byIp.set(record.ip, marked);
      byKey.delete(key);
      return marked;
    },
    async freeAddress(ip) {
      const record = byIp.get(ip);
      if (record?.releasing === true) await releaseRecord(record);
    },
    lookup: (containerId, ifname) => byKey.get(keyOf(containerId, ifname)),
    list: () => [...byIp.values()].sort((a, b) => a.ip - b.ip),
    async gc(keep) {
      const freed: PodAddress[] = [];
      for (const record of [...byIp.values()]) {
        if (record.releasing === true || keep(record.containerId, record.ifname)) continue;
        await releaseRecord(record);
        freed.push(record);
      }
      return freed;
    },
  };
}
