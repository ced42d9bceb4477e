// The node agent's settings for the pod network, checked once at start.
// `pier agent` fills them from its flags (src/cli/commands/agent.ts); tests
// build them directly. Defaults follow flannel where flannel has one
// (subnet.env path, cni0, 24 h leases renewed an hour before they end).

import { hostname } from 'node:os';
import { z } from 'zod';
import { AgentErrors } from './errors.ts';
import { parseIp } from './ipam/ipv4.ts';

const ipv4 = z
  .string()
  .refine((s) => parseIp(s) !== undefined, 'must be an IPv4 address like 10.96.0.10');
const ifname = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name like eth0');

export const agentSettingsSchema = z.strictObject({
  /** This node's name: the owner in its subnet lease. */
  nodeName: z
    .string()
    .min(1)
    .max(253)
    .default(() => hostname()),
  /** Path of the flannel net-conf.json; ignored when netConfJson is given. */
  netConf: z.string().default('/etc/pier/net-conf.json'),
  /** The net-conf itself, as JSON text (instead of a file). */
  netConfJson: z.string().optional(),
  /** The underlay interface; by default the one holding nodeIp, else the default route's. */
  iface: ifname.optional(),
  /** The node's underlay address; by default the first IPv4 address of iface. */
  nodeIp: ipv4.optional(),
  /** Pod address records, one directory per subnet. */
  dataDir: z.string().default('/var/lib/pier/agent'),
  /** Where the flannel-compatible subnet.env goes. */
  subnetEnv: z.string().default('/run/flannel/subnet.env'),
  /** The CNI socket pier-cni connects to (root only). */
  socket: z.string().default('/run/pier/cni.sock'),
  bridge: ifname.default('cni0'),
  leaseTtlSeconds: z
    .number()
    .int()
    .min(5)
    .default(24 * 3600),
  /** Renew this long before the lease ends. */
  renewMarginSeconds: z.number().int().min(1).default(3600),
  /** Full resync of routes and rules, even without changes. */
  resyncSeconds: z.number().int().min(1).default(30),
  /** Cluster DNS servers for pods' CNI results (the cluster DNS Service IP). */
  clusterDns: z.array(ipv4).default([]),
  clusterDomain: z.string().default('cluster.local'),
  /** Delete this node's lease on a clean stop (the node is leaving, not restarting). */
  releaseOnExit: z.boolean().default(false),
  /** Give up waiting for the Store at start after this long and run on the subnet in subnet.env. */
  storeWaitSeconds: z.number().min(0).default(5),
});

export type AgentSettings = z.output<typeof agentSettingsSchema>;
export type AgentSettingsInput = z.input<typeof agentSettingsSchema>;

export function parseAgentSettings(input: AgentSettingsInput): AgentSettings {
  const parsed = agentSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw AgentErrors.BAD_CONFIG(
      issue?.path.join('.') || '(settings)',
      issue?.message ?? 'invalid',
    );
  }
  const settings = parsed.data;
  if (settings.renewMarginSeconds >= settings.leaseTtlSeconds) {
    throw AgentErrors.BAD_CONFIG(
      'renewMarginSeconds',
      `must be less than leaseTtlSeconds (${settings.leaseTtlSeconds})`,
    );
  }
  return settings;
}
