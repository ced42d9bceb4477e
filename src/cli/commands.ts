// The command table (convention 2): every `pier` command, in the order help
// lists them. Each module is imported only when its command runs, so
// `pier version` and the CNI plugin path load nothing they do not use.
// To add a command: src/cli/README.md.

import type { Command } from './command.ts';

export interface CommandEntry {
  name: string;
  /** Shown by `pier --help` without importing the module; must equal the module's `summary`. */
  summary: string;
  load: () => Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'start',
    summary: 'Run Pier in one process: Store, manifests, gateway and agent parts (quickstart)',
    load: () => import('./commands/start.ts'),
  },
  {
    name: 'gateway',
    summary: 'Run the edge gateway: listeners, routes, upstreams (N workers)',
    load: () => import('./commands/gateway.ts'),
  },
  {
    name: 'agent',
    summary: 'Run the node agent: CNI daemon, pod network, Service proxy, DNS',
    load: () => import('./commands/agent.ts'),
  },
  {
    name: 'dns',
    summary: 'Run cluster DNS',
    load: () => import('./commands/dns.ts'),
  },
  {
    name: 'cni',
    summary: 'The CNI plugin executable, run by the container runtime',
    load: () => import('./commands/cni.ts'),
  },
  {
    name: 'version',
    summary: 'Print the Pier, Node.js and platform versions',
    load: () => import('./commands/version.ts'),
  },
  {
    name: 'config',
    summary: 'Print the effective configuration and the settings reference',
    load: () => import('./commands/config.ts'),
  },
];

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((entry) => entry.name === name);
}
