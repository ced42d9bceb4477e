// What every DNS peer gets: the files of one benchmark run (the cluster as
// manifests and as a zone file, dnsperf's query files) and the fake upstream
// that holds the names outside the cluster, on 127.0.0.1.

import dgram from 'node:dgram';
import packet from 'dns-packet';
import type { FakeUpstream } from '../../agent/dns/testing/fake-upstream.ts';
import { BenchErrors } from '../bench/errors.ts';
import { sleep } from '../bench/ports.ts';

export interface DnsFixture {
  upstream: FakeUpstream;
  /** A folder with the cluster's manifests (for Pier). */
  manifestsDir: string;
  /** The cluster zone as a zone file (for knotd and unbound). */
  zoneFile: string;
  queries: { cluster: string; cached: string };
}

/**
 * Resolves once the server on 127.0.0.1:port answers `name` with NOERROR and
 * an answer (its zone is loaded, not only its socket open); rejects after timeoutMs.
 */
export async function waitForAnswer(
  name: string,
  port: number,
  timeoutMs: number,
  proc: { name: string; problem(): string },
): Promise<void> {
  const socket = dgram.createSocket('udp4');
  const deadline = Date.now() + timeoutMs;
  let answered = false;
  socket.on('message', (msg) => {
    try {
      const p = packet.decode(msg);
      if ((p as { rcode?: string }).rcode === 'NOERROR' && (p.answers?.length ?? 0) > 0)
        answered = true;
    } catch {}
  });
  try {
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    while (!answered) {
      if (Date.now() > deadline)
        throw BenchErrors.NOT_READY(proc.name, `an answer for ${name}`, timeoutMs, proc.problem());
      socket.send(
        packet.encode({
          type: 'query',
          id: 1,
          flags: packet.RECURSION_DESIRED,
          questions: [{ type: 'A', name }],
        }),
        port,
        '127.0.0.1',
      );
      await sleep(100);
    }
  } finally {
    socket.close();
  }
}
