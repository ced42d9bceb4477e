// The node agent's error table (convention 9). Each message says what to do.
// CNI answers carry the spec's numeric codes as well (agent/cni/errors.ts);
// these are the stable codes of the agent's own failures, in logs and in the
// `details` of a CNI error.

import { errorTable } from '../src/errors.ts';

export const AgentErrors = errorTable('AGENT', {
  BAD_NET_CONF: (source: string, reason: string) =>
    `net-conf ${source}: ${reason} (a flannel net-conf: {"Network": "10.244.0.0/16", "SubnetLen": 24, "Backend": {"Type": "vxlan"}})`,
  BAD_CONFIG: (setting: string, reason: string) => `agent setting ${setting}: ${reason}`,
  NO_FREE_SUBNET: (network: string, min: string, max: string, taken: number) =>
    `no free node subnet left in ${network} between ${min} and ${max} (${taken} leased); widen Network or SubnetMin/SubnetMax, or delete the leases of nodes that are gone`,
  LEASE_LOST: (subnet: string, owner: string) =>
    `the lease on ${subnet} now belongs to ${owner}; this node's pods keep their addresses but new pods cannot start until the agent restarts and leases a subnet`,
  LEASE_CONTENDED: (what: string, attempts: number) =>
    `gave up leasing in ${what} after ${attempts} conflicting writes; other agents keep winning, the agent retries`,
  BAD_LEASE: (name: string, reason: string) =>
    `SubnetLease ${name} is malformed (${reason}); delete it, its owner's agent writes it again`,
  SUBNET_FULL: (subnet: string) =>
    `no free pod address left in ${subnet}; delete finished pods (their DEL or a CNI GC frees addresses) or use a larger SubnetLen`,
  IPAM_DISK: (dir: string, detail: string) =>
    `pod address records in ${dir} cannot be read or written (${detail}); check the disk and the agent's data directory`,
  COMMAND_FAILED: (command: string, detail: string) => `${command} failed: ${detail}`,
  NO_NODE_ADDRESS: (detail: string) =>
    `cannot tell this node's address (${detail}); set agent.iface or agent.nodeIp`,
  BAD_SUBNET_ENV: (path: string, reason: string) =>
    `${path} is not a flannel subnet.env (${reason}); delete it, the agent writes it again`,
  NOT_READY: (what: string) => `the agent is not ready: ${what}`,
});
