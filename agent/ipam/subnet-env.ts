// flannel's subnet.env (/run/flannel/subnet.env), so tools written for
// flannel (its CNI plugin, scripts reading FLANNEL_SUBNET) work on a Pier
// node, and so a restarted agent knows which subnet it had:
//
//   FLANNEL_NETWORK=10.244.0.0/16
//   FLANNEL_SUBNET=10.244.1.1/24      (the node's gateway address, as flannel writes it)
//   FLANNEL_MTU=1450
//   FLANNEL_IPMASQ=true

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentErrors } from '../errors.ts';
import { type Cidr, formatCidr, formatIp, parseCidr, parseIpWithPrefix } from './ipv4.ts';

export interface SubnetEnv {
  network: Cidr;
  subnet: Cidr;
  mtu: number;
  ipMasq: boolean;
}

export function renderSubnetEnv(env: SubnetEnv): string {
  return [
    `FLANNEL_NETWORK=${formatCidr(env.network)}`,
    `FLANNEL_SUBNET=${formatIp(env.subnet.base + 1)}/${env.subnet.prefix}`,
    `FLANNEL_MTU=${env.mtu}`,
    `FLANNEL_IPMASQ=${env.ipMasq}`,
    '',
  ].join('\n');
}

export function parseSubnetEnv(text: string, path = 'subnet.env'): SubnetEnv {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq === -1)
      throw AgentErrors.BAD_SUBNET_ENV(path, `line ${JSON.stringify(trimmed)} has no =`);
    vars.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const network = parseCidr(vars.get('FLANNEL_NETWORK') ?? '');
  const subnetAddr = parseIpWithPrefix(vars.get('FLANNEL_SUBNET') ?? '');
  const mtu = Number(vars.get('FLANNEL_MTU'));
  if (network === undefined)
    throw AgentErrors.BAD_SUBNET_ENV(path, 'FLANNEL_NETWORK is not a network');
  if (subnetAddr === undefined)
    throw AgentErrors.BAD_SUBNET_ENV(path, 'FLANNEL_SUBNET is not an address/prefix');
  if (!Number.isInteger(mtu) || mtu < 68)
    throw AgentErrors.BAD_SUBNET_ENV(path, 'FLANNEL_MTU is not an MTU');
  const subnet = parseCidr(`${formatIp(subnetAddr.ip)}/${subnetAddr.prefix}`, false) as Cidr;
  return { network, subnet, mtu, ipMasq: vars.get('FLANNEL_IPMASQ') === 'true' };
}

/** The file's contents, or undefined when there is none (a first start). */
export async function readSubnetEnv(path: string): Promise<SubnetEnv | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw AgentErrors.BAD_SUBNET_ENV(path, (error as Error).message);
  }
  return parseSubnetEnv(text, path);
}

/** Writes through a temporary file and a rename, so readers never see half a file. */
export async function writeSubnetEnv(path: string, env: SubnetEnv): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(temp, renderSubnetEnv(env), { mode: 0o644 });
  await rename(temp, path);
}
