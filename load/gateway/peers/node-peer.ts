// The Node.js peers share one shape: a server script in this folder, run
// under the harness's own Node (24, from node_modules), given the port, the
// upstream and the worker count; ready once it printed "ready" and a GET
// through it answers 200.

import { join } from 'node:path';
import type { Peer } from '../../bench/benchmark.ts';
import { freePort, LOOPBACK } from '../../bench/ports.ts';
import { startProcess } from '../../bench/process.ts';
import { packageVersion } from '../../bench/versions.ts';
import type { GatewayFixture } from '../fixture.ts';

const HERE = import.meta.dirname;

export function nodePeer(spec: {
  name: string;
  label: string;
  /** The npm package it proxies with (its version is reported); none: Node.js alone. */
  packageName?: string;
  script: string;
  /** Flags for node before the script. */
  nodeFlags?: readonly string[];
  /** false: shown for scale, never the "fastest Node.js peer" Pier is compared with. */
  competes?: boolean;
}): Peer<GatewayFixture> {
  const { packageName } = spec;
  return {
    name: spec.name,
    label: spec.label,
    family: spec.competes === false ? undefined : 'node',
    version: async () =>
      packageName === undefined
        ? `Node.js ${process.versions.node}`
        : `${await packageVersion(packageName)} on Node.js ${process.versions.node}`,
    async start({ scope, group, fixture, options, signal }) {
      const workers = Number(group.params.workers);
      const port = await freePort();
      const proc = await startProcess(
        scope,
        {
          name: spec.name,
          command: process.execPath,
          args: [
            ...(spec.nodeFlags ?? []),
            join(HERE, spec.script),
            '--port',
            String(port),
            '--upstream',
            `http://${LOOPBACK}:${fixture.backend.port}`,
            '--workers',
            String(workers),
          ],
          env: { ...process.env, NODE_ENV: 'production' },
          ready: [
            { kind: 'line', pattern: /^ready$/m },
            { kind: 'http', url: `http://${LOOPBACK}:${port}/small` },
          ],
          readyTimeoutMs: options.readyTimeoutMs,
        },
        signal,
      );
      return { host: LOOPBACK, port, processes: [proc] };
    },
  };
}
