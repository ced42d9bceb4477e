// LinkOp -> one line of `ip -batch` or `bridge -batch` input. Pure, so the
// exact commands are unit-tested in iproute2's own notation.
//
// Every value is checked before it reaches a command line: a device name,
// address or MAC carrying a space or newline would otherwise smuggle a
// second command into the batch.

import type { LinkOp } from '../netlink.ts';

export interface BatchLine {
  tool: 'ip' | 'bridge';
  line: string;
}

const IFNAME = /^[A-Za-z0-9_.@:-]{1,15}$/;
const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/;
const IPV4_PREFIX = /^[0-9]{1,3}(\.[0-9]{1,3}){3}\/[0-9]{1,2}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const PATH = /^\/[A-Za-z0-9_./-]+$/;

function check(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new RangeError(`not a valid ${what}: ${JSON.stringify(value)}`);
  return value;
}

const dev = (name: string) => check(name, IFNAME, 'interface name');
const ip = (address: string) => check(address, IPV4, 'IPv4 address');
const prefix = (address: string) => check(address, IPV4_PREFIX, 'IPv4 address/prefix');
const mac = (address: string) => check(address, MAC, 'MAC address');
const int = (n: number, what: string) => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a valid ${what}: ${n}`);
  return String(n);
};

export function renderOp(op: LinkOp): BatchLine {
  switch (op.op) {
    case 'add-bridge':
      return {
        tool: 'ip',
        line: `link add ${dev(op.name)}${op.mac ? ` address ${mac(op.mac)}` : ''} mtu ${int(op.mtu, 'MTU')} type bridge`,
      };
    case 'add-veth': {
      const parts = [`link add ${dev(op.name)}`];
      if (op.mac !== undefined) parts.push(`address ${mac(op.mac)}`);
      parts.push(`mtu ${int(op.mtu, 'MTU')}`);
      if (op.master !== undefined) parts.push(`master ${dev(op.master)}`);
      if (op.up) parts.push('up');
      parts.push(`type veth peer name ${dev(op.peer)}`);
      if (op.peerMac !== undefined) parts.push(`address ${mac(op.peerMac)}`);
      parts.push(`mtu ${int(op.mtu, 'MTU')}`);
      if (op.peerNetns !== undefined)
        parts.push(`netns ${check(op.peerNetns, PATH, 'netns path')}`);
      return { tool: 'ip', line: parts.join(' ') };
    }
    case 'add-vxlan':
      return {
        tool: 'ip',
        line:
          `link add ${dev(op.name)} address ${mac(op.mac)} mtu ${int(op.mtu, 'MTU')} type vxlan` +
          ` id ${int(op.vni, 'VNI')} local ${ip(op.local)} dev ${dev(op.dev)}` +
          ` dstport ${int(op.port, 'port')} nolearning`,
      };
    case 'add-dummy':
      return { tool: 'ip', line: `link add ${dev(op.name)} type dummy` };
    case 'set-link': {
      const parts = [`link set dev ${dev(op.name)}`];
      if (op.mtu !== undefined) parts.push(`mtu ${int(op.mtu, 'MTU')}`);
      if (op.mac !== undefined) parts.push(`address ${mac(op.mac)}`);
      if (op.master !== undefined) parts.push(`master ${dev(op.master)}`);
      if (op.up !== undefined) parts.push(op.up ? 'up' : 'down');
      return { tool: 'ip', line: parts.join(' ') };
    }
    case 'set-hairpin':
      return {
        tool: 'ip',
        line: `link set dev ${dev(op.name)} type bridge_slave hairpin ${op.on ? 'on' : 'off'}`,
      };
    case 'del-link':
      return { tool: 'ip', line: `link del dev ${dev(op.name)}` };
    case 'add-addr':
    case 'del-addr':
      return {
        tool: 'ip',
        line: `addr ${op.op === 'add-addr' ? 'add' : 'del'} ${prefix(op.address)} dev ${dev(op.dev)}`,
      };
    case 'replace-route':
    case 'del-route': {
      const dst = op.dst === 'default' ? 'default' : prefix(op.dst);
      const parts = [`route ${op.op === 'replace-route' ? 'replace' : 'del'} ${dst}`];
      if (op.via !== undefined) parts.push(`via ${ip(op.via)}`);
      if (op.dev !== undefined) parts.push(`dev ${dev(op.dev)}`);
      if (op.onlink) parts.push('onlink');
      if (op.src !== undefined) parts.push(`src ${ip(op.src)}`);
      if (op.proto !== undefined) parts.push(`proto ${int(op.proto, 'route protocol')}`);
      return { tool: 'ip', line: parts.join(' ') };
    }
    case 'replace-neigh':
      return {
        tool: 'ip',
        line: `neigh replace ${ip(op.address)} lladdr ${mac(op.lladdr)} dev ${dev(op.dev)} nud permanent`,
      };
    case 'del-neigh':
      return { tool: 'ip', line: `neigh del ${ip(op.address)} dev ${dev(op.dev)}` };
    case 'replace-fdb':
      return {
        tool: 'bridge',
        line: `fdb replace ${mac(op.lladdr)} dev ${dev(op.dev)} dst ${ip(op.dst)} self permanent`,
      };
    case 'del-fdb':
      return {
        tool: 'bridge',
        line: `fdb del ${mac(op.lladdr)} dev ${dev(op.dev)} dst ${ip(op.dst)} self`,
      };
  }
}

/** Consecutive lines for the same tool form one batch; the batches run in order. */
export function toBatches(
  ops: readonly LinkOp[],
): { tool: 'ip' | 'bridge'; lines: string[]; first: number }[] {
  const batches: { tool: 'ip' | 'bridge'; lines: string[]; first: number }[] = [];
  ops.forEach((op, index) => {
    const { tool, line } = renderOp(op);
    const last = batches.at(-1);
    if (last !== undefined && last.tool === tool) last.lines.push(line);
    else batches.push({ tool, lines: [line], first: index });
  });
  return batches;
}
