// The Service proxy on the simulated 3-node cluster of the pod network
// (test/support/netns-cluster.ts): real `pier agent`s (pod network and
// Service proxy), one real Redis, pods started through the real pier-cni.
// Services and EndpointSlices are written into that Redis from inside the
// underlay namespace (the only place it is reachable), as a Kubernetes source
// would write them.
//
//   pod n1a (node-1) -> ClusterIP 10.96.0.10:80 -> pods n2a (node-2), n3a (node-3)
//
// Shown, not assumed: the backend sees the client pod's own address; the
// connections spread over both endpoints; an endpoint taken out gets no new
// connection; node-1's own processes reach the ClusterIP; the NodePort
// answers from the underlay; a pod reaching itself through its Service.

import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { service, slice } from '../agent/service-proxy/testing/objects.ts';
import {
  type Probe,
  type ProbeResult,
  startProbe,
} from '../agent/service-proxy/testing/probe-client.ts';
import { createNetnsScope, type NetnsScope, netnsRequirementsMissing } from './support/netns.ts';
import { type Cluster, createCluster, type Pod } from './support/netns-cluster.ts';

const missing = netnsRequirementsMissing({ tools: ['redis-server', 'redis-cli', 'conntrack'] });
if (missing !== undefined && process.env.CI !== 'true') {
  console.warn(`service proxy cluster tests skipped: ${missing}`);
}
const WRITER = new URL('../agent/service-proxy/testing/store-writer.ts', import.meta.url).pathname;

const seen = (r: ProbeResult) => ('seenBy' in r ? r.seenBy.local : r.error);
const remote = (r: ProbeResult) => ('seenBy' in r ? r.seenBy.remote : r.error);

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A Store writer process inside the underlay namespace. */
async function startWriter(scope: NetnsScope, ns: string, url: string, cluster: string) {
  const child: ChildProcess = scope.spawn(ns, [process.execPath, WRITER, url, cluster]);
  const waiting = new Map<number, (a: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const answer = JSON.parse(line) as { id: number } & Record<string, unknown>;
    waiting.get(answer.id)?.(answer);
    waiting.delete(answer.id);
  });
  await new Promise<void>((resolve, reject) => {
    waiting.set(0, () => resolve());
    child.once('exit', (code) => reject(new Error(`store writer exited ${code}: ${stderr}`)));
  });
  let next = 1;
  return {
    async apply(object: unknown) {
      const id = next++;
      const answer = await new Promise<Record<string, unknown>>((resolve) => {
        waiting.set(id, resolve);
        child.stdin!.write(`${JSON.stringify({ id, op: 'apply', object })}\n`);
      });
      if (answer.error !== undefined) throw new Error(`store writer: ${answer.error}`);
    },
    stop: () => child.kill('SIGKILL'),
  };
}

describe
  .skipIf(missing !== undefined && process.env.CI !== 'true')
  .each(['host-gw', 'vxlan'] as const)(
  'Services on a 3-node cluster with the %s backend',
  (backend) => {
    let scope: NetnsScope;
    let cluster: Cluster;
    let writer: Awaited<ReturnType<typeof startWriter>>;
    const probes = new Map<string, Probe>();
    const pods = new Map<string, Pod>();
    const probe = (ns: string) => probes.get(ns) as Probe;
    const ip = (pod: string) => (pods.get(pod) as Pod).ip;

    beforeAll(async () => {
      if (missing !== undefined) throw new Error(`service proxy cluster tests need ${missing}`);
      scope = createNetnsScope(backend === 'vxlan' ? 'spv' : 'sph');
      cluster = await createCluster({ scope, nodes: 3, backend, storeCluster: `sp-${backend}` });
      await Promise.all(cluster.nodes.map((node) => node.start()));
      for (const node of cluster.nodes) {
        const pod = await node.addPod(`${node.short}a`);
        pods.set(pod.ns, pod);
      }
      for (const ns of [...pods.keys(), 'n1', cluster.underlay]) {
        probes.set(ns, await startProbe((argv) => scope.spawn(ns, argv), ns));
      }
      for (const pod of pods.keys()) await probe(pod).listen('tcp', 8080);
      writer = await startWriter(scope, cluster.underlay, cluster.redis.url, `sp-${backend}`);
      await writer.apply(
        service('web', {
          type: 'NodePort',
          clusterIP: '10.96.0.10',
          ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }],
        }),
      );
      await writer.apply(
        slice('web', [`${ip('n2a')} node-2`, `${ip('n3a')} node-3`], [{ port: 8080 }]),
      );
      await writer.apply(
        service('self', { clusterIP: '10.96.0.11', ports: [{ port: 80, targetPort: 8080 }] }),
      );
      await writer.apply(slice('self', [`${ip('n2a')} node-2`], [{ port: 8080 }]));
    }, 120_000);

    afterAll(async () => {
      writer?.stop();
      for (const p of probes.values()) p.stop();
      await cluster?.stop();
      await scope?.cleanup();
    }, 60_000);

    it('takes a pod to endpoints on two other nodes, spread, and without NAT', async () => {
      await until(
        'the ClusterIP to answer',
        () => probe('n1a').tcp('10.96.0.10', 80),
        (r) => 'seenBy' in r,
      );
      const results = await Promise.all(
        Array.from({ length: 40 }, () => probe('n1a').tcp('10.96.0.10', 80)),
      );
      expect(new Set(results.map(seen))).toEqual(new Set([ip('n2a'), ip('n3a')]));
      expect(new Set(results.map(remote))).toEqual(new Set([ip('n1a')]));
    });

    it('sends no new connection to an endpoint taken out', async () => {
      await writer.apply(slice('web', [`${ip('n3a')} node-3`], [{ port: 8080 }]));
      await until(
        'node-2’s endpoint to be gone',
        () => Promise.all(Array.from({ length: 20 }, () => probe('n1a').tcp('10.96.0.10', 80))),
        (rs) => rs.every((r) => seen(r) === ip('n3a')),
      );
      await writer.apply(
        slice('web', [`${ip('n2a')} node-2`, `${ip('n3a')} node-3`], [{ port: 8080 }]),
      );
      await until(
        'node-2’s endpoint to be back',
        () => Promise.all(Array.from({ length: 20 }, () => probe('n1a').tcp('10.96.0.10', 80))),
        (rs) => rs.some((r) => seen(r) === ip('n2a')),
      );
    });

    it('lets a node’s own processes reach the ClusterIP', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () => probe('n1').tcp('10.96.0.10', 80)),
      );
      for (const r of results) expect([ip('n2a'), ip('n3a')]).toContain(seen(r));
    });

    it('answers the NodePort from the underlay network', async () => {
      for (const node of cluster.nodes) {
        const r = await probe(cluster.underlay).tcp(node.ip, 30080);
        expect([ip('n2a'), ip('n3a')]).toContain(seen(r));
      }
    });

    it('lets a pod reach itself through its Service', async () => {
      const r = await until(
        'the hairpin Service',
        () => probe('n2a').tcp('10.96.0.11', 80),
        (x) => 'seenBy' in x,
      );
      expect(seen(r)).toBe(ip('n2a'));
      // Masqueraded to its node's bridge address, or the reply would never come back through the node.
      expect(remote(r)).not.toBe(ip('n2a'));
    });
  },
);
