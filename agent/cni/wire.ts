// What pier-cni and the agent say to each other over the agent's unix
// socket: one request, one response, each a JSON document, the request
// ended by half-closing the connection; and the CNI versions they speak.
// Dependency-free: the client imports it, and `pier cni install` joins the
// two into the one-file plugin (plugin-file.ts).
//
// The client passes the runtime's request on as it got it (the CNI_*
// variables and stdin) and prints the agent's answer as it gets it: all CNI
// logic lives in the agent, so the executable stays small and fast to start.

export interface WireRequest {
  /** The CNI_* environment variables the runtime set (only those). */
  env: Record<string, string>;
  /** The network configuration, as the runtime wrote it to stdin. */
  stdin: string;
}

export interface WireResponse {
  /** The executable's exit status: 0 on success, 1 with an error JSON on stdout. */
  exitCode: number;
  /** What to print: a result, an error, or nothing. */
  stdout: string;
}

export const DEFAULT_AGENT_SOCKET = '/run/pier/cni.sock';

/** The network configuration key naming the agent's socket (a Pier extension). */
export const AGENT_SOCKET_KEY = 'agentSocket';

export const CNI_ENV_KEYS = [
  'CNI_COMMAND',
  'CNI_CONTAINERID',
  'CNI_NETNS',
  'CNI_IFNAME',
  'CNI_ARGS',
  'CNI_PATH',
] as const;

/** Requests larger than this are refused: a network configuration is a few KiB. */
export const MAX_REQUEST_BYTES = 1 << 20;

/** The CNI spec versions pier-cni speaks, oldest first. */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';
