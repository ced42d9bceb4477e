// Documented example manifests (testdata/) validate as they are, and come out
// with the defaults the specs promise.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Gateway } from './gateway-api/gateway.ts';
import type { HTTPRoute } from './gateway-api/http-route.ts';
import type { KubeObject } from './object.ts';
import { validateObject } from './validate.ts';

const dir = join(import.meta.dirname, 'testdata');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

function documents(file: string): { index: number; raw: unknown }[] {
  return YAML.parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc, index) => {
    if (doc.errors.length > 0)
      throw new Error(`${file} document ${index}: ${doc.errors[0]?.message}`);
    return { index, raw: doc.toJS() };
  });
}

const all: { file: string; index: number; raw: unknown }[] = files.flatMap((file) =>
  documents(file).map((d) => ({ file, ...d })),
);

function find(kind: string, name: string): KubeObject {
  for (const { raw } of all) {
    const result = validateObject(raw);
    if (result.ok && result.object.kind === kind && result.object.metadata.name === name)
      return result.object;
  }
  throw new Error(`no valid ${kind} ${name} in testdata`);
}

describe('documented examples', () => {
  it('there are fixtures to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(all.length).toBeGreaterThanOrEqual(25);
  });

  it.each(all.map((d) => [`${d.file} #${d.index}`, d] as const))(
    '%s validates',
    (_name, { raw }) => {
      const result = validateObject(raw);
      if (!result.ok) throw new Error(result.error.message);
      expect(result.object.kind).toBe((raw as { kind: string }).kind);
    },
  );

  it('HTTPRoute defaults: backendRef weight, kind and group; a rule without matches', () => {
    const route = find('HTTPRoute', 'bar-route') as HTTPRoute;
    expect(route.spec.parentRefs).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'example-gateway' },
    ]);
    expect(route.spec.rules[1]).toEqual({
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      backendRefs: [{ group: '', kind: 'Service', name: 'bar-svc', port: 8080, weight: 1 }],
    });
    const redirect = find('HTTPRoute', 'tls-redirect') as HTTPRoute;
    expect(redirect.spec.rules[0]?.filters?.[0]?.requestRedirect).toEqual({
      scheme: 'https',
      port: 443,
      statusCode: 302,
    });
  });

  it('Gateway defaults: allowedRoutes from Same, tls mode Terminate', () => {
    const gateway = find('Gateway', 'example-gateway') as Gateway;
    expect(gateway.spec.listeners.map((l) => l.allowedRoutes.namespaces.from)).toEqual([
      'Same',
      'Same',
      'Same',
    ]);
    expect(gateway.spec.listeners[2]?.tls?.mode).toBe('Terminate');
    const tcp = find('Gateway', 'my-tcp-gateway') as Gateway;
    expect(tcp.spec.listeners[0]?.allowedRoutes.kinds).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'TCPRoute' },
    ]);
  });
});
