// The pier-cni executable's body: the thinnest possible client of the agent.
//
// A runtime starts the plugin for every pod start and stop, so its start-up
// time is the plugin's latency. This module therefore imports only the
// dependency-free wire.ts and unix-exchange.ts, checks only what it must to answer
// honestly without the agent (CNI_COMMAND, that stdin is JSON, VERSION), and
// passes everything else to the agent over its unix socket. All CNI logic,
// validation included, lives in the agent (handler.ts).
//
// While the agent is down, every verb but VERSION fails with code 11 (try
// again later; STATUS: 50, not available) before anything has been done, so
// nothing is ever half done by the client.

import { type ExchangeWay, exchange } from './unix-exchange.ts';
import {
  AGENT_SOCKET_KEY,
  CNI_ENV_KEYS,
  DEFAULT_AGENT_SOCKET,
  LATEST_VERSION,
  SUPPORTED_VERSIONS,
  type WireRequest,
  type WireResponse,
} from './wire.ts';

export interface ClientInput {
  env: Readonly<Record<string, string | undefined>>;
  stdin: string;
  /** How long to wait for the agent's answer. */
  timeoutMs?: number;
  /** How to talk to the agent's socket (unix-exchange.ts); tests pin each way. */
  way?: ExchangeWay;
}

const TRY_AGAIN_LATER = 11;
const NOT_AVAILABLE = 50;
const VERBS = new Set(['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION']);

export function runClient(input: ClientInput): Promise<WireResponse> {
  const command = input.env.CNI_COMMAND;
  let config: Record<string, unknown> | undefined;
  let version = LATEST_VERSION as string;
  try {
    const parsed: unknown = input.stdin.trim() === '' ? undefined : JSON.parse(input.stdin);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      config = parsed as Record<string, unknown>;
      if (typeof config.cniVersion === 'string') version = config.cniVersion;
    } else if (parsed !== undefined) {
      return done(
        error(
          version,
          6,
          'decode failure: the network configuration on stdin is not a JSON object',
        ),
      );
    }
  } catch (cause) {
    if (command !== 'VERSION') {
      return done(
        error(
          version,
          6,
          'decode failure: the network configuration on stdin is not JSON',
          (cause as Error).message,
        ),
      );
    }
  }
  if (command === undefined || command === '') {
    return done(
      error(
        version,
        4,
        'CNI_COMMAND is not set; it must be one of ADD, DEL, CHECK, STATUS, GC, VERSION',
      ),
    );
  }
  if (!VERBS.has(command)) {
    return done(
      error(
        version,
        4,
        `CNI_COMMAND ${JSON.stringify(command)} is not one of ADD, DEL, CHECK, STATUS, GC, VERSION`,
      ),
    );
  }
  if (command === 'VERSION') {
    return done({
      exitCode: 0,
      stdout: JSON.stringify({ cniVersion: version, supportedVersions: SUPPORTED_VERSIONS }),
    });
  }
  if (config === undefined) {
    return done(error(version, 6, 'decode failure: no network configuration on stdin'));
  }
  const socket =
    typeof config[AGENT_SOCKET_KEY] === 'string'
      ? (config[AGENT_SOCKET_KEY] as string)
      : DEFAULT_AGENT_SOCKET;
  const env: Record<string, string> = {};
  for (const key of CNI_ENV_KEYS) {
    const value = input.env[key];
    if (value !== undefined) env[key] = value;
  }
  const request: WireRequest = { env, stdin: input.stdin };
  const unavailable = command === 'STATUS' ? NOT_AVAILABLE : TRY_AGAIN_LATER;
  return ask(
    socket,
    request,
    input.timeoutMs ?? 120_000,
    version,
    unavailable,
    input.way ?? 'auto',
  );
}

async function ask(
  path: string,
  request: WireRequest,
  timeoutMs: number,
  version: string,
  unavailable: number,
  way: ExchangeWay,
): Promise<WireResponse> {
  const outcome = await exchange(path, JSON.stringify(request), timeoutMs, way);
  switch (outcome.kind) {
    case 'answer': {
      try {
        const parsed = JSON.parse(outcome.text) as WireResponse;
        if (typeof parsed.exitCode === 'number' && typeof parsed.stdout === 'string') return parsed;
      } catch {}
      return error(
        version,
        unavailable,
        `the pier agent closed the connection without an answer (socket ${path}); it may be restarting, retry`,
      );
    }
    case 'timeout':
      return error(
        version,
        unavailable,
        `the pier agent did not answer within ${timeoutMs / 1000}s (socket ${path}); retry later`,
      );
    case 'dropped':
      // The agent had the request (or part of it): it may have begun, and rolls back what it began.
      return error(
        version,
        unavailable,
        `the pier agent closed the connection without an answer (${outcome.code} on ${path}); it may be restarting, retry`,
      );
    case 'unreachable': {
      const reason =
        outcome.code === 'ENOENT' || outcome.code === 'ECONNREFUSED'
          ? 'the pier agent is not running'
          : outcome.code === 'EACCES'
            ? 'only root may use the pier agent socket'
            : 'the pier agent cannot be reached';
      return error(
        version,
        unavailable,
        `${reason} (${outcome.code} on ${path}); nothing was changed, retry once it runs`,
      );
    }
  }
}

function error(cniVersion: string, code: number, msg: string, details?: string): WireResponse {
  const body: Record<string, unknown> = { cniVersion, code, msg };
  if (details !== undefined) body.details = details;
  return { exitCode: 1, stdout: JSON.stringify(body) };
}

function done(response: WireResponse): Promise<WireResponse> {
  return Promise.resolve(response);
}
