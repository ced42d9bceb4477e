// Routing and status cases in the Gateway API's notation (testdata/*.yaml,
// see testdata/harness.ts): manifests -> request -> backend, path, headers,
// status code; and manifests -> conditions.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendTlsOf } from './backend-tls.ts';
import type { GatewayConfig } from './gateway-config.ts';
import {
  type BackendTlsCase,
  type CaseFile,
  conditionSummary,
  headerOf,
  loadCaseFile,
  locationOf,
  type RoutingCase,
  run,
  type StatusCase,
} from './testdata/harness.ts';

const DIR = join(import.meta.dirname, 'testdata');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'infra.yaml')
  .sort();

function qualify(name: string, namespace: string | undefined): string {
  return name.includes('/') ? name : `${namespace ?? 'default'}/${name}`;
}

function caseName(c: RoutingCase, i: number): string {
  const r = c.request;
  const headers = Object.entries(r.headers ?? {})
    .map(([k, v]) => ` ${k}=${v}`)
    .join('');
  return (
    c.name ??
    `#${i} ${r.method ?? 'GET'} ${r.scheme ?? 'http'}://${r.host ?? 'example.com'}${r.port === undefined ? '' : `:${r.port}`}${r.path ?? '/'}${headers}`
  );
}

function checkRouting(config: GatewayConfig, c: RoutingCase): void {
  const out = run(config, c.request);
  const location = locationOf(c, c.request);
  const expectedStatus = c.response?.statusCode ?? (location !== undefined ? 302 : 200);
  expect(out.statusCode, 'status code').toBe(expectedStatus);
  if (c.backend !== undefined) expect(out.backend, 'backend').toBe(qualify(c.backend, c.namespace));
  if (location !== undefined) expect(out.location, 'Location').toBe(location);
  if (c.route !== undefined) expect(out.route, 'route').toBe(c.route);
  const e = c.expectedRequest;
  if (e?.path !== undefined) expect(out.path, 'upstream path').toBe(e.path);
  if (e?.host !== undefined) expect(out.host, 'upstream Host').toBe(e.host);
  for (const [name, value] of Object.entries(e?.headers ?? {}))
    expect(headerOf(out.headers, name), `request header ${name}`).toBe(value);
  for (const name of e?.absentHeaders ?? [])
    expect(headerOf(out.headers, name), `request header ${name}`).toBeUndefined();
  for (const [name, value] of Object.entries(c.responseHeaders ?? {})) {
    expect(headerOf(out.responseHeaders, name), `response header ${name}`).toBe(value);
  }
  for (const name of c.absentResponseHeaders ?? [])
    expect(headerOf(out.responseHeaders, name), `response header ${name}`).toBeUndefined();
  if (c.mirrors !== undefined)
    expect(out.mirrors, 'mirrors').toEqual(c.mirrors.map((m) => qualify(m, c.namespace)));
  if (c.weights !== undefined) {
    const expected = Object.fromEntries(
      Object.entries(c.weights).map(([k, v]) => [
        k.startsWith('unresolved:') ? k : qualify(k, c.namespace),
        v,
      ]),
    );
    expect(out.weights, 'weights').toEqual(expected);
  }
  if (c.timeouts !== undefined) expect(out.timeouts, 'timeouts').toEqual(c.timeouts);
}

function checkBackendTls(config: GatewayConfig, key: string, want: BackendTlsCase): void {
  const colon = key.lastIndexOf(':');
  const [namespace, name] = key.slice(0, colon).split('/');
  const setting = backendTlsOf(config.backendTls, namespace!, name!, Number(key.slice(colon + 1)));
  if (want === 'none') {
    expect(setting, 'no backend TLS').toBeUndefined();
    return;
  }
  expect(setting, 'a backend TLS setting').toBeDefined();
  if (want.refused !== undefined) {
    expect(setting && 'refused' in setting ? setting.refused : undefined, 'refused').toContain(
      want.refused,
    );
    return;
  }
  const tls = setting && 'tls' in setting ? setting.tls : undefined;
  expect(tls, 'TLS, not refused').toBeDefined();
  if (want.serverName !== undefined) expect(tls!.serverName, 'serverName').toBe(want.serverName);
  if (want.ca !== undefined)
    expect(tls!.ca === undefined ? 'system' : tls!.ca.length, 'CAs').toBe(want.ca);
  expect(
    tls!.subjectAltNames.map((s) => `${s.type}:${s.value}`),
    'subjectAltNames',
  ).toEqual(want.subjectAltNames ?? []);
}

function checkConditions(
  actual: readonly { type: string; status: string; reason: string; message: string }[],
  expected: StatusCase,
): void {
  for (const [type, want] of Object.entries(expected.conditions ?? {})) {
    expect(conditionSummary(actual, type, want.includes('/')), `condition ${type}`).toBe(want);
  }
  for (const [type, text] of Object.entries(expected.messages ?? {})) {
    expect(actual.find((c) => c.type === type)?.message, `message of ${type}`).toContain(text);
  }
}

