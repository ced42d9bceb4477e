// knotd (Debian's knot): an authoritative server written for speed, serving
// the same cluster zone from a zone file, with as many UDP workers as the
// group's worker count. Authoritative only: it has no row in the cached case.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Peer } from '../../bench/benchmark.ts';
import { freePort, LOOPBACK } from '../../bench/ports.ts';
import { startProcess } from '../../bench/process.ts';
import { makeTempDir } from '../../bench/temp-dir.ts';
import { commandVersion } from '../../bench/versions.ts';
import { type DnsFixture, waitForAnswer } from '../fixture.ts';

export function knotConfig(o: {
  dir: string;
  port: number;
  workers: number;
  zoneFile: string;
}): string {
  return [
    'server:',
    `    listen: ${LOOPBACK}@${o.port}`,
    `    udp-workers: ${o.workers}`,
    `    tcp-workers: ${o.workers}`,
    '    background-workers: 1',
    `    rundir: ${o.dir}`,
    'database:',
    `    storage: ${o.dir}`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'zone:',
    '  - domain: cluster.local',
    `    file: ${o.zoneFile}`,
    `    storage: ${o.dir}`,
    '    journal-content: none',
    '    zonefile-sync: -1',
    '',
  ].join('\n');
}

export const knotdPeer: Peer<DnsFixture> = {
  name: 'knotd',
  label: 'knotd (authoritative)',
  version: () => commandVersion('knotd', ['--version'], /version (\S+)/),
  async start({ scope, group, fixture, options, signal }) {
    const dir = await makeTempDir(scope, 'knotd');
    const port = await freePort();
    const conf = join(dir, 'knot.conf');
    await writeFile(
      conf,
      knotConfig({ dir, port, workers: Number(group.params.workers), zoneFile: fixture.zoneFile }),
    );
    const proc = await startProcess(
      scope,
      {
        name: 'knotd',
        command: 'knotd',
        args: ['-c', conf],
        ready: [{ kind: 'port', host: LOOPBACK, port }],
        readyTimeoutMs: options.readyTimeoutMs,
      },
      signal,
    );
    await waitForAnswer('svc-0.ns-0.svc.cluster.local', port, options.readyTimeoutMs, proc);
    return { host: LOOPBACK, port, processes: [proc] };
  },
};
