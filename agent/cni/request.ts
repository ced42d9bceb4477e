// A runtime's request, checked against the CNI spec (1.1.0 and the older
// versions pier-cni speaks) and turned into a typed value. Every rejection
// is a CniError with the spec's code: 4 for the environment, 6 for stdin
// that is not JSON, 7 for a bad network configuration, 1 for a version
// pier-cni does not speak or that does not have the verb.

import { CniCodes, CniError } from './errors.ts';
import {
  type CniVersion,
  isSupportedVersion,
  SUPPORTED_VERSIONS,
  versionAtLeast,
} from './versions.ts';
import type { WireRequest } from './wire.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';

export interface AttachmentKey {
  containerId: string;
  ifname: string;
}

export interface CniRequest {
  command: CniCommand;
  cniVersion: CniVersion;
  /** The network's name (config `name`). */
  network: string;
  /** ADD, DEL, CHECK. */
  containerId: string;
  ifname: string;
  /** ADD and CHECK always; DEL when the runtime still knows it. */
  netns: string | undefined;
  /** CNI_ARGS as a map (K8S_POD_NAMESPACE, K8S_POD_NAME, ...). */
  args: Record<string, string>;
  /** CHECK (required), DEL (optional): the result of the last ADD. */
  prevResult: unknown;
  /** GC: the attachments the runtime still has. */
  validAttachments: AttachmentKey[];
  /** The whole network configuration, for fields a verb needs. */
  config: Record<string, unknown>;
}

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'];
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** What the verb needs from the environment (the spec's table). */
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  STATUS: ['CNI_PATH'],
  GC: ['CNI_PATH'],
};

/** The version an error answer should carry when the request's own cannot be trusted. */
export function answerVersion(stdin: string): string {
  try {
    const version = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof version === 'string' && version !== ''
      ? version
      : (SUPPORTED_VERSIONS.at(-1) ?? '1.1.0');
  } catch {
    return '1.1.0';
  }
}

