// Two `pier start` processes with the Kubernetes source on one Redis: only
// the elected one talks to the API server and writes; the other stands by,
// takes over within the lease when the leader is killed, and hands back at
// once when it stops cleanly (it releases the lease). Real processes, the
// real CLI wiring (kubernetes.* settings), a real redis-server, the fake API
// server on loopback, each process with its own token so the fake can tell
// who asked.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeRef, Kinds, refOf } from '../src/model/object.ts';
import { SOURCE_ANNOTATION } from '../src/sources/manifests/source.ts';
import { createRedisStore } from '../src/store/redis.ts';
import type { Store } from '../src/store.ts';
import { type FakeApiServer, startFakeApiServer } from './support/fake-apiserver.ts';
import { CLUSTER_FIXTURES, FIXTURE_KEYS } from './support/fake-apiserver-fixtures.ts';
import { describeWithRedis } from './support/redis-server.ts';

const LEASE_SECONDS = 2;
const RENEW_SECONDS = 0.4;

interface Pier {
  child: ChildProcess;
  pid: number;
  token: string;
  admin: string;
  output(): string;
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWithRedis('kubernetes source: one elected writer among processes', (redis) => {
  let api: FakeApiServer;
  let store: Store;
  let emptyDir: string;
  const cluster = `leader-${process.pid}`;
  const piers: Pier[] = [];

  beforeAll(async () => {
    api = await startFakeApiServer();
    for (const object of CLUSTER_FIXTURES) api.create(structuredClone(object));
    store = createRedisStore({ url: redis().url, cluster });
    emptyDir = mkdtempSync(join(tmpdir(), 'pier-leader-manifests-'));
  });

  afterEach(async () => {
    // Nothing a test started outlives it, also when it failed.
    await Promise.all(
      piers.splice(0).map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGKILL');
        await once(p.child, 'exit');
      }),
    );
  });

  afterAll(async () => {
    await store?.close();
    await api?.close();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  async function startPier(token: string): Promise<Pier> {
    const child = spawn(
      process.execPath,
      [
        'bin/pier.ts',
        'start',
        '--no-demo-backends',
        '--dns.enabled=false',
        '--admin.address',
        '127.0.0.1:0',
        '--store.url',
        redis().url,
        '--store.cluster',
        cluster,
        '--manifests.path',
        emptyDir,
        '--manifests.watch=false',
        '--kubernetes.enabled',
        '--kubernetes.kubeconfig',
        api.kubeconfigFor(token),
        '--kubernetes.lease-seconds',
        String(LEASE_SECONDS),
        '--kubernetes.renew-seconds',
        String(RENEW_SECONDS),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      output += c;
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      output += c;
    });
    const pier: Pier = { child, pid: child.pid ?? 0, token, admin: '', output: () => output };
    piers.push(pier);
    await until(
      () => {
        if (child.exitCode !== null)
          throw new Error(`pier start exited with ${child.exitCode}:\n${output}`);
        const match = /admin: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match === null || !output.includes('Stop with Ctrl-C')) return false;
        pier.admin = match[1]!;
        return true;
      },
      'pier start to come up',
      30_000,
    );
    return pier;
  }

  const holder = async () =>
    (
      (await store.get({ kind: Kinds.Lease, name: 'kubernetes-source' })) as unknown as
        | { spec: { holderIdentity: string } }
        | undefined
    )?.spec.holderIdentity ?? '';
  const holds = async (p: Pier) => (await holder()).includes(`/${p.pid}/`);
  const askedBy = (p: Pier) => api.requests.filter((r) => r.token === p.token).length;

  async function owned(): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    for (const kind of new Set(FIXTURE_KEYS.map((k) => k.split(' ')[0]!))) {
      for (const item of (await store.list(kind)).items) {
        if (item.metadata.annotations?.[SOURCE_ANNOTATION] === 'kubernetes') {
          out.set(describeRef(refOf(item)), item.metadata.resourceVersion);
        }
      }
    }
    return out;
  }
  const hasKeys = async (keys: readonly string[]) => {
    const have = await owned();
    return keys.every((k) => have.has(k));
  };

  it('only the leader reads and writes; the follower takes over within the lease when it is killed', async () => {
    const a = await startPier('token-a');
    await until(() => holds(a), 'a to hold the lease');
    await until(() => hasKeys(FIXTURE_KEYS), 'a to write the cluster');
    expect((await fetch(`${a.admin}/readyz`)).status).toBe(200);

    const b = await startPier('token-b');
    const before = await owned();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await holds(a)).toBe(true);
    // b never asked the API server for anything, so it cannot have written a thing.
    expect(askedBy(b)).toBe(0);
    expect(askedBy(a)).toBeGreaterThan(0);
    expect((await fetch(`${b.admin}/readyz`)).status).toBe(200);

    api.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'shop', name: 'by-a' },
      spec: { ports: [{ port: 1 }] },
    });
    await until(() => hasKeys(['Service shop/by-a']), 'a to write a new Service');
    expect(askedBy(b)).toBe(0);

    // The leader dies without a word: b waits out the lease, then takes over.
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await once(a.child, 'exit');
    api.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'shop', name: 'by-b' },
      spec: { ports: [{ port: 2 }] },
    });
    await until(() => holds(b), 'b to take the lease', 10_000);
    const tookOver = Date.now() - killedAt;
    await until(() => hasKeys(['Service shop/by-b']), 'b to write what changed meanwhile');
    expect(tookOver).toBeLessThan((LEASE_SECONDS + 2 * RENEW_SECONDS) * 1000 + 500);
    expect(askedBy(b)).toBeGreaterThan(0);

    // b relisted on taking over, and rewrote nothing that had not changed.
    const after = await owned();
    for (const [key, revision] of before) expect(after.get(key), key).toBe(revision);
  });

  it('a leader that stops cleanly releases the lease, and a follower takes it at once', async () => {
    const a = await startPier('token-c');
    await until(() => holds(a), 'a to hold the lease');
    const b = await startPier('token-d');
    await new Promise((r) => setTimeout(r, 500));
    expect(await holds(a)).toBe(true);

    a.child.kill('SIGTERM');
    const stoppedAt = Date.now();
    const [code] = await once(a.child, 'exit');
    expect(code).toBe(0);
    await until(() => holds(b), 'b to take the released lease', 10_000);
    // Released: b takes it at its next look, well before the lease would have run out.
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_SECONDS * 1000);
    expect(a.output()).toContain('released the lease');
  });
});