function checkStatus(config: GatewayConfig, s: StatusCase): void {
  if (s.route !== undefined) {
    const [kind, ref] = s.route.split(' ');
    const [namespace, name] = ref!.split('/');
    const route = config.status.routes.find(
      (r) => r.kind === kind && r.namespace === namespace && r.name === name,
    );
    if (s.conditions === undefined && s.messages === undefined) {
      expect(route, `no status for ${s.route}`).toBeUndefined();
      return;
    }
    expect(route, `status of ${s.route}`).toBeDefined();
    const parents = route!.parents.filter(
      (p) => s.parent === undefined || p.parentRef.name === s.parent,
    );
    expect(parents.length, `parents of ${s.route}`).toBeGreaterThan(0);
    for (const parent of parents) checkConditions(parent.conditions, s);
    return;
  }
  if (s.gateway !== undefined) {
    const [namespace, name] = s.gateway.split('/');
    const gateway = config.status.gateways.find(
      (g) => g.namespace === namespace && g.name === name,
    );
    if (s.conditions === undefined && s.listener === undefined) {
      expect(gateway, `no status for Gateway ${s.gateway}`).toBeUndefined();
      return;
    }
    expect(gateway, `status of Gateway ${s.gateway}`).toBeDefined();
    if (s.listener === undefined) {
      checkConditions(gateway!.conditions, s);
      return;
    }
    const listener = gateway!.listeners.find((l) => l.name === s.listener);
    expect(listener, `listener ${s.listener}`).toBeDefined();
    if (s.attachedRoutes !== undefined)
      expect(listener!.attachedRoutes, 'attachedRoutes').toBe(s.attachedRoutes);
    checkConditions(listener!.conditions, s);
    return;
  }
  if (s.policy !== undefined) {
    const [, ref] = s.policy.split(' ');
    const [namespace, name] = ref!.split('/');
    const policy = config.status.backendTLSPolicies.find(
      (p) => p.namespace === namespace && p.name === name,
    );
    expect(policy, `status of ${s.policy}`).toBeDefined();
    expect(
      policy!.ancestors.map((a) => `${a.ancestorRef.namespace}/${a.ancestorRef.name}`),
      'ancestors',
    ).toEqual(s.ancestors ?? []);
    // A policy no Gateway routes to has no status to write; its conditions are still computed.
    const state = config.backendTls.policies.find(
      (p) => p.namespace === namespace && p.name === name,
    );
    checkConditions(state!.conditions, s);
    for (const ancestor of policy!.ancestors)
      expect(ancestor.conditions, 'ancestor conditions').toEqual(state!.conditions);
    return;
  }
  if (s.ingress !== undefined) {
    const [namespace, name] = s.ingress.split('/');
    const ingress = config.status.ingresses.find(
      (i) => i.namespace === namespace && i.name === name,
    );
    expect(ingress, `status of Ingress ${s.ingress}`).toBeDefined();
    if (s.served !== undefined) expect(ingress!.served, 'served').toBe(s.served);
    if (s.problems !== undefined)
      expect(ingress!.problems.map((p) => p.reason).sort(), 'problems').toEqual(
        [...s.problems].sort(),
      );
    return;
  }
  throw new Error(`status case names nothing: ${JSON.stringify(s)}`);
}

for (const fileName of files) {
  const text = readFileSync(join(DIR, fileName), 'utf8');
  let loaded: { file: CaseFile; config: GatewayConfig } | undefined;
  let failure: unknown;
  try {
    loaded = loadCaseFile(fileName, text, (name) => readFileSync(join(DIR, name), 'utf8'));
  } catch (error) {
    failure = error;
  }
  describe(`${fileName}: ${loaded?.file.description ?? 'does not load'}`, () => {
    if (loaded === undefined) {
      it('loads', () => {
        throw failure;
      });
      return;
    }
    const { file, config } = loaded;
    (file.cases ?? []).forEach((c, i) => {
      it(caseName(c, i), () => checkRouting(config, c));
    });
    for (const [key, want] of Object.entries(file.clientValidation ?? {})) {
      it(`client validation of ${key}`, () => {
        const [gateway, name] = key.split(' ');
        const listener = config.ports
          .flatMap((p) => p.listeners)
          .find((l) => l.identity.gateway === gateway && l.identity.name === name);
        expect(listener, `served listener ${key}`).toBeDefined();
        const v = listener!.clientValidation;
        expect(v === undefined ? 'none' : `${v.mode} ${v.ca.length}`).toBe(want);
      });
    }
    if (file.clientCertificates !== undefined) {
      it('client certificates of the Gateways', () =>
        expect([...config.backendClientCertificates.keys()].sort()).toEqual(
          [...file.clientCertificates!].sort(),
        ));
    }
    for (const [key, want] of Object.entries(file.backendTls ?? {})) {
      it(`backend TLS of ${key}`, () => checkBackendTls(config, key, want));
    }
    (file.status ?? []).forEach((s, i) => {
      const subject =
        s.route ??
        s.policy ??
        (s.gateway === undefined
          ? `Ingress ${s.ingress}`
          : `Gateway ${s.gateway}${s.listener === undefined ? '' : ` listener ${s.listener}`}`);
      it(`status #${i} ${subject}${s.parent === undefined ? '' : ` parent ${s.parent}`}`, () =>
        checkStatus(config, s));
    });
  });
}