export function parseCniRequest(wire: WireRequest): CniRequest {
  const env = wire.env;
  const command = env.CNI_COMMAND as CniCommand;
  if (!COMMANDS.includes(command)) {
    throw new CniError(
      CniCodes.INVALID_ENVIRONMENT,
      `CNI_COMMAND ${JSON.stringify(env.CNI_COMMAND ?? '')} is not one of ADD, DEL, CHECK, STATUS, GC, VERSION`,
    );
  }

  let config: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(wire.stdin);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('not a JSON object');
    }
    config = parsed as Record<string, unknown>;
  } catch (error) {
    throw new CniError(
      CniCodes.DECODE_FAILURE,
      'decode failure: the network configuration on stdin is not a JSON object',
      (error as Error).message,
    );
  }

  const version = config.cniVersion;
  if (version === undefined || version === '') {
    throw new CniError(
      CniCodes.INVALID_CONFIG,
      'invalid network configuration: cniVersion is required',
    );
  }
  if (!isSupportedVersion(version)) {
    throw new CniError(
      CniCodes.INCOMPATIBLE_VERSION,
      `incompatible CNI version ${JSON.stringify(version)}: pier-cni supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  if (typeof config.name !== 'string' || config.name === '') {
    throw new CniError(
      CniCodes.INVALID_CONFIG,
      'invalid network configuration: name must be a non-empty string',
    );
  }
  if (typeof config.type !== 'string' || config.type === '') {
    throw new CniError(
      CniCodes.INVALID_CONFIG,
      'invalid network configuration: type must be a non-empty string',
    );
  }
  if (config.ipam !== undefined) {
    throw new CniError(
      CniCodes.UNSUPPORTED_FIELD,
      'unsupported field ipam: pier-cni allocates addresses itself, from the node subnet the agent leased; remove the ipam section',
    );
  }

  if (command === 'CHECK' && !versionAtLeast(version, '0.4.0')) {
    throw new CniError(
      CniCodes.INCOMPATIBLE_VERSION,
      `CNI version ${version} does not have CHECK (0.4.0 and later do)`,
    );
  }
  if ((command === 'STATUS' || command === 'GC') && !versionAtLeast(version, '1.1.0')) {
    throw new CniError(
      CniCodes.INCOMPATIBLE_VERSION,
      `CNI version ${version} does not have ${command} (1.1.0 does)`,
    );
  }

  for (const key of REQUIRED[command]) {
    if (env[key] === undefined || env[key] === '') {
      throw new CniError(CniCodes.INVALID_ENVIRONMENT, `${key} is required for ${command}`);
    }
  }

  const containerId = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  if (containerId !== '' && !CONTAINER_ID.test(containerId)) {
    throw new CniError(
      CniCodes.INVALID_ENVIRONMENT,
      `CNI_CONTAINERID ${JSON.stringify(containerId)} must start with a letter or digit and hold only letters, digits, _ . -`,
    );
  }
  if (ifname !== '') checkIfname(ifname);
  const netns = env.CNI_NETNS === undefined || env.CNI_NETNS === '' ? undefined : env.CNI_NETNS;
  if (netns !== undefined && (!netns.startsWith('/') || /[\s\0]/.test(netns))) {
    throw new CniError(
      CniCodes.INVALID_ENVIRONMENT,
      `CNI_NETNS ${JSON.stringify(netns)} must be an absolute path`,
    );
  }

  if (command === 'CHECK' && config.prevResult === undefined) {
    throw new CniError(
      CniCodes.INVALID_CONFIG,
      'CHECK needs prevResult, the result of the ADD it checks',
    );
  }

  return {
    command,
    cniVersion: version,
    network: config.name,
    containerId,
    ifname,
    netns,
    args: parseArgs(env.CNI_ARGS),
    prevResult: config.prevResult,
    validAttachments: command === 'GC' ? parseAttachments(config) : [],
    config,
  };
}

function checkIfname(ifname: string) {
  const bad =
    ifname.length > 15
      ? 'is longer than 15 characters'
      : ifname === '.' || ifname === '..'
        ? 'must not be . or ..'
        : /[/:\s]/.test(ifname)
          ? 'must not contain /, : or whitespace'
          : undefined;
  if (bad !== undefined) {
    throw new CniError(CniCodes.INVALID_ENVIRONMENT, `CNI_IFNAME ${JSON.stringify(ifname)} ${bad}`);
  }
}

/** `K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IgnoreUnknown=1` -> a map. */
export function parseArgs(text: string | undefined): Record<string, string> {
  const args: Record<string, string> = {};
  if (text === undefined || text === '') return args;
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CniError(
        CniCodes.INVALID_ENVIRONMENT,
        `CNI_ARGS: ${JSON.stringify(pair)} is not KEY=VALUE`,
      );
    }
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

function parseAttachments(config: Record<string, unknown>): AttachmentKey[] {
  // libcni sends both names: the spec's and the one an earlier draft used.
  const raw = config['cni.dev/valid-attachments'] ?? config['cni.dev/attachments'];
  if (raw === undefined) {
    throw new CniError(
      CniCodes.INVALID_CONFIG,
      'GC needs cni.dev/valid-attachments, the attachments the runtime still has (an empty list frees everything)',
    );
  }
  if (!Array.isArray(raw)) {
    throw new CniError(
      CniCodes.INVALID_CONFIG,
      'cni.dev/valid-attachments must be a list of {containerID, ifname}',
    );
  }
  return raw.map((item, index) => {
    const a = item as { containerID?: unknown; ifname?: unknown } | null;
    if (typeof a?.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw new CniError(
        CniCodes.INVALID_CONFIG,
        `cni.dev/valid-attachments[${index}] must be {"containerID": "...", "ifname": "..."}`,
      );
    }
    return { containerId: a.containerID, ifname: a.ifname };
  });
}
