// Runs routing cases written in the Gateway API conformance suite's own
// notation (tests/*.yaml there: manifests, then request -> expected backend,
// expectedRequest, response, redirectRequest) against translate() and the
// route tables it builds, the way the glue will use them: lookup, filters,
// backend choice. No sockets: the "response" is what the gateway would send.
//
// A case file (testdata/*.yaml) is one YAML mapping:
//   description: what the file covers
//   options: TranslateInput options (optional)
//   manifests: |            Kubernetes YAML, loaded as the manifests source loads it
//   cases:                  request -> expectation
//     - request: {host, path, method, headers, port, scheme}
//       backend: svc            (the Service that receives it; namespace from `namespace` or `default`)
//       response: {statusCode}  (404: no route; 500: unresolved backend; 30x: redirect)
//       redirectRequest: {scheme, host, port, path}  or  location: exact Location
//       expectedRequest: {path, host, headers: {name: value}, absentHeaders: [name]}
//       responseHeaders / absentResponseHeaders, mirrors: [svc], weights: {svc: n}, route: kind ns/name
//   status:                 conditions in `Type: Status/Reason` form
//     - route: HTTPRoute ns/name      parent: gw-name (optional)   conditions: {...}
//     - gateway: ns/name  listener: name (optional)  attachedRoutes: n   conditions: {...}
//     - ingress: ns/name  served: true  problems: [reason, ...]
//     - policy: BackendTLSPolicy ns/name  ancestors: [ns/gw, ...]  conditions: {...}
//   backendTls:             what each Service port gets (BackendTLSPolicy)
//     ns/svc:port: none | {serverName, ca: n | system, subjectAltNames: [Type:value]} | {refused: text}
//   clientCertificates: [ns/gw, ...]   the Gateways with a usable spec.tls.backend client certificate
//   clientValidation:       served listeners' client certificate checks (spec.tls.frontend)
//     ns/gw listener: none | <mode> <CA bundles>

import { parse } from 'yaml';
import { loadManifestText } from '../../../src/sources/manifests/load.ts';
import { applyHeaderEdits, decide } from '../../filters.ts';
import { pickBackend } from '../../router/backend.ts';
import type { RequestView } from '../../router.ts';
import type { GatewayConfig } from '../gateway-config.ts';
import { type TranslateInput, translate } from '../translate.ts';

export interface CaseRequest {
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  port?: number;
  scheme?: 'http' | 'https';
}

export interface RoutingCase {
  name?: string;
  request: CaseRequest;
  namespace?: string;
  backend?: string;
  response?: { statusCode: number };
  redirectRequest?: { scheme?: string; host?: string; port?: string | number; path?: string };
  location?: string;
  expectedRequest?: {
    path?: string;
    host?: string;
    headers?: Record<string, string>;
    absentHeaders?: string[];
  };
  responseHeaders?: Record<string, string>;
  absentResponseHeaders?: string[];
  mirrors?: string[];
  weights?: Record<string, number>;
  route?: string;
  timeouts?: { requestMs?: number; backendRequestMs?: number };
}

export interface StatusCase {
  route?: string;
  parent?: string;
  gateway?: string;
  listener?: string;
  ingress?: string;
  attachedRoutes?: number;
  /** Listener: the certificates it is served with (`namespace/name`); [] when it is not served. */
  certificates?: string[];
  served?: boolean;
  problems?: string[];
  conditions?: Record<string, string>;
  /** Substrings the conditions' messages must contain, by condition type. */
  messages?: Record<string, string>;
  /** `BackendTLSPolicy ns/name`. */
  policy?: string;
  /** The policy's ancestor Gateways (`ns/name`); its conditions are checked on each. */
  ancestors?: string[];
}

/** A Service port's expected backend TLS (see the header). */
export type BackendTlsCase =
  | 'none'
  | {
      serverName?: string;
      ca?: number | 'system';
      subjectAltNames?: string[];
      refused?: string;
    };

export interface CaseFile {
  description: string;
  /** Manifest files of testdata/ loaded before `manifests` (shared infrastructure). */
  include?: string[];
  options?: TranslateInput['options'];
  manifests: string;
  cases?: RoutingCase[];
  status?: StatusCase[];
  /** By `ns/svc:port`. */
  backendTls?: Record<string, BackendTlsCase>;
  /** The Gateways (`ns/name`) with a usable spec.tls.backend.clientCertificateRef. */
  clientCertificates?: string[];
  /** By `ns/gateway listener`: `none`, or `<mode> <number of CA bundles>` (spec.tls.frontend). */
  clientValidation?: Record<string, string>;
}

