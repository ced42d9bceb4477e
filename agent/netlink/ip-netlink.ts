// The Netlink port on iproute2: changes go through `ip -batch -` and
// `bridge -batch -`, reads through `ip -j`. No native addon: iproute2 is on
// every node.
//
// Changes in the agent's own namespace go to one long-lived `ip -batch`
// session (ip-session.ts), a line at a time, so they cost no process start;
// changes in another namespace (a pod's) are one `ip -batch -` process per
// batch, whatever its length, exec'd by a shell started ahead of time
// (prestarted-command.ts), so the agent does not fork itself during an ADD.
// Another namespace is entered by name when it lives in /var/run/netns
// (`ip -n`, no extra process), otherwise through `nsenter --net`.

import { AgentErrors } from '../errors.ts';
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
import { createPrestartedRunner, type PrestartedRunner } from '../prestarted-command.ts';
import { runCommand } from '../run-command.ts';
import { renderOp, toBatches } from './ip-commands.ts';
import { createIpSession, type IpSession } from './ip-session.ts';

export interface IpNetlinkOptions {
  ip?: string;
  bridge?: string;
  nsenter?: string;
  timeoutMs?: number;
  /** Use a long-lived ip process for changes in the own namespace (default true). */
  session?: boolean;
  /** Run other namespaces' batches in processes started ahead of time (default true). */
  prestart?: boolean;
  /**
   * The namespace (a path) to treat as the agent's own: tests run the real
   * port against a namespace they made, never the host's.
   */
  ownNetns?: string;
}

const NAMED_NETNS = /^\/(?:var\/)?run\/netns\/([A-Za-z0-9_.-]+)$/;

