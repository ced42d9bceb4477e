// The agent's side of pier-cni: a request as the runtime made it (CNI_*
// variables and stdin, passed on by the client) -> what the executable
// prints and its exit status. Checks the request (request.ts), calls the
// pod network, and answers in the asked version's format (result.ts) or
// with the spec's error JSON.

import type { AgentLogger } from '../logger.ts';
import type { PodNetwork } from '../pod-network.ts';
import { CniCodes, CniError, errorJson, isCniError } from './errors.ts';
import { answerVersion, type CniRequest, parseCniRequest } from './request.ts';
import { formatResult } from './result.ts';
import type { WireRequest, WireResponse } from './wire.ts';

export interface CniHandlerOptions {
  podNetwork: PodNetwork;
  logger: AgentLogger;
  /** Called after each request, for metrics. */
  observe?: (command: string, ok: boolean, seconds: number) => void;
}

export type CniHandler = (request: WireRequest) => Promise<WireResponse>;

export function createCniHandler(options: CniHandlerOptions): CniHandler {
  const { podNetwork, logger } = options;

  const run = async (request: CniRequest): Promise<string> => {
    switch (request.command) {
      case 'ADD': {
        const result = await podNetwork.attach({
          containerId: request.containerId,
          ifname: request.ifname,
          netns: request.netns as string,
          podNamespace: request.args.K8S_POD_NAMESPACE,
        });
        return JSON.stringify(formatResult(result, request.cniVersion));
      }
      case 'DEL':
        await podNetwork.detach({
          containerId: request.containerId,
          ifname: request.ifname,
          netns: request.netns,
        });
        return '';
      case 'CHECK':
        await podNetwork.check({
          containerId: request.containerId,
          ifname: request.ifname,
          netns: request.netns as string,
          address: addressFromPrevResult(request.prevResult, request.ifname),
        });
        return '';
      case 'STATUS': {
        const status = podNetwork.status();
        if (!status.ready) throw new CniError(status.code, status.reason);
        return '';
      }
      case 'GC':
        await podNetwork.gc(request.validAttachments);
        return '';
    }
  };

  return async (wire) => {
    const started = performance.now();
    let command = wire.env.CNI_COMMAND ?? '';
    try {
      const request = parseCniRequest(wire);
      command = request.command;
      const stdout = await run(request);
      const seconds = (performance.now() - started) / 1000;
      options.observe?.(command, true, seconds);
      logger.debug(
        {
          command,
          containerId: request.containerId,
          ifname: request.ifname,
          ms: Math.round(seconds * 1000),
        },
        'CNI request done',
      );
      return { exitCode: 0, stdout };
    } catch (error) {
      options.observe?.(command, false, (performance.now() - started) / 1000);
      const cniError = isCniError(error)
        ? error
        : new CniError(
            CniCodes.INTERNAL,
            `the pier agent failed unexpectedly during ${command || 'the request'}: ${(error as Error).message}`,
            (error as { code?: string }).code,
          );
      const level = isCniError(error) ? 'warn' : 'error';
      logger[level](
        {
          command,
          containerId: wire.env.CNI_CONTAINERID,
          code: cniError.code,
          details: cniError.details,
          ...(isCniError(error) ? {} : { err: error }),
        },
        cniError.message,
      );
      return { exitCode: 1, stdout: errorJson(answerVersion(wire.stdin), cniError) };
    }
  };
}

/**
 * The address ADD gave the pod's `ifname`, from a prevResult of any version:
 * the IP whose `interface` index points at the sandbox interface of that name
 * (or the only IP, when the result does not say).
 */
export function addressFromPrevResult(prevResult: unknown, ifname: string): string {
  const result = prevResult as {
    interfaces?: { name?: unknown; sandbox?: unknown }[];
    ips?: { address?: unknown; interface?: unknown }[];
  } | null;
  const interfaces = Array.isArray(result?.interfaces) ? result.interfaces : [];
  const ips = Array.isArray(result?.ips) ? result.ips : [];
  const index = interfaces.findIndex((i) => i?.name === ifname && typeof i.sandbox === 'string');
  const ip =
    ips.find((i) => index !== -1 && i?.interface === index) ??
    (ips.length === 1 && ips[0]?.interface === undefined ? ips[0] : undefined);
  if (ip === undefined || typeof ip.address !== 'string') {
    throw new CniError(
      CniCodes.INVALID_CONFIG,
      `prevResult has no address for interface ${ifname}; CHECK needs the result of the ADD it checks`,
    );
  }
  return ip.address;
}