export function loadCaseFile(
  name: string,
  text: string,
  readInclude: (name: string) => string,
): { file: CaseFile; config: GatewayConfig } {
  const file = parse(text) as CaseFile;
  const manifests = [...(file.include ?? []).map(readInclude), file.manifests ?? ''].join(
    '\n---\n',
  );
  const loaded = loadManifestText(name, manifests);
  if (loaded.problems.length > 0) {
    throw new Error(
      `${name}: manifests do not load: ${loaded.problems.map((p) => p.message).join('; ')}`,
    );
  }
  const config = translate({
    objects: loaded.objects,
    ...(file.options === undefined ? {} : { options: file.options }),
  });
  return { file, config };
}

/** What the gateway does with a request, described in the cases' terms. */
export interface Outcome {
  statusCode: number;
  backend?: string;
  route?: string;
  location?: string;
  path?: string;
  host?: string;
  headers?: string[];
  responseHeaders?: string[];
  mirrors?: string[];
  weights?: Record<string, number>;
  timeouts?: { requestMs?: number; backendRequestMs?: number };
}

export function run(config: GatewayConfig, request: CaseRequest): Outcome {
  const scheme = request.scheme ?? 'http';
  const port = request.port ?? (scheme === 'https' ? 443 : 80);
  const headerList = Object.entries(request.headers ?? {}).flat();
  const view: RequestView = {
    method: request.method ?? 'GET',
    host: request.host ?? 'example.com',
    path: (request.path ?? '/').split('?')[0]!,
    query: (request.path ?? '/').includes('?')
      ? (request.path ?? '').slice((request.path ?? '').indexOf('?') + 1)
      : '',
    headers: ['host', request.host ?? 'example.com', ...headerList],
    scheme,
  };
  const table = config.ports.find((p) => p.port === port)?.table;
  const match = table?.lookup(view);
  if (match === undefined) return { statusCode: 404 };
  const route = `${match.route.kind} ${match.route.namespace}/${match.route.name}`;
  const decision = decide(match, view, () => 0);
  // As the gateway sends them: the request's additions (CORS), then the rule's edits.
  const responseHeaders = applyHeaderEdits(
    [...decision.responseAdditions],
    decision.responseHeaders,
  );
  if (decision.action === 'preflight')
    return { statusCode: decision.status, route, responseHeaders };
  if (decision.action === 'redirect')
    return { statusCode: decision.status, route, location: decision.location!, responseHeaders };
  if (decision.action === 'respond') return { statusCode: decision.status, route, responseHeaders };
  const weights: Record<string, number> = {};
  for (const b of match.backends) {
    const name = b.resolved ? `${b.namespace}/${b.name}` : `unresolved:${b.reason}`;
    weights[name] = (weights[name] ?? 0) + b.weight;
  }
  const mirrors = decision.mirrors.map((m) => `${m.namespace}/${m.name}`);
  const backend = pickBackend(match, 0);
  if (backend === undefined || !backend.resolved) {
    return {
      statusCode: backend?.resolved === false ? backend.status : 500,
      route,
      weights,
      mirrors,
      responseHeaders,
    };
  }
  let headers = applyHeaderEdits(view.headers, decision.requestHeaders);
  if (backend.filters?.requestHeaders !== undefined)
    headers = applyHeaderEdits(headers, backend.filters.requestHeaders);
  return {
    statusCode: 200,
    route,
    backend: `${backend.namespace}/${backend.name}`,
    path: decision.path,
    host: decision.host ?? view.host,
    headers,
    responseHeaders:
      backend.filters?.responseHeaders === undefined
        ? responseHeaders
        : applyHeaderEdits(responseHeaders, backend.filters.responseHeaders),
    mirrors,
    weights,
    timeouts: { ...match.timeouts },
  };
}

export function headerOf(headers: readonly string[] | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (let i = 0; i + 1 < headers.length; i += 2)
    if (headers[i]!.toLowerCase() === name.toLowerCase()) return headers[i + 1];
  return undefined;
}

export function locationOf(c: RoutingCase, request: CaseRequest): string | undefined {
  if (c.location !== undefined) return c.location;
  const r = c.redirectRequest;
  if (r === undefined) return undefined;
  const scheme = r.scheme ?? request.scheme ?? 'http';
  const port = r.port === undefined ? '' : `:${r.port}`;
  const host = r.host ?? (request.host ?? 'example.com').replace(/:\d+$/, '');
  return `${scheme}://${host}${port}${r.path ?? request.path ?? '/'}`;
}

/** `Accepted: False/NotAllowedByListeners` -> the condition's `status/reason`, or `status` alone. */
export function conditionSummary(
  conditions: readonly { type: string; status: string; reason: string }[],
  type: string,
  withReason: boolean,
): string | undefined {
  const c = conditions.find((x) => x.type === type);
  if (c === undefined) return undefined;
  return withReason ? `${c.status}/${c.reason}` : c.status;
}