export function createIpNetlink(options: IpNetlinkOptions = {}): Netlink {
  const tools = {
    ip: options.ip ?? 'ip',
    bridge: options.bridge ?? 'bridge',
    nsenter: options.nsenter ?? 'nsenter',
  };
  const timeoutMs = options.timeoutMs ?? 15_000;
  let session: IpSession | undefined;
  let prestarted: PrestartedRunner | undefined;

  /** Own-namespace ip ops through the session, one at a time, stopping at the first failure. */
  const applyInSession = async (ops: readonly LinkOp[], first: number, all: readonly LinkOp[]) => {
    session ??= createIpSession(argvFor('ip', [], undefined), timeoutMs);
    for (const [i, op] of ops.entries()) {
      const { line } = renderOp(op);
      let output: string;
      try {
        output = await session.run(line);
      } catch (error) {
        throw AgentErrors.COMMAND_FAILED(`ip -batch "${line}"`, (error as Error).message);
      }
      if (output === '') continue;
      const detail = output.replace(/\n?Command failed -:\d+/, '').trim();
      throw new NetlinkError(
        `ip "${line}": ${detail}`,
        classify(detail),
        first + i,
        all[first + i],
      );
    }
  };

  const argvFor = (tool: 'ip' | 'bridge', args: string[], given: string | undefined) => {
    const netns = given ?? options.ownNetns;
    if (netns === undefined) return [tools[tool], ...args];
    const named = NAMED_NETNS.exec(netns);
    if (named !== null) return [tools[tool], '-n', named[1] as string, ...args];
    return [tools.nsenter, `--net=${netns}`, tools[tool], ...args];
  };

  const run = async (
    tool: 'ip' | 'bridge',
    args: string[],
    netns: string | undefined,
    input?: string | Promise<string>,
  ) => {
    const argv = argvFor(tool, args, netns);
    // Only batches in another namespace (a pod ADD's) are worth a spare process.
    let runner = runCommand;
    if (netns !== undefined && args[0] === '-batch' && options.prestart !== false) {
      prestarted ??= createPrestartedRunner();
      runner = prestarted.run;
    }
    try {
      return { argv, ...(await runner(argv, { input, timeoutMs })) };
    } catch (error) {
      throw AgentErrors.COMMAND_FAILED(argv.join(' '), (error as Error).message);
    }
  };

  const query = async <T>(tool: 'ip' | 'bridge', args: string[], netns?: string): Promise<T[]> => {
    const result = await run(tool, ['-j', ...args], netns);
    if (result.code !== 0) {
      const detail = result.stderr.trim() || `exit ${result.code ?? result.signal}`;
      throw new NetlinkError(
        `${result.argv.join(' ')}: ${detail}`,
        classify(detail),
        undefined,
        undefined,
      );
    }
    const text = result.stdout.trim();
    if (text === '') return [];
    try {
      return JSON.parse(text) as T[];
    } catch {
      throw AgentErrors.COMMAND_FAILED(result.argv.join(' '), 'printed something other than JSON');
    }
  };

  const checkBatch = (
    result: { code: number | null; stderr: string },
    batch: { tool: 'ip' | 'bridge'; lines: string[]; first: number },
    netns: string | undefined,
    ops: readonly LinkOp[],
  ) => {
    if (result.code === 0) return;
    const stderr = result.stderr.trim();
    const failedLine = /Command failed -:(\d+)/.exec(stderr);
    const lineIndex = failedLine === null ? undefined : Number(failedLine[1]) - 1;
    const opIndex = lineIndex === undefined ? undefined : batch.first + lineIndex;
    const line = lineIndex === undefined ? batch.lines.join('; ') : batch.lines[lineIndex];
    const detail = stderr.replace(/\n?Command failed -:\d+/, '').trim() || `exit ${result.code}`;
    throw new NetlinkError(
      `${batch.tool} ${netns === undefined ? '' : `(netns ${netns}) `}"${line}": ${detail}`,
      classify(detail),
      opIndex,
      opIndex === undefined ? undefined : ops[opIndex],
    );
  };

  return {
    async apply(
      given: readonly LinkOp[] | Promise<readonly LinkOp[]>,
      { netns }: NetnsOption = {},
    ) {
      if (!Array.isArray(given)) {
        const pending = given as Promise<readonly LinkOp[]>;
        if (netns === undefined) return this.apply(await pending);
        // Start the process now, so its start overlaps the caller's work; write once the ops are known.
        const known = pending.then((ops) => {
          const batches = toBatches(ops);
          const only = batches[0];
          if (batches.length !== 1 || only === undefined || only.tool !== 'ip') {
            throw new Error('operations given ahead must be one batch of ip lines');
          }
          return { ops, batch: only };
        });
        known.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
        const result = await run(
          'ip',
          ['-batch', '-'],
          netns,
          known.then((k) => `${k.batch.lines.join('\n')}\n`),
        );
        const { ops, batch } = await known;
        checkBatch(result, batch, netns, ops);
        return;
      }
      const ops = given as readonly LinkOp[];
      for (const batch of toBatches(ops)) {
        if (batch.tool === 'ip' && netns === undefined && options.session !== false) {
          await applyInSession(
            ops.slice(batch.first, batch.first + batch.lines.length),
            batch.first,
            ops,
          );
          continue;
        }
        const result = await run(batch.tool, ['-batch', '-'], netns, `${batch.lines.join('\n')}\n`);
        checkBatch(result, batch, netns, ops);
      }
    },

    close() {
      session?.close();
      session = undefined;
      prestarted?.close();
      prestarted = undefined;
    },

    async links({ netns }: NetnsOption = {}) {
      const raw = await query<RawLink>('ip', ['-d', 'link', 'show'], netns);
      return raw.map(toLinkInfo);
    },

    async addresses({ netns, dev }: NetnsOption & { dev?: string } = {}) {
      const args = ['-4', 'addr', 'show', ...(dev === undefined ? [] : ['dev', dev])];
      const raw = await query<{
        ifname: string;
        addr_info?: { local: string; prefixlen: number }[];
      }>('ip', args, netns);
      const out: AddrInfo[] = [];
      for (const link of raw) {
        for (const a of link.addr_info ?? []) {
          out.push({ dev: link.ifname, address: `${a.local}/${a.prefixlen}` });
        }
      }
      return out;
    },

    async routes({ netns, proto }: NetnsOption & { proto?: number } = {}) {
      const args = ['-4', 'route', 'show', 'table', 'main'];
      if (proto !== undefined) args.push('proto', String(proto));
      const raw = await query<{ dst: string; gateway?: string; dev?: string; flags?: string[] }>(
        'ip',
        args,
        netns,
      );
      return raw.map(
        (r): RouteInfo => ({
          dst: r.dst,
          ...(r.gateway === undefined ? {} : { via: r.gateway }),
          ...(r.dev === undefined ? {} : { dev: r.dev }),
          onlink: r.flags?.includes('onlink') ?? false,
        }),
      );
    },

    async neighbours(dev: string, { netns }: NetnsOption = {}) {
      const raw = await query<{ dst: string; lladdr?: string; state?: string[] }>(
        'ip',
        ['-4', 'neigh', 'show', 'dev', dev, 'nud', 'permanent'],
        netns,
      );
      return raw
        .filter((n) => n.lladdr !== undefined)
        .map((n): NeighInfo => ({ address: n.dst, lladdr: n.lladdr as string, dev }));
    },

    async fdb(dev: string, { netns }: NetnsOption = {}) {
      const raw = await query<{ mac: string; dst?: string }>(
        'bridge',
        ['fdb', 'show', 'dev', dev],
        netns,
      );
      return raw
        .filter((f) => f.dst !== undefined)
        .map((f): FdbInfo => ({ lladdr: f.mac, dev, dst: f.dst as string }));
    },
  };
}

interface RawLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu: number;
  address?: string;
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_slave_kind?: string;
    info_slave_data?: { hairpin?: boolean };
    info_data?: { id?: number; local?: string; port?: number; link?: string };
  };
}

function toLinkInfo(raw: RawLink): LinkInfo {
  const info: LinkInfo = {
    name: raw.ifname,
    index: raw.ifindex,
    mtu: raw.mtu,
    up: raw.flags?.includes('UP') ?? false,
    mac: raw.address ?? '',
  };
  const kind = raw.linkinfo?.info_kind;
  if (kind !== undefined) info.kind = kind;
  if (raw.master !== undefined) info.master = raw.master;
  if (raw.linkinfo?.info_slave_kind === 'bridge') {
    info.hairpin = raw.linkinfo.info_slave_data?.hairpin ?? false;
  }
  const data = raw.linkinfo?.info_data;
  if (kind === 'vxlan' && data !== undefined) {
    info.vxlan = {
      vni: data.id ?? 0,
      port: data.port ?? 0,
      ...(data.local === undefined ? {} : { local: data.local }),
      ...(data.link === undefined ? {} : { dev: data.link }),
    };
  }
  return info;
}

function classify(detail: string): NetlinkFailure {
  if (/File exists/i.test(detail)) return 'exists';
  if (/Cannot find device|No such device|No such process|does not exist|not found/i.test(detail)) {
    return 'missing';
  }
  if (/network namespace|netns|reassociate|No such file or directory/i.test(detail))
    return 'no-netns';
  return 'other';
}
