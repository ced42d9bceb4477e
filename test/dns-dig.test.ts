// Cluster DNS answered to a real client: dig (bind9-dnsutils) against the
// server on loopback, for every record kind of the Kubernetes DNS
// specification, over UDP and TCP, with and without EDNS; forwarding to a
// fake upstream on loopback; freshness after Store changes; several
// workers sharing the port.

import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerDnsMetrics } from '../agent/dns/metrics.ts';
import { dig } from '../agent/dns/testing/dig.ts';
import { type FakeUpstream, startFakeUpstream } from '../agent/dns/testing/fake-upstream.ts';
import { endpointSlice, service, testCluster } from '../agent/dns/testing/objects.ts';
import { describeWith, toolsMissing } from '../agent/dns/testing/requirements.ts';
import { startTestDns, type TestDns } from '../agent/dns/testing/test-server.ts';
import { Kinds } from '../src/model/object.ts';

const SOA = 'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local.';

describeWith(toolsMissing(['dig']), 'cluster DNS through dig', () => {
  let upstream: FakeUpstream;
  let dns: TestDns;
  let workers: TestDns | undefined;
  let closed: TestDns | undefined;

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      records: [
        'www.example.com. 300 IN A 93.184.216.34',
        'example.org. 300 IN A 192.0.2.1',
        `big.example.org. 60 IN TXT "${'a'.repeat(200)}" "${'b'.repeat(200)}" "${'c'.repeat(200)}"`,
      ],
    });
    const forward = { enabled: true, upstreams: [`127.0.0.1:${upstream.port}`] };
    dns = await startTestDns(
      [
        ...testCluster(),
        service('bar', 'many', { headless: true }),
        endpointSlice(
          'bar',
          'many-1',
          'many',
          Array.from({ length: 40 }, (_, i) => ({ ip: `10.0.9.${i + 1}` })),
        ),
      ],
      { pods: 'verified', forward },
    );
  });
  afterAll(async () => {
    await dns?.close();
    await workers?.close();
    await closed?.close();
    await upstream?.close();
  });

  const server = () => ({ address: dns.address, port: dns.port });

  it.each([
    ['foo.bar.svc.cluster.local', 'A', ['foo.bar.svc.cluster.local. 5 IN A 10.96.0.10']],
    ['dual.bar.svc.cluster.local', 'A', ['dual.bar.svc.cluster.local. 5 IN A 10.96.0.20']],
    ['dual.bar.svc.cluster.local', 'AAAA', ['dual.bar.svc.cluster.local. 5 IN AAAA fd00:96::20']],
    [
      'db.bar.svc.cluster.local',
      'A',
      ['db.bar.svc.cluster.local. 5 IN A 10.0.1.5', 'db.bar.svc.cluster.local. 5 IN A 10.0.1.6'],
    ],
    ['db-0.db.bar.svc.cluster.local', 'A', ['db-0.db.bar.svc.cluster.local. 5 IN A 10.0.1.5']],
    [
      '10-0-1-6.db.bar.svc.cluster.local',
      'A',
      ['10-0-1-6.db.bar.svc.cluster.local. 5 IN A 10.0.1.6'],
    ],
    ['dns-version.cluster.local', 'TXT', ['dns-version.cluster.local. 5 IN TXT "1.1.0"']],
    ['10-0-3-3.quux.pod.cluster.local', 'A', ['10-0-3-3.quux.pod.cluster.local. 5 IN A 10.0.3.3']],
    [
      'ext.bar.svc.cluster.local',
      'CNAME',
      ['ext.bar.svc.cluster.local. 5 IN CNAME www.example.com.'],
    ],
  ])('%s %s', async (name, type, answer) => {
    const r = await dig(server(), [name, type]);
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(r.answer).toEqual(answer);
  });

  it('SRV for a named port, with the target addresses in the additional section', async () => {
    const r = await dig(server(), ['_http._tcp.foo.bar.svc.cluster.local', 'SRV']);
    expect(r.answer).toEqual([
      '_http._tcp.foo.bar.svc.cluster.local. 5 IN SRV 0 100 80 foo.bar.svc.cluster.local.',
    ]);
    expect(r.additional).toEqual(['foo.bar.svc.cluster.local. 5 IN A 10.96.0.10']);
    const headless = await dig(server(), ['_pg._tcp.db.bar.svc.cluster.local', 'SRV']);
    expect(headless.answer).toEqual([
      '_pg._tcp.db.bar.svc.cluster.local. 5 IN SRV 0 50 5432 db-0.db.bar.svc.cluster.local.',
      '_pg._tcp.db.bar.svc.cluster.local. 5 IN SRV 0 50 5432 10-0-1-6.db.bar.svc.cluster.local.',
    ]);
    expect(headless.additional).toEqual([
      'db-0.db.bar.svc.cluster.local. 5 IN A 10.0.1.5',
      '10-0-1-6.db.bar.svc.cluster.local. 5 IN A 10.0.1.6',
    ]);
  });

  it('PTR for Service and endpoint addresses, IPv4 and IPv6', async () => {
    expect((await dig(server(), ['-x', '10.96.0.10'])).answer).toEqual([
      '10.0.96.10.in-addr.arpa. 5 IN PTR foo.bar.svc.cluster.local.',
    ]);
    expect((await dig(server(), ['-x', '10.0.1.5'])).answer).toEqual([
      '5.1.0.10.in-addr.arpa. 5 IN PTR db-0.db.bar.svc.cluster.local.',
    ]);
    const v6 = await dig(server(), ['-x', 'fd00:96::20']);
    expect(v6.answer).toEqual([
      '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual.bar.svc.cluster.local.',
    ]);
  });

  it('ExternalName: the CNAME, with its target resolved', async () => {
    const r = await dig(server(), ['ext.bar.svc.cluster.local', 'A']);
    expect(r.answer).toEqual([
      'ext.bar.svc.cluster.local. 5 IN CNAME www.example.com.',
      'www.example.com. 300 IN A 93.184.216.34',
    ]);
  });

  it('NXDOMAIN and NODATA carry the SOA; empty non-terminals exist', async () => {
    const nx = await dig(server(), ['nope.bar.svc.cluster.local', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.answer).toEqual([]);
    expect(nx.authority[0]).toMatch(
      new RegExp(`^${SOA.replaceAll('.', '\\.')} \\d+ 7200 1800 86400 5$`),
    );
    for (const [name, type] of [
      ['foo.bar.svc.cluster.local', 'AAAA'],
      ['bar.svc.cluster.local', 'A'],
      ['_tcp.foo.bar.svc.cluster.local', 'SRV'],
    ] as const) {
      const r = await dig(server(), [name, type]);
      expect([r.status, r.answer, r.authority.length], `${name} ${type}`).toEqual([
        'NOERROR',
        [],
        1,
      ]);
      expect(r.authority[0]).toContain(SOA);
    }
  });

  it("echoes the query's case", async () => {
    const r = await dig(server(), ['FOO.Bar.SVC.cluster.LOCAL', 'A']);
    expect(r.question).toBe('FOO.Bar.SVC.cluster.LOCAL. IN A');
    expect(r.answer).toEqual(['FOO.Bar.SVC.cluster.LOCAL. 5 IN A 10.96.0.10']);
  });

  it('over TCP, and EDNS with our buffer size', async () => {
    const tcp = await dig(server(), ['+tcp', 'foo.bar.svc.cluster.local', 'A']);
    expect(tcp.answer).toEqual(['foo.bar.svc.cluster.local. 5 IN A 10.96.0.10']);
    const edns = await dig(server(), ['+bufsize=4096', 'foo.bar.svc.cluster.local', 'A']);
    expect(edns.ednsUdp).toBe(1232);
  });

  it('truncates over UDP what does not fit 512 bytes without EDNS; dig then retries over TCP', async () => {
    const cut = await dig(server(), ['+noedns', '+ignore', 'many.bar.svc.cluster.local', 'A']);
    expect(cut.flags).toContain('tc');
    expect(cut.answer).toEqual([]);
    const retried = await dig(server(), ['+noedns', 'many.bar.svc.cluster.local', 'A']);
    expect(retried.answer).toHaveLength(40);
    const edns = await dig(server(), ['many.bar.svc.cluster.local', 'A']);
    expect(edns.flags).not.toContain('tc');
    expect(edns.answer).toHaveLength(40);
  });

  it('answers pipelined queries on one TCP connection', async () => {
    const socket = net.connect(dns.port, dns.address);
    const names = [
      'foo.bar.svc.cluster.local',
      'dual.bar.svc.cluster.local',
      'db.bar.svc.cluster.local',
    ];
    const frames = names.map((name, i) => {
      const q = packet.encode({ type: 'query', id: 100 + i, questions: [{ type: 'A', name }] });
      const f = Buffer.alloc(q.length + 2);
      f.writeUInt16BE(q.length, 0);
      q.copy(f, 2);
      return f;
    });
    socket.write(Buffer.concat(frames));
    const replies = await new Promise<packet.Packet[]>((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      const out: packet.Packet[] = [];
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          out.push(packet.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
          buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        }
        if (out.length === names.length) resolve(out);
      });
    });
    socket.destroy();
    expect(replies.map((r) => [r.id, r.answers?.length])).toEqual([
      [100, 1],
      [101, 1],
      [102, 2],
    ]);
  });

  it('answers 2000 pipelined queries on one TCP connection, read only after all were sent', async () => {
    const socket = net.connect(dns.port, dns.address);
    socket.pause();
    const frames: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const q = packet.encode({
        type: 'query',
        id: i,
        questions: [{ type: 'A', name: 'foo.bar.svc.cluster.local' }],
      });
      const f = Buffer.alloc(q.length + 2);
      f.writeUInt16BE(q.length, 0);
      q.copy(f, 2);
      frames.push(f);
    }
    socket.write(Buffer.concat(frames));
    await new Promise((r) => setTimeout(r, 200));
    const ids = await new Promise<number[]>((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      const seen: number[] = [];
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          seen.push(buffered.readUInt16BE(2));
          buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        }
        if (seen.length === 2000) resolve(seen);
      });
      socket.resume();
    });
    socket.destroy();
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('forwards other names to the upstream, through the cache', async () => {
    upstream.asked.length = 0;
    const first = await dig(server(), ['example.org', 'A']);
    expect(first.answer).toEqual(['example.org. 300 IN A 192.0.2.1']);
    expect(first.flags).toContain('ra');
    expect(first.flags).not.toContain('aa');
    await dig(server(), ['EXAMPLE.org', 'A']);
    expect(upstream.asked).toEqual(['example.org A']);
    const nx = await dig(server(), ['missing.example.org', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
  });

  it('asks over TCP when the upstream truncates, and answers in full', async () => {
    const r = await dig(server(), ['big.example.org', 'TXT']);
    expect(r.answer).toHaveLength(1);
    expect(r.answer[0]).toContain('"ccc');
  });

  it('shows a new Service within 100 ms of the Store write; never a stale one after delete and create', async () => {
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    let id = 0;
    const ask = (name: string) =>
      new Promise<string[]>((resolve) => {
        const qid = ++id & 0xffff;
        const onMessage = (msg: Buffer) => {
          const p = packet.decode(msg);
          if (p.id !== qid) return;
          client.off('message', onMessage);
          resolve((p.answers ?? []).map((a) => String((a as { data: unknown }).data)));
        };
        client.on('message', onMessage);
        client.send(
          packet.encode({ type: 'query', id: qid, questions: [{ type: 'A', name }] }),
          dns.port,
          dns.address,
        );
      });
    const until = async (name: string, want: string) => {
      const started = performance.now();
      for (;;) {
        const answers = await ask(name);
        if (answers.includes(want)) return { ms: performance.now() - started, answers };
        if (performance.now() - started > 2000) throw new Error(`${name} never answered ${want}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    try {
      expect(await ask('fresh.bar.svc.cluster.local')).toEqual([]);
      await dns.store.apply(service('bar', 'fresh', { clusterIPs: ['10.96.7.1'] }));
      const created = await until('fresh.bar.svc.cluster.local', '10.96.7.1');
      expect(created.ms).toBeLessThan(100);

      await dns.store.delete({ kind: Kinds.Service, namespace: 'bar', name: 'fresh' });
      await dns.store.apply(service('bar', 'fresh', { clusterIPs: ['10.96.7.2'] }));
      const recreated = await until('fresh.bar.svc.cluster.local', '10.96.7.2');
      expect(recreated.answers).toEqual(['10.96.7.2']);
      expect(recreated.ms).toBeLessThan(100);
      // Once the new address shows, the old one never comes back.
      for (let i = 0; i < 20; i++)
        expect(await ask('fresh.bar.svc.cluster.local')).toEqual(['10.96.7.2']);

      await dns.store.apply(endpointSlice('bar', 'db-2', 'db', [{ ip: '10.0.1.8' }]));
      expect((await until('db.bar.svc.cluster.local', '10.0.1.8')).ms).toBeLessThan(100);
    } finally {
      client.close();
    }
  });

  it('never resolves outside names for clients outside the allowed networks', async () => {
    closed = await startTestDns(testCluster(), {
      forward: {
        enabled: true,
        upstreams: [`127.0.0.1:${upstream.port}`],
        allowedNetworks: ['10.0.0.0/8'],
      },
    });
    const r = await dig({ address: closed.address, port: closed.port }, ['example.org', 'A']);
    expect(r.status).toBe('REFUSED');
    expect(r.flags).not.toContain('ra');
    const inside = await dig({ address: closed.address, port: closed.port }, [
      'foo.bar.svc.cluster.local',
      'A',
    ]);
    expect(inside.answer).toEqual(['foo.bar.svc.cluster.local. 5 IN A 10.96.0.10']);
  });

  it('runs several workers on one port (SO_REUSEPORT) and sums their counters', async () => {
    workers = await startTestDns(testCluster(), { workers: 2 });
    const at = { address: workers.address, port: workers.port };
    for (let i = 0; i < 20; i++) {
      expect((await dig(at, ['foo.bar.svc.cluster.local', 'A'])).answer).toEqual([
        'foo.bar.svc.cluster.local. 5 IN A 10.96.0.10',
      ]);
    }
    expect((await dig(at, ['+tcp', 'nope.bar.svc.cluster.local', 'A'])).status).toBe('NXDOMAIN');
    await workers.store.apply(service('bar', 'late', { clusterIPs: ['10.96.8.8'] }));
    await expect
      .poll(async () => (await dig(at, ['late.bar.svc.cluster.local', 'A'])).answer, {
        timeout: 2000,
      })
      .toEqual(['late.bar.svc.cluster.local. 5 IN A 10.96.8.8']);
    const registry = new Registry();
    registerDnsMetrics(registry, () => workers!.server.stats());
    const text = await registry.metrics();
    const noerror = /pier_dns_queries_total\{type="A",rcode="NOERROR"\} (\d+)/.exec(text);
    expect(Number(noerror?.[1])).toBeGreaterThanOrEqual(21);
    expect(text).toMatch(/pier_dns_queries_total\{type="A",rcode="NXDOMAIN"\} 1/);
  });
});
