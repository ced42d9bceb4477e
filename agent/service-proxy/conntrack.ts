// The Conntrack port: deleting connection-tracking entries the proxy made
// stale. UDP has no connection to close: a client that keeps sending from
// the same port keeps hitting the conntrack entry of an endpoint that is
// gone, for as long as it sends. kube-proxy deletes those entries when an
// endpoint leaves, and so does the proxy (`conntrack -D`).
//
// The real one runs conntrack-tools; the fake (conntrack-fake in testing/)
// records what was asked.

import { AgentErrors } from '../errors.ts';
import type { NetnsOption } from '../netlink.ts';
import { runCommand } from '../run-command.ts';

/** Which entries: all conditions given must hold. */
export interface ConntrackFilter {
  proto: 'udp';
  /** The original destination (a ClusterIP, an external IP). */
  origDst?: string;
  /** The original destination port (a NodePort, a Service port). */
  origPortDst?: number;
  /** The endpoint the entry was DNATed to. */
  dstNat?: string;
}

export interface Conntrack {
  /** Deletes matching entries; resolves to how many went. */
  delete(filter: ConntrackFilter, options?: NetnsOption): Promise<number>;
}

export function conntrackArgs(filter: ConntrackFilter): string[] {
  const args = ['-D', '-p', filter.proto];
  if (filter.origDst !== undefined) args.push('--orig-dst', filter.origDst);
  if (filter.origPortDst !== undefined) args.push('--orig-port-dst', String(filter.origPortDst));
  if (filter.dstNat !== undefined) args.push('--dst-nat', filter.dstNat);
  return args;
}

export function createConntrack(
  options: { conntrack?: string; nsenter?: string; timeoutMs?: number } = {},
): Conntrack {
  const conntrack = options.conntrack ?? 'conntrack';
  const nsenter = options.nsenter ?? 'nsenter';
  return {
    async delete(filter, { netns }: NetnsOption = {}) {
      const args = conntrackArgs(filter);
      const command =
        netns === undefined
          ? [conntrack, ...args]
          : [nsenter, `--net=${netns}`, conntrack, ...args];
      let result: Awaited<ReturnType<typeof runCommand>>;
      try {
        result = await runCommand(command, { timeoutMs: options.timeoutMs ?? 10_000 });
      } catch (error) {
        throw AgentErrors.COMMAND_FAILED(command.join(' '), (error as Error).message);
      }
      // "N flow entries have been deleted." on stderr; exit 1 when N is 0.
      const deleted = /(\d+) flow entries have been deleted/.exec(result.stderr);
      if (deleted !== null) return Number(deleted[1]);
      throw AgentErrors.COMMAND_FAILED(
        command.join(' '),
        result.stderr.trim() || `exit ${result.code ?? result.signal}`,
      );
    },
  };
}
