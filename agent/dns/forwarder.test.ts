// The forwarder against fake upstreams on loopback: failover, health, and
// responses that must not be believed.

import dgram from 'node:dgram';
import packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPierError } from '../../src/errors.ts';
import { createForwarder, type Forwarder } from './forwarder.ts';
import { createDnsStats } from './stats.ts';
import { type FakeUpstream, startFakeUpstream } from './testing/fake-upstream.ts';
import { nameKey } from './wire.ts';

let good: FakeUpstream;
let dead: FakeUpstream;
const forwarders: Forwarder[] = [];
beforeAll(async () => {
  good = await startFakeUpstream({ records: ['a.example. 60 IN A 192.0.2.1'] });
  dead = await startFakeUpstream({ records: ['a.example. 60 IN A 192.0.2.99'] });
  dead.setDown(true);
});
afterAll(async () => {
  for (const f of forwarders) await f.close();
  await good.close();
  await dead.close();
});

const make = (
  upstreams: { address: string; port: number }[],
  extra: { maxFails?: number } = {},
) => {
  const stats = createDnsStats();
  const f = createForwarder({
    upstreams,
    timeoutMs: 150,
    attempts: 2,
    maxConcurrent: 10,
    maxFails: extra.maxFails ?? 1,
    healthCheckMs: 30,
    stats,
  });
  forwarders.push(f);
  return { f, stats };
};
const at = (u: FakeUpstream) => ({ address: u.address, port: u.port });

describe('forwarder', () => {
  it('fails over to the next upstream and marks the dead one down, then back up', async () => {
    const { f, stats } = make([at(dead), at(good)]);
    const answer = packet.decode(await f.query(nameKey('a.example.'), 1));
    expect(answer.answers?.map((a) => (a as { data: string }).data)).toEqual(['192.0.2.1']);
    expect(f.status().map((s) => s.healthy)).toEqual([false, true]);
    expect(stats.snapshot().upstreams[`127.0.0.1:${dead.port}`]?.errors).toBe(1);
    // Healthy ones are asked first now: the dead one is not tried (no second error).
    await f.query(nameKey('a.example.'), 1);
    expect(stats.snapshot().upstreams[`127.0.0.1:${dead.port}`]?.errors).toBe(1);
    dead.setDown(false);
    await expect.poll(() => f.status()[0]!.healthy, { timeout: 2000 }).toBe(true);
    dead.setDown(true);
  });

  it('rejects with UPSTREAM_TIMEOUT when nobody answers', async () => {
    const { f } = make([at(dead)]);
    const error = await f.query(nameKey('a.example.'), 1).catch((e: unknown) => e);
    expect(isPierError(error, 'PIER_DNS_UPSTREAM_TIMEOUT')).toBe(true);
    expect(f.available()).toBe(false);
  });

  it('ignores responses from elsewhere, or to another question', async () => {
    // A fake "upstream" that answers with the wrong question first, then from another socket, then right.
    const server = dgram.createSocket('udp4');
    const other = dgram.createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
    server.on('message', (msg, rinfo) => {
      const q = packet.decode(msg);
      const reply = (name: string, data: string) =>
        packet.encode({
          type: 'response',
          id: q.id,
          questions: [{ type: 'A', name }],
          answers: [{ type: 'A', name, ttl: 5, data }],
        });
      server.send(reply('evil.example', '6.6.6.6'), rinfo.port, rinfo.address);
      other.send(reply('a.example', '6.6.6.7'), rinfo.port, rinfo.address);
      setTimeout(() => server.send(reply('a.example', '192.0.2.1'), rinfo.port, rinfo.address), 20);
    });
    try {
      const { f } = make([{ address: '127.0.0.1', port: server.address().port }]);
      const answer = packet.decode(await f.query(nameKey('a.example.'), 1));
      expect(answer.answers?.map((a) => (a as { data: string }).data)).toEqual(['192.0.2.1']);
    } finally {
      server.close();
      other.close();
    }
  });

  it('refuses beyond its concurrency bound', async () => {
    const stats = createDnsStats();
    const f = createForwarder({
      upstreams: [at(good)],
      timeoutMs: 500,
      attempts: 1,
      maxConcurrent: 1,
      maxFails: 2,
      healthCheckMs: 1000,
      stats,
    });
    forwarders.push(f);
    good.setDelay(50);
    try {
      const results = await Promise.allSettled([
        f.query(nameKey('a.example.'), 1),
        f.query(nameKey('a.example.'), 28),
      ]);
      expect(results[0].status).toBe('fulfilled');
      expect(
        results[1].status === 'rejected' && isPierError(results[1].reason, 'PIER_DNS_OVERLOADED'),
      ).toBe(true);
    } finally {
      good.setDelay(0);
    }
  });
});
