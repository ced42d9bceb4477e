// unbound (Debian's): a caching resolver written for speed. In the cluster
// case it serves the same zone file as an auth-zone; in the cached case it
// forwards to the same fake upstream as Pier and answers from its cache.
// As many threads as the group's worker count, sockets shared with
// SO_REUSEPORT as Pier's workers share theirs.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Peer } from '../../bench/benchmark.ts';
import { freePort, LOOPBACK } from '../../bench/ports.ts';
import { startProcess } from '../../bench/process.ts';
import { makeTempDir } from '../../bench/temp-dir.ts';
import { commandVersion } from '../../bench/versions.ts';
import { type DnsFixture, waitForAnswer } from '../fixture.ts';

export function unboundConfig(o: {
  dir: string;
  port: number;
  workers: number;
  zoneFile: string;
  upstream: string;
}): string {
  return [
    'server:',
    `    interface: ${LOOPBACK}@${o.port}`,
    `    num-threads: ${o.workers}`,
    '    so-reuseport: yes',
    `    directory: "${o.dir}"`,
    '    chroot: ""',
    '    username: ""',
    '    pidfile: ""',
    '    use-syslog: no',
    '    logfile: ""',
    '    verbosity: 0',
    '    do-daemonize: no',
    '    access-control: 127.0.0.0/8 allow',
    '    do-not-query-localhost: no',
    '    module-config: "iterator"',
    '    msg-cache-size: 64m',
    '    rrset-cache-size: 128m',
    '    prefetch: yes',
    'auth-zone:',
    '    name: "cluster.local."',
    `    zonefile: "${o.zoneFile}"`,
    '    for-downstream: yes',
    '    for-upstream: no',
    '    fallback-enabled: no',
    'forward-zone:',
    '    name: "."',
    `    forward-addr: ${o.upstream.replace(':', '@')}`,
    '',
  ].join('\n');
}

export const unboundPeer: Peer<DnsFixture> = {
  name: 'unbound',
  label: 'unbound (caching resolver)',
  version: () => commandVersion('unbound', ['-V'], /Version (\S+)/),
  async start({ scope, group, fixture, options, signal }) {
    const dir = await makeTempDir(scope, 'unbound');
    const port = await freePort();
    const conf = join(dir, 'unbound.conf');
    await writeFile(
      conf,
      unboundConfig({
        dir,
        port,
        workers: Number(group.params.workers),
        zoneFile: fixture.zoneFile,
        upstream: `${fixture.upstream.address}:${fixture.upstream.port}`,
      }),
    );
    const proc = await startProcess(
      scope,
      {
        name: 'unbound',
        command: 'unbound',
        args: ['-d', '-c', conf],
        ready: [{ kind: 'port', host: LOOPBACK, port }],
        readyTimeoutMs: options.readyTimeoutMs,
      },
      signal,
    );
    await waitForAnswer('svc-0.ns-0.svc.cluster.local', port, options.readyTimeoutMs, proc);
    return { host: LOOPBACK, port, processes: [proc] };
  },
};
