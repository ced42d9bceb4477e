// The whole query path of one worker, from packet to reply, with a real
// forwarder talking to a fake upstream on loopback.

import packet from 'dns-packet';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/model.ts';
import { createAnswerCache } from './answer-cache.ts';
import { createEngine, type Engine } from './engine.ts';
import { createForwarder, type Forwarder } from './forwarder.ts';
import { networkList } from './stages/acl-stage.ts';
import { createDnsStats, type DnsStats, QUERY_TYPES, RCODES } from './stats.ts';
import { type FakeUpstream, startFakeUpstream } from './testing/fake-upstream.ts';
import type { Transport } from './wire.ts';
import { buildZone } from './zone.ts';

const svc = (name: string, spec: Record<string, unknown>) =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'bar' },
    spec,
  }) as unknown as Service;

const zoneOf = (services: Service[], serial = 1) =>
  buildZone(
    { services, endpointSlices: [], pods: [], namespaces: [] },
    { domain: 'cluster.local', ttl: 5, pods: 'disabled', serial, nameservers: [] },
  );

const foo = svc('foo', {
  clusterIP: '10.96.0.10',
  clusterIPs: ['10.96.0.10'],
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
});
const ext = svc('ext', { type: 'ExternalName', externalName: 'www.example.com' });

const upstreamRecords = [
  'www.example.com. 300 IN A 93.184.216.34',
  'short.example.com. 10 IN A 192.0.2.10',
  'big.example.com. 60 IN TXT "' +
    'x'.repeat(250) +
    '" "' +
    'y'.repeat(250) +
    '" "' +
    'z'.repeat(250) +
    '"',
  'example.com. 60 IN SOA ns.example.com. admin.example.com. 1 3600 600 86400 30',
];

let upstream: FakeUpstream;
let clock = 1_000_000;
const now = () => clock;

beforeAll(async () => {
  upstream = await startFakeUpstream({ records: upstreamRecords });
});
afterAll(async () => {
  await upstream.close();
});

interface Setup {
  engine: Engine;
  stats: DnsStats;
  forwarder: Forwarder;
  errors: unknown[];
}

const setups: Setup[] = [];
function setup(
  extra: Partial<Parameters<typeof createEngine>[0]> = {},
  forwarderOptions: { maxConcurrent?: number; timeoutMs?: number } = {},
): Setup {
  const stats = createDnsStats();
  const errors: unknown[] = [];
  const forwarder = createForwarder({
    upstreams: [{ address: upstream.address, port: upstream.port }],
    timeoutMs: forwarderOptions.timeoutMs ?? 300,
    attempts: 2,
    maxConcurrent: forwarderOptions.maxConcurrent ?? 100,
    maxFails: 1,
    healthCheckMs: 50,
    stats,
  });
  const limits = {
    maxEntries: 1000,
    minTtl: 0,
    maxTtl: 3600,
    maxNegativeTtl: 300,
    staleSeconds: 3600,
  };
  const engine = createEngine({
    zone: zoneOf([foo, ext]),
    stats,
    recursionAllowed: networkList(['127.0.0.0/8', '::1/128']),
    forward: {
      forwarder,
      cache: createAnswerCache(limits),
      limits,
      prefetchHits: 2,
      prefetchPercent: 10,
    },
    onError: (error) => errors.push(error),
    now,
    ...extra,
  });
  const s = { engine, stats, forwarder, errors };
  setups.push(s);
  return s;
}
afterAll(async () => {
  for (const s of setups) await s.forwarder.close();
});

beforeEach(() => {
  upstream.setDown(false);
  upstream.setDelay(0);
  upstream.asked.length = 0;
});

function encodeQuery(name: string, type: packet.RecordType, edns?: number): Buffer {
  return packet.encode({
    type: 'query',
    id: 4321,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type, name }],
    ...(edns
      ? {
          additionals: [
            { type: 'OPT', name: '.', udpPayloadSize: edns } as unknown as packet.Answer,
          ],
        }
      : {}),
  });
}

