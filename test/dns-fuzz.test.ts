// Robustness: random and mutated packets, sent to the running server over
// UDP and TCP and fed to the query path directly. None may crash it; each
// reply must be a well-formed DNS message with the query's ID (FORMERR,
// NOTIMP, an answer...), or nothing; and the server still answers a good
// query afterwards.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '../agent/dns/message.ts';
import { type FakeUpstream, startFakeUpstream } from '../agent/dns/testing/fake-upstream.ts';
import { testCluster } from '../agent/dns/testing/objects.ts';
import { startTestDns, type TestDns } from '../agent/dns/testing/test-server.ts';

// A deterministic generator, so a failure can be replayed.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const names = [
  'foo.bar.svc.cluster.local',
  'db.bar.svc.cluster.local',
  'ext.bar.svc.cluster.local',
  'example.com',
  '.',
];
const types = ['A', 'AAAA', 'SRV', 'PTR', 'TXT', 'ANY', 'CNAME', 'SOA', 'NS', 'MX'] as const;

function validQuery(random: () => number): Buffer {
  const edns = random() < 0.5;
  return packet.encode({
    type: 'query',
    id: Math.floor(random() * 65536),
    flags: random() < 0.5 ? packet.RECURSION_DESIRED : 0,
    questions: [
      {
        type: types[Math.floor(random() * types.length)]! as packet.RecordType,
        name: names[Math.floor(random() * names.length)]!,
      },
    ],
    ...(edns
      ? {
          additionals: [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: Math.floor(random() * 5000),
              options: random() < 0.5 ? [{ code: 10, data: randomBytes(8) }] : [],
            } as unknown as packet.Answer,
          ],
        }
      : {}),
  });
}

function mutate(msg: Buffer, random: () => number): Buffer {
  let out = Buffer.from(msg);
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * out.length);
    switch (Math.floor(random() * 6)) {
      case 0: // flip a bit
        out[at]! ^= 1 << Math.floor(random() * 8);
        break;
      case 1: // random byte
        out[at] = Math.floor(random() * 256);
        break;
      case 2: // cut short
        out = out.subarray(0, at);
        break;
      case 3: // insert bytes
        out = Buffer.concat([
          out.subarray(0, at),
          randomBytes(1 + Math.floor(random() * 8)),
          out.subarray(at),
        ]);
        break;
      case 4: // a count field
        if (out.length >= 12)
          out.writeUInt16BE(Math.floor(random() * 65536), 4 + 2 * Math.floor(random() * 4));
        break;
      case 5: // a compression pointer somewhere
        if (at + 1 < out.length) {
          out[at] = 0xc0 | Math.floor(random() * 64);
          out[at + 1] = Math.floor(random() * 256);
        }
        break;
    }
  }
  return out;
}

function packets(count: number, seed: number): Buffer[] {
  const random = rng(seed);
  return Array.from({ length: count }, () => {
    const r = random();
    if (r < 0.25) return randomBytes(Math.floor(random() * 600));
    if (r < 0.35) return validQuery(random);
    return mutate(validQuery(random), random);
  });
}

function checkReply(query: Buffer, reply: Buffer) {
  expect(reply.length).toBeGreaterThanOrEqual(12);
  expect(reply.readUInt16BE(0)).toBe(query.readUInt16BE(0));
  expect(reply[2]! & 0x80).toBe(0x80);
  expect(() => decodeMessage(reply)).not.toThrow();
}

describe('fuzzing the DNS server', () => {
  let upstream: FakeUpstream;
  let dns: TestDns;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ records: ['example.com. 60 IN A 192.0.2.7'] });
    dns = await startTestDns(testCluster(), {
      forward: { enabled: true, upstreams: [`127.0.0.1:${upstream.port}`], timeoutMs: 200 },
    });
  });
  afterAll(async () => {
    await dns?.close();
    await upstream?.close();
  });

  const stillAnswers = async () => {
    const client = dgram.createSocket('udp4');
    try {
      const reply = await new Promise<packet.Packet>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer after fuzzing')), 2000);
        client.once('message', (msg) => {
          clearTimeout(timer);
          resolve(packet.decode(msg));
        });
        client.send(
          packet.encode({
            type: 'query',
            id: 1,
            questions: [{ type: 'A', name: 'foo.bar.svc.cluster.local' }],
          }),
          dns.port,
          dns.address,
        );
      });
      expect(reply.answers?.map((a) => (a as { data: string }).data)).toEqual(['10.96.0.10']);
    } finally {
      client.close();
    }
  };

  it('over UDP: every reply well-formed, the server unharmed', async () => {
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const sent = packets(5000, 1);
    const byId = new Map<number, Buffer[]>();
    for (const p of sent)
      if (p.length >= 2) byId.set(p.readUInt16BE(0), [...(byId.get(p.readUInt16BE(0)) ?? []), p]);
    const replies: Buffer[] = [];
    client.on('message', (msg) => replies.push(msg));
    for (let i = 0; i < sent.length; i++) {
      if (sent[i]!.length > 0) client.send(sent[i]!, dns.port, dns.address);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 500));
    client.close();
    expect(replies.length).toBeGreaterThan(1000);
    for (const reply of replies) {
      const queries = byId.get(reply.readUInt16BE(0));
      expect(queries, 'a reply to a query that was sent').toBeDefined();
      checkReply(queries![0]!, reply);
    }
    await stillAnswers();
  });

  it('over TCP: garbage frames end the connection at worst', async () => {
    for (const [i, p] of packets(300, 2).entries()) {
      const socket = net.connect(dns.port, dns.address);
      const frame = Buffer.alloc(p.length + 2);
      // Every tenth frame lies about its length.
      frame.writeUInt16BE(i % 10 === 0 ? (p.length * 7) & 0xffff : p.length, 0);
      p.copy(frame, 2);
      socket.on('error', () => {});
      socket.end(frame);
      await new Promise<void>((resolve) => {
        socket.on('close', () => resolve());
        socket.on('data', () => {});
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
    }
    await stillAnswers();
  });

  it('through the query path directly: 100 000 packets, replies well-formed', async () => {
    const { createEngine } = await import('../agent/dns/engine.ts');
    const { networkList } = await import('../agent/dns/stages/acl-stage.ts');
    const { createDnsStats } = await import('../agent/dns/stats.ts');
    const { buildZone } = await import('../agent/dns/zone.ts');
    const errors: unknown[] = [];
    const engine = createEngine({
      zone: buildZone(
        { services: [], endpointSlices: [], pods: [], namespaces: [] },
        {
          domain: 'cluster.local',
          ttl: 5,
          pods: 'insecure',
          serial: 1,
          nameservers: ['10.96.0.53'],
        },
      ),
      stats: createDnsStats(),
      recursionAllowed: networkList(['private']),
      onError: (error) => errors.push(error),
    });
    for (const p of packets(100_000, 3)) {
      const reply = await engine.handle(p, 'udp', '127.0.0.1');
      if (reply !== null) checkReply(p, reply);
    }
    expect(errors).toEqual([]);
  });
});
