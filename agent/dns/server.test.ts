// The server's own duties: no change lost while it starts, in this thread
// and in worker threads; close() stops everything.

import dgram from 'node:dgram';
import packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import type { DnsObjectSource } from '../dns.ts';
import { createObjectMirror } from './object-mirror.ts';
import { createDnsServer } from './server.ts';
import { service } from './testing/objects.ts';
import { testSettings } from './testing/test-server.ts';
import type { ObjectChange } from './zone-sync.ts';

/** An informer stand-in: a mirror, and batches delivered when the test says. */
function manualSource() {
  const mirror = createObjectMirror();
  const subscribers = new Set<(batch: { changes: readonly ObjectChange[] }) => void>();
  const source: DnsObjectSource = {
    get: mirror.get,
    list: mirror.list,
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
  };
  const change = (changes: ObjectChange[]) => {
    mirror.apply(changes, false);
    for (const fn of subscribers) fn({ changes });
  };
  return { source, change, subscribers };
}

async function ask(port: number, name: string): Promise<string[]> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), 2000);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(
          (packet.decode(msg).answers ?? []).map((a) => String((a as { data: unknown }).data)),
        );
      });
      socket.send(
        packet.encode({ type: 'query', id: 7, questions: [{ type: 'A', name }] }),
        port,
        '127.0.0.1',
      );
    });
  } finally {
    socket.close();
  }
}

const quiet = { info() {}, warn() {}, error() {} };

describe('DNS server', () => {
  it.each([1, 2])('loses no change made while it starts (%i worker(s))', async (workers) => {
    const { source, change, subscribers } = manualSource();
    change([{ type: 'added', object: service('bar', 'early', { clusterIPs: ['10.96.0.1'] }) }]);
    const server = createDnsServer({
      settings: testSettings({ workers }),
      objects: source,
      logger: quiet,
    });
    const starting = server.start();
    // The informer delivers a batch before start() has finished.
    change([{ type: 'added', object: service('bar', 'during', { clusterIPs: ['10.96.0.2'] }) }]);
    await starting;
    try {
      const port = server.addresses()[0]!.port;
      await expect
        .poll(() => ask(port, 'during.bar.svc.cluster.local'), { timeout: 2000 })
        .toEqual(['10.96.0.2']);
      expect(await ask(port, 'early.bar.svc.cluster.local')).toEqual(['10.96.0.1']);
      change([{ type: 'deleted', object: service('bar', 'early', { clusterIPs: ['10.96.0.1'] }) }]);
      await expect
        .poll(() => ask(port, 'early.bar.svc.cluster.local'), { timeout: 2000 })
        .toEqual([]);
    } finally {
      await server.close();
    }
    expect(subscribers.size).toBe(0);
  });

  it('reports a port it cannot bind as LISTEN_FAILED, and leaves nothing subscribed', async () => {
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
    const { source, subscribers } = manualSource();
    const server = createDnsServer({
      settings: testSettings({ listen: [`127.0.0.1:${blocker.address().port}`] }),
      objects: source,
      logger: quiet,
    });
    try {
      await expect(server.start()).rejects.toMatchObject({ code: 'PIER_DNS_LISTEN_FAILED' });
      expect(subscribers.size).toBe(0);
    } finally {
      blocker.close();
      await server.close();
    }
  });
});
