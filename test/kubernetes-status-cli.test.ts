// The CLI wiring of status write-back (src/cli/runtime.ts): a process that
// leads the Kubernetes source writes Gateway API status whether or not it is
// a gateway (here `pier dns`), and gateway.writeStatus=false turns it off.
// A real `pier` process, the fake API server on loopback.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './support/fake-apiserver.ts';
import { CLUSTER_FIXTURES } from './support/fake-apiserver-fixtures.ts';

const GW = 'gateway.networking.k8s.io';

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let api: FakeApiServer;
const children: ChildProcess[] = [];
const emptyDir = mkdtempSync(join(tmpdir(), 'pier-status-cli-'));

beforeEach(async () => {
  api = await startFakeApiServer();
  for (const object of CLUSTER_FIXTURES) api.create(structuredClone(object));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  await api.close();
});

afterAll(() => {
  rmSync(emptyDir, { recursive: true, force: true });
});

function startDns(extra: string[]): { output(): string } {
  const child = spawn(
    process.execPath,
    [
      'bin/pier.ts',
      'dns',
      '--dns.listen',
      '127.0.0.1:0',
      '--admin.address',
      '127.0.0.1:0',
      '--store.url',
      'memory:',
      '--manifests.path',
      emptyDir,
      '--manifests.watch=false',
      '--kubernetes.enabled',
      '--kubernetes.kubeconfig',
      api.kubeconfig,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  return { output: () => output };
}

const patches = () => api.requests.filter((r) => r.method === 'PATCH');
const statusOf = (kind: string, namespace: string | undefined, name: string) =>
  (api.get(GW, kind, namespace, name) as { status?: Record<string, unknown> } | undefined)?.status;

it('`pier dns` leading the source writes the Gateway API status', async () => {
  const pier = startDns([]);
  await until(
    () =>
      statusOf('GatewayClass', undefined, 'pier') !== undefined &&
      statusOf('Gateway', 'shop', 'edge') !== undefined &&
      statusOf('HTTPRoute', 'shop', 'web') !== undefined,
    `status on the fixtures (output so far:\n${pier.output()})`,
  );
  expect(statusOf('Gateway', 'shop', 'edge')).toMatchObject({
    conditions: [
      { type: 'Accepted', status: 'True' },
      { type: 'Programmed', status: 'True' },
    ],
    listeners: [{ name: 'http', attachedRoutes: 1 }],
  });
  expect(statusOf('HTTPRoute', 'shop', 'web')).toMatchObject({
    parents: [{ controllerName: 'pier.dev/gateway', parentRef: { name: 'edge' } }],
  });
  expect(patches().every((r) => r.status === 200)).toBe(true);
  // No address to publish was configured: the Ingress's status is left alone.
  expect(api.get('networking.k8s.io', 'Ingress', 'shop', 'web')).not.toHaveProperty('status');
});

it('gateway.ingress.statusAddress: the Ingresses Pier serves get it in status.loadBalancer', async () => {
  const pier = startDns(['--gateway.ingress.status-address', '192.0.2.10']);
  const ingressStatus = () =>
    (api.get('networking.k8s.io', 'Ingress', 'shop', 'web') as { status?: unknown } | undefined)
      ?.status;
  await until(
    () => ingressStatus() !== undefined,
    `the Ingress status (output so far:\n${pier.output()})`,
  );
  expect(ingressStatus()).toEqual({ loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } });
});

it('gateway.writeStatus=false: the leader reads the cluster and writes no status', async () => {
  const pier = startDns(['--gateway.write-status=false']);
  await until(
    () => pier.output().includes('Stop with Ctrl-C'),
    `pier dns to come up (output so far:\n${pier.output()})`,
  );
  await until(
    () => api.requests.some((r) => r.watch && r.path.endsWith('/httproutes')),
    'the source to watch HTTPRoutes',
  );
  await new Promise((r) => setTimeout(r, 1500));
  expect(patches()).toEqual([]);
  expect(statusOf('Gateway', 'shop', 'edge')).toBeUndefined();
});
