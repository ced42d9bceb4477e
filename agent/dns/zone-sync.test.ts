// Record, then sync: changes name the fragments to recompute; one rebuild on
// the next turn recomputes them from the view and reports the names whose
// answers changed. The view here is the workers' object mirror.

import { describe, expect, it } from 'vitest';
import { createObjectMirror } from './object-mirror.ts';
import { createDnsStats } from './stats.ts';
import { endpointSlice, namespace, pod, service } from './testing/objects.ts';
import { RRType } from './wire.ts';
import { createZoneSync, type ObjectChange } from './zone-sync.ts';

function setup(pods: 'disabled' | 'verified' = 'disabled') {
  const view = createObjectMirror();
  const changed: (Set<string> | 'all')[] = [];
  const problems: string[][] = [];
  const sync = createZoneSync({
    view,
    zone: { domain: 'cluster.local', ttl: 5, pods, serial: 1, nameservers: [] },
    changed: (names) => changed.push(names),
    minIntervalMs: 0,
    stats: createDnsStats(),
    onProblems: (p) => problems.push(p),
  });
  const apply = (changes: ObjectChange[]) => {
    view.apply(changes, false);
    sync.record(changes);
  };
  const addresses = (name: string) =>
    (sync.zone.nodes.get(name)?.rrsets.get(RRType.A) ?? []).map((r) => r.data as string).sort();
  return { view, sync, changed, problems, apply, addresses };
}

describe('zone sync', () => {
  it('rebuilds on the next turn after a change, reporting the changed names', async () => {
    const { apply, addresses, changed } = setup();
    changed.length = 0;
    apply([{ type: 'added', object: service('bar', 'foo', { clusterIPs: ['10.96.0.10'] }) }]);
    expect(addresses('foo.bar.svc.cluster.local.')).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(addresses('foo.bar.svc.cluster.local.')).toEqual(['10.96.0.10']);
    expect(changed).toHaveLength(1);
    expect([...(changed[0] as Set<string>)].sort()).toEqual([
      '10.0.96.10.in-addr.arpa.',
      'bar.svc.cluster.local.',
      'foo.bar.svc.cluster.local.',
    ]);
  });

  it('coalesces a burst into one rebuild', async () => {
    const { apply, changed } = setup();
    changed.length = 0;
    for (let i = 0; i < 50; i++)
      apply([{ type: 'added', object: service('bar', `s${i}`, { clusterIPs: [`10.96.1.${i}`] }) }]);
    await new Promise((r) => setImmediate(r));
    expect(changed).toHaveLength(1);
  });

  it('follows an EndpointSlice to its Service, also when its label moves to another', () => {
    const { apply, sync, addresses } = setup();
    apply([
      { type: 'added', object: service('bar', 'a', { headless: true }) },
      { type: 'added', object: service('bar', 'b', { headless: true }) },
    ]);
    const slice = endpointSlice('bar', 's1', 'a', [{ ip: '10.0.0.1' }]);
    apply([{ type: 'added', object: slice }]);
    sync.flush();
    expect(addresses('a.bar.svc.cluster.local.')).toEqual(['10.0.0.1']);
    const moved = endpointSlice('bar', 's1', 'b', [{ ip: '10.0.0.1' }]);
    apply([{ type: 'modified', object: moved, previous: slice }]);
    sync.flush();
    expect(addresses('a.bar.svc.cluster.local.')).toEqual([]);
    expect(addresses('b.bar.svc.cluster.local.')).toEqual(['10.0.0.1']);
  });

  it('puts a pod under the headless Service its subdomain names; verified pod records', () => {
    const { apply, sync, addresses } = setup('verified');
    apply([
      { type: 'added', object: service('bar', 'db', { headless: true }) },
      {
        type: 'added',
        object: pod('bar', 'db-0', ['10.0.1.5'], { hostname: 'db-0', subdomain: 'db' }),
      },
    ]);
    sync.flush();
    expect(addresses('db-0.db.bar.svc.cluster.local.')).toEqual(['10.0.1.5']);
    expect(addresses('10-0-1-5.bar.pod.cluster.local.')).toEqual(['10.0.1.5']);
    apply([
      {
        type: 'deleted',
        object: pod('bar', 'db-0', ['10.0.1.5'], { hostname: 'db-0', subdomain: 'db' }),
      },
    ]);
    sync.flush();
    expect(sync.zone.nodes.has('db-0.db.bar.svc.cluster.local.')).toBe(false);
    expect(sync.zone.nodes.has('10-0-1-5.bar.pod.cluster.local.')).toBe(false);
  });

  it('removes what a deleted object held, and keeps namespaces that exist', () => {
    const { apply, sync } = setup();
    apply([
      { type: 'added', object: namespace('bar') },
      { type: 'added', object: service('bar', 'foo', { clusterIPs: ['10.96.0.10'] }) },
    ]);
    sync.flush();
    apply([{ type: 'deleted', object: service('bar', 'foo', { clusterIPs: ['10.96.0.10'] }) }]);
    sync.flush();
    expect(sync.zone.nodes.has('foo.bar.svc.cluster.local.')).toBe(false);
    expect(sync.zone.nodes.has('10.0.96.10.in-addr.arpa.')).toBe(false);
    expect(sync.zone.nodes.has('bar.svc.cluster.local.')).toBe(true);
  });

  it('reports objects it leaves out, once per change of that list', () => {
    const { apply, sync, problems } = setup();
    const broken = service('bar', 'ext', { externalName: '' });
    (broken as unknown as { spec: { type: string } }).spec.type = 'ExternalName';
    apply([{ type: 'added', object: broken }]);
    sync.flush();
    apply([{ type: 'added', object: service('bar', 'ok', { clusterIPs: ['10.96.0.1'] }) }]);
    sync.flush();
    expect(problems).toEqual([['svc/bar/ext: is an ExternalName Service without externalName']]);
  });

  it('recomputes everything after the view was replaced', () => {
    const { view, sync, addresses, changed } = setup();
    view.apply(
      [{ type: 'added', object: service('bar', 'foo', { clusterIPs: ['10.96.0.10'] }) }],
      true,
    );
    sync.recordAll();
    sync.flush();
    expect(addresses('foo.bar.svc.cluster.local.')).toEqual(['10.96.0.10']);
    view.apply(
      [{ type: 'added', object: service('bar', 'other', { clusterIPs: ['10.96.0.11'] }) }],
      true,
    );
    sync.recordAll();
    sync.flush();
    expect(sync.zone.nodes.has('foo.bar.svc.cluster.local.')).toBe(false);
    expect(addresses('other.bar.svc.cluster.local.')).toEqual(['10.96.0.11']);
    expect(changed.at(-1)).toBe('all');
  });
});