async function ask(
  engine: Engine,
  name: string,
  type: packet.RecordType,
  { client = '127.0.0.1', transport = 'udp' as Transport, edns = 0 } = {},
) {
  const reply = await engine.handle(encodeQuery(name, type, edns), transport, client);
  if (reply === null) return null;
  return packet.decode(reply);
}

const rcode = (p: packet.Packet | null) => (p as unknown as { rcode: string }).rcode;
const lines = (p: packet.Packet | null) =>
  (p?.answers ?? []).map(
    (a) =>
      `${a.name} ${(a as { ttl?: number }).ttl} ${a.type} ${JSON.stringify((a as { data?: unknown }).data)}`,
  );

describe('engine', () => {
  it('runs its stages in the fixed order', () => {
    expect(setup().engine.stages).toEqual([
      'metrics',
      'errors',
      'acl',
      'kubernetes',
      'cache',
      'forward',
    ]);
    expect(setup({ rateLimit: { responsesPerSecond: 1, slip: 2 } }).engine.stages).toContain(
      'ratelimit',
    );
  });

  it('answers the cluster zone to anyone, authoritatively, echoing the case', async () => {
    const { engine } = setup();
    const r = await ask(engine, 'FOO.Bar.svc.Cluster.Local', 'A', { client: '203.0.113.9' });
    expect(r).toMatchObject({
      id: 4321,
      flag_aa: true,
      flag_ra: false,
      questions: [{ name: 'FOO.Bar.svc.Cluster.Local' }],
    });
    expect(lines(r)).toEqual(['FOO.Bar.svc.Cluster.Local 5 A "10.96.0.10"']);
    const again = await ask(engine, 'foo.bar.svc.cluster.local', 'A');
    expect(lines(again)).toEqual(['foo.bar.svc.cluster.local 5 A "10.96.0.10"']);
    expect(again?.flag_ra).toBe(true);
  });

  it('answers NXDOMAIN and NODATA with the SOA', async () => {
    const { engine } = setup();
    const nx = await ask(engine, 'nope.bar.svc.cluster.local', 'A');
    expect(rcode(nx)).toBe('NXDOMAIN');
    expect(nx?.authorities?.map((a) => a.type)).toEqual(['SOA']);
    const nodata = await ask(engine, 'foo.bar.svc.cluster.local', 'AAAA');
    expect(rcode(nodata)).toBe('NOERROR');
    expect(nodata?.answers).toEqual([]);
    expect(nodata?.authorities?.map((a) => a.type)).toEqual(['SOA']);
  });

  it('forgets answers of a replaced zone', async () => {
    const { engine } = setup();
    expect(lines(await ask(engine, 'foo.bar.svc.cluster.local', 'A'))).toHaveLength(1);
    engine.setZone(zoneOf([ext], 2));
    expect(rcode(await ask(engine, 'foo.bar.svc.cluster.local', 'A'))).toBe('NXDOMAIN');
    engine.setZone(
      zoneOf([svc('foo', { clusterIP: '10.96.0.99', clusterIPs: ['10.96.0.99'] })], 3),
    );
    expect(lines(await ask(engine, 'foo.bar.svc.cluster.local', 'A'))).toEqual([
      'foo.bar.svc.cluster.local 5 A "10.96.0.99"',
    ]);
  });

  it('never lets outsiders recurse: REFUSED, and RA clear', async () => {
    const { engine } = setup();
    const r = await ask(engine, 'www.example.com', 'A', { client: '203.0.113.9' });
    expect(rcode(r)).toBe('REFUSED');
    expect(r?.flag_ra).toBe(false);
    expect(upstream.asked).toEqual([]);
  });

  it('forwards, caches, and ages TTLs', async () => {
    const { engine, stats } = setup();
    const first = await ask(engine, 'WWW.example.com', 'A');
    expect(lines(first)).toEqual(['WWW.example.com 300 A "93.184.216.34"']);
    expect(first).toMatchObject({ flag_ra: true, flag_aa: false });
    clock += 10_000;
    const second = await ask(engine, 'www.example.com', 'A');
    expect(lines(second)).toEqual(['www.example.com 290 A "93.184.216.34"']);
    expect(upstream.asked).toEqual(['www.example.com A']);
    const snap = stats.snapshot();
    expect(snap.cache.slice(0, 2)).toEqual([1, 1]);
    expect(snap.queries[QUERY_TYPES.indexOf('A') * RCODES.length + RCODES.indexOf('NOERROR')]).toBe(
      2,
    );
    expect(snap.upstreams[`127.0.0.1:${upstream.port}`]?.count).toBe(1);
  });

  it('caches NXDOMAIN for the SOA negative TTL', async () => {
    const { engine } = setup();
    expect(rcode(await ask(engine, 'missing.example.com', 'A'))).toBe('NXDOMAIN');
    clock += 20_000;
    expect(rcode(await ask(engine, 'missing.example.com', 'A'))).toBe('NXDOMAIN');
    expect(upstream.asked).toEqual(['missing.example.com A']);
    clock += 20_000;
    await ask(engine, 'missing.example.com', 'A');
    expect(upstream.asked).toHaveLength(2);
  });

  it('asks upstream once for concurrent identical questions', async () => {
    const { engine } = setup();
    upstream.setDelay(30);
    const replies = await Promise.all(
      [1, 2, 3, 4].map(() => ask(engine, 'short.example.com', 'A')),
    );
    expect(replies.map(lines)).toEqual(new Array(4).fill(['short.example.com 10 A "192.0.2.10"']));
    expect(upstream.asked).toEqual(['short.example.com A']);
  });

  it('serves stale answers while upstreams fail, then recovers', async () => {
    const { engine, forwarder } = setup();
    await ask(engine, 'short.example.com', 'A');
    clock += 60_000;
    upstream.setDown(true);
    const stale = await ask(engine, 'short.example.com', 'A');
    expect(lines(stale)).toEqual(['short.example.com 30 A "192.0.2.10"']);
    expect(forwarder.available()).toBe(false);
    expect(rcode(await ask(engine, 'never-seen.example.com', 'A'))).toBe('SERVFAIL');
    upstream.setDown(false);
    await expect.poll(() => forwarder.available(), { timeout: 2000 }).toBe(true);
    expect(lines(await ask(engine, 'short.example.com', 'A'))).toEqual([
      'short.example.com 10 A "192.0.2.10"',
    ]);
  });

  it('prefetches a popular name before it expires', async () => {
    const { engine, stats } = setup();
    await ask(engine, 'short.example.com', 'A');
    clock += 9_500;
    await ask(engine, 'short.example.com', 'A');
    await ask(engine, 'short.example.com', 'A');
    await expect.poll(() => upstream.asked.length).toBe(2);
    expect(stats.snapshot().cache[3]).toBe(1);
    clock += 1_000;
    // The entry was replaced by the prefetched one: a hit, still no third question.
    expect(lines(await ask(engine, 'short.example.com', 'A'))).toEqual([
      'short.example.com 9 A "192.0.2.10"',
    ]);
    expect(upstream.asked).toHaveLength(2);
  });

  it('bounds the queries waiting on upstreams', async () => {
    const { engine } = setup({}, { maxConcurrent: 1 });
    upstream.setDelay(50);
    const [a, b] = await Promise.all([
      ask(engine, 'www.example.com', 'A'),
      ask(engine, 'short.example.com', 'A'),
    ]);
    expect([rcode(a), rcode(b)]).toEqual(['NOERROR', 'REFUSED']);
  });

  it('retries a truncated upstream answer over TCP, and truncates for small clients', async () => {
    const { engine } = setup();
    const big = await ask(engine, 'big.example.com', 'TXT', { edns: 1232 });
    expect(big?.flag_tc).toBe(false);
    expect(big?.answers).toHaveLength(1);
    expect(upstream.asked).toEqual(['big.example.com TXT']);
    const small = await ask(engine, 'big.example.com', 'TXT');
    expect(small?.flag_tc).toBe(true);
    const tcp = await ask(engine, 'big.example.com', 'TXT', { transport: 'tcp' });
    expect(tcp?.answers).toHaveLength(1);
  });

  it('resolves an ExternalName target for clients that may recurse', async () => {
    const { engine } = setup();
    const inside = await ask(engine, 'ext.bar.svc.cluster.local', 'A');
    expect(lines(inside)).toEqual([
      'ext.bar.svc.cluster.local 5 CNAME "www.example.com"',
      'www.example.com 300 A "93.184.216.34"',
    ]);
    const outside = await ask(engine, 'ext.bar.svc.cluster.local', 'A', { client: '203.0.113.9' });
    expect(lines(outside)).toEqual(['ext.bar.svc.cluster.local 5 CNAME "www.example.com"']);
  });

  it('refuses zone transfers and other classes; NOTIMP for MAILB', async () => {
    const { engine } = setup();
    expect(rcode(await ask(engine, 'cluster.local', 'AXFR'))).toBe('REFUSED');
    const chaos = packet.encode({
      type: 'query',
      id: 1,
      questions: [{ type: 'TXT', name: 'version.bind', class: 'CH' }],
    });
    expect(rcode(packet.decode((await engine.handle(chaos, 'udp', '127.0.0.1'))!))).toBe('REFUSED');
  });

  it('answers FORMERR, NOTIMP and BADVERS, and drops what cannot be answered', async () => {
    const { engine, stats } = setup();
    const two = packet.encode({
      type: 'query',
      id: 9,
      questions: [
        { type: 'A', name: 'a' },
        { type: 'A', name: 'b' },
      ],
    });
    expect(rcode(packet.decode((await engine.handle(two, 'udp', '127.0.0.1'))!))).toBe('FORMERR');
    const badvers = encodeQuery('foo.bar.svc.cluster.local', 'A', 1232);
    badvers[badvers.length - 5] = 1; // EDNS version
    const r = packet.decode((await engine.handle(badvers, 'udp', '127.0.0.1'))!);
    const opt = r.additionals?.[0] as unknown as { extendedRcode: number; type: string };
    expect(opt.type).toBe('OPT');
    expect(opt.extendedRcode).toBe(1);
    expect(await engine.handle(Buffer.from([1, 2, 3]), 'udp', '127.0.0.1')).toBeNull();
    expect(stats.snapshot().drops[0]).toBe(1);
  });

  it('limits UDP replies per client network, slipping every second one', async () => {
    let t = 0;
    const { engine } = setup({ rateLimit: { responsesPerSecond: 2, slip: 2 }, now: () => t });
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await ask(engine, 'foo.bar.svc.cluster.local', 'A', { client: '127.0.0.5' });
      outcomes.push(r === null ? 'drop' : r.flag_tc ? 'TC' : 'answer');
    }
    expect(outcomes).toEqual(['answer', 'answer', 'drop', 'TC', 'drop', 'TC']);
    expect(
      (await ask(engine, 'foo.bar.svc.cluster.local', 'A', { client: '127.0.1.5' }))?.answers,
    ).toHaveLength(1);
    expect(
      (
        await ask(engine, 'foo.bar.svc.cluster.local', 'A', {
          client: '127.0.0.5',
          transport: 'tcp',
        })
      )?.answers,
    ).toHaveLength(1);
    t += 1000;
    expect(
      (await ask(engine, 'foo.bar.svc.cluster.local', 'A', { client: '127.0.0.5' }))?.answers,
    ).toHaveLength(1);
  });
});
