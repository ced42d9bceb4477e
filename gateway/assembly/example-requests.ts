// curl commands that reach each rule of the served config: what `pier start`
// prints, so a newcomer sees host routing, path routing and weighted splits
// work against whatever manifests they load. Derived from the route tables,
// never hard-coded: a rule whose matches cannot be spelled as one plain curl
// (regex paths, header or query matches, other methods) is left out.

import type { HttpMatchSpec, WeightedBackend } from '../router.ts';
import type { GatewayConfig } from '../translate/gateway-config.ts';

export interface ExampleRequest {
  /** `curl -H 'Host: a.example.com' http://127.0.0.1:8080/` */
  command: string;
  /** `HTTPRoute demo/by-host -> demo/echo-a:80` */
  comment: string;
}

function backendsText(backends: readonly WeightedBackend[], total: number): string {
  if (backends.length === 0) return '500 (no backend)';
  return backends
    .map((b) => {
      const name = b.resolved ? `${b.namespace}/${b.name}:${b.port}` : `500 (${b.reason})`;
      return backends.length === 1 ? name : `${name} ${Math.round((b.weight / total) * 100)}%`;
    })
    .join(', ');
}

function plainPath(match: HttpMatchSpec | undefined): string | undefined {
  if (match === undefined) return '/';
  if (match.method !== undefined && match.method !== 'GET') return undefined;
  if (match.headers.length > 0 || match.queryParams.length > 0) return undefined;
  return match.path.type === 'RegularExpression' ? undefined : match.path.value;
}

function quote(text: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** Up to `limit` requests, in table order; HTTP ports only (HTTPS needs certificates the reader may not trust). */
export function exampleRequests(
  config: GatewayConfig,
  address: string,
  limit = 12,
): ExampleRequest[] {
  const out: ExampleRequest[] = [];
  const seen = new Set<string>();
  const authority = address.includes(':') ? `[${address}]` : address;
  for (const port of config.ports) {
    if (port.protocol !== 'HTTP') continue;
    for (const listener of port.spec.listeners) {
      for (const route of listener.routes) {
        const hostnames =
          route.hostnames.length === 0 ? [''] : route.hostnames.map((h) => h.hostname);
        for (const hostname of hostnames) {
          const host =
            hostname.replace(/^\*\./, 'www.') || (listener.hostname ?? '').replace(/^\*\./, 'www.');
          for (const rule of route.rules) {
            if (rule.fallback) continue;
            const path = plainPath((rule.matches as readonly HttpMatchSpec[])[0]);
            if (path === undefined) continue;
            const url = `http://${authority}:${port.port}${path}`;
            const command =
              host === ''
                ? `curl ${quote(url)}`
                : `curl -H ${quote(`Host: ${host}`)} ${quote(url)}`;
            if (seen.has(command)) continue;
            seen.add(command);
            const total = rule.backends.reduce((sum, b) => sum + b.weight, 0);
            out.push({
              command,
              comment: `${route.kind} ${route.namespace}/${route.name} -> ${backendsText(rule.backends, total)}`,
            });
            if (out.length >= limit) return out;
          }
        }
      }
    }
  }
  return out;
}
