// A fake Kubernetes API server for tests: real HTTP on 127.0.0.1, the real
// list/watch protocol, for the kinds Pier reads. Kept honest on purpose: it
// shares no code or tables with src/sources/kubernetes (a bug copied into both
// would pass), and test/kubernetes-source-fake-apiserver.test.ts checks it
// against the protocol with a raw HTTP client.
//
// What it does as the API server does:
// - one global resourceVersion (etcd's revision), bumped by every write;
// - list: `{kind: <Kind>List, metadata: {resourceVersion, continue?}, items}`;
//   items of built-in kinds carry no apiVersion/kind, items of CRDs do;
//   limit/continue paging over a consistent snapshot; resourceVersion with
//   resourceVersionMatch Exact / NotOlderThan (and the legacy rules without it);
//   410 Expired for a snapshot or continue token older than the compacted history;
// - watch (?watch=1): newline-delimited JSON events from resourceVersion N
//   (none or 0: ADDED for every current object first), ADDED/MODIFIED/DELETED
//   as selectors see them (an object leaving a selector is DELETED for that
//   watch), BOOKMARK when allowWatchBookmarks=true, ERROR with a 410 Status
//   (then the stream ends) when N is older than the compacted history,
//   timeoutSeconds ending the stream cleanly;
// - labelSelector (kubectl syntax) and fieldSelector (=, ==, != on
//   metadata.name, metadata.namespace, and the few fields the API server
//   indexes per kind: Secret type, Pod spec.nodeName and status.phase);
// - 404 NotFound for groups/versions not served (CRDs not installed), 401
//   without the bearer token, every write adds managedFields;
// - PATCH of the status subresource (`.../<plural>/<name>/status`) with
//   application/merge-patch+json (RFC 7386): only `status` changes (spec,
//   metadata and generation stay as they were), a change bumps
//   resourceVersion and sends MODIFIED, a patch that changes nothing is a
//   no-op (same resourceVersion, no event), metadata.resourceVersion in the
//   patch is a precondition (409 Conflict), 404 NotFound for a missing
//   object, 415 UnsupportedMediaType for other patch types. Other writes
//   over HTTP are 405: tests write with create/update/apply.
//
// What tests can do that a real one does not let them: write objects
// directly, drop every watch connection, compact history, send bookmarks,
// stop and start the server (same port, same data), install and uninstall a
// CRD group, see every request.

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LabelSelector, parseLabelSelector } from '../../src/store/label-selector.ts';

export interface FakeResource {
  group: string;
  /** Served versions. */
  versions: string[];
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Served by a CRD: can be uninstalled; list items carry apiVersion and kind. */
  crd: boolean;
  /** Field labels this resource supports besides metadata.name and metadata.namespace. */
  fields: string[];
}

const GW = 'gateway.networking.k8s.io';

/** As a cluster with Gateway API v1.2 (experimental channel) installed serves them. */
export const FAKE_RESOURCES: readonly FakeResource[] = [
  {
    group: '',
    versions: ['v1'],
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    crd: false,
    fields: ['status.phase'],
  },
  {
    group: '',
    versions: ['v1'],
    plural: 'nodes',
    kind: 'Node',
    namespaced: false,
    crd: false,
    fields: ['spec.unschedulable'],
  },
  {
    group: '',
    versions: ['v1'],
    plural: 'services',
    kind: 'Service',
    namespaced: true,
    crd: false,
    fields: [],
  },
  {
    group: '',
    versions: ['v1'],
    plural: 'pods',
    kind: 'Pod',
    namespaced: true,
    crd: false,
    fields: ['spec.nodeName', 'status.phase'],
  },
  {
    group: '',
    versions: ['v1'],
    plural: 'secrets',
    kind: 'Secret',
    namespaced: true,
    crd: false,
    fields: ['type'],
  },
  {
    group: '',
    versions: ['v1'],
    plural: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    crd: false,
    fields: [],
  },
  {
    group: 'discovery.k8s.io',
    versions: ['v1'],
    plural: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
    crd: false,
    fields: [],
  },
  {
    group: 'networking.k8s.io',
    versions: ['v1'],
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
    crd: false,
    fields: [],
  },
  {
    group: 'networking.k8s.io',
    versions: ['v1'],
    plural: 'ingressclasses',
    kind: 'IngressClass',
    namespaced: false,
    crd: false,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1', 'v1beta1'],
    plural: 'gatewayclasses',
    kind: 'GatewayClass',
    namespaced: false,
    crd: true,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1', 'v1beta1'],
    plural: 'gateways',
    kind: 'Gateway',
    namespaced: true,
    crd: true,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1', 'v1beta1'],
    plural: 'httproutes',
    kind: 'HTTPRoute',
    namespaced: true,
    crd: true,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1'],
    plural: 'grpcroutes',
    kind: 'GRPCRoute',
    namespaced: true,
    crd: true,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1beta1'],
    plural: 'referencegrants',
    kind: 'ReferenceGrant',
    namespaced: true,
    crd: true,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1alpha2'],
    plural: 'tcproutes',
    kind: 'TCPRoute',
    namespaced: true,
    crd: true,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1alpha2'],
    plural: 'udproutes',
    kind: 'UDPRoute',
    namespaced: true,
    crd: true,
    fields: [],
  },
  {
    group: GW,
    versions: ['v1alpha2'],
    plural: 'tlsroutes',
    kind: 'TLSRoute',
    namespaced: true,
    crd: true,
    fields: [],
  },
  {
    // v1.2's experimental channel serves it as v1alpha3 only (v1 came with v1.4).
    group: GW,
    versions: ['v1alpha3'],
    plural: 'backendtlspolicies',
    kind: 'BackendTLSPolicy',
    namespaced: true,
    crd: true,
    fields: [],
  },
];

export type JsonObject = Record<string, unknown>;

export interface FakeObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  [key: string]: unknown;
}

/** An object as tests write it: apiVersion and kind name the resource. */
export interface FakeObject {
  apiVersion: string;
  kind: string;
  metadata: FakeObjectMeta;
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The bearer token, or `` without one. */
  token: string;
  watch: boolean;
  status: number;
}

export interface FakeApiServerOptions {
  /** Bearer tokens accepted (more with addToken). Default ['pier-test-token']. */
  tokens?: string[];
  /** Serve the Gateway API group from the start. Default true. */
  gatewayApi?: boolean;
  /** Send a BOOKMARK this often on watches that allow them (ms); 0: only on bookmark(). Default 0. */
  bookmarkIntervalMs?: number;
  /** The first resourceVersion. Default 1000, so it is never mistaken for a Store revision. */
  firstResourceVersion?: number;
  /** Serve HTTPS with this key and certificate (see selfSignedCertificate); kubeconfigs carry the certificate as CA. */
  tls?: { key: string; cert: string };
}

/**
 * A throwaway key and self-signed certificate for 127.0.0.1, made with
 * openssl (PEM text). Throws, naming openssl, when it is not installed.
 */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pier-fake-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=fake-apiserver',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } catch (error) {
    throw new Error(
      `openssl could not make a test certificate (Debian: apt-get install openssl): ${(error as Error).message}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FakeApiServer {
  readonly url: string;
  readonly port: number;
  /** A kubeconfig for the first token. */
  readonly kubeconfig: string;
  /** Writes a kubeconfig with this token (accepted from now on); returns its path. With TLS, `ca` replaces the CA. */
  kubeconfigFor(token: string, ca?: string): string;
  /** The current resourceVersion. */
  readonly resourceVersion: number;
  readonly requests: readonly RecordedRequest[];
  /** Open watch streams (optionally of one plural). */
  watchCount(plural?: string): number;
  create(object: FakeObject): FakeObject;
  update(object: FakeObject): FakeObject;
  /** Creates or updates. */
  apply(object: FakeObject): FakeObject;
  delete(
    apiVersionOrGroup: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): boolean;
  get(
    apiVersionOrGroup: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): FakeObject | undefined;
  /** Cuts every watch connection (as a load balancer or network failure would). */
  dropWatches(): void;
  /** Forgets history: watches or lists from an older resourceVersion get 410 Gone. */
  compact(): void;
  /** Sends a bookmark at the current resourceVersion on every watch that allows them. */
  bookmark(): void;
  /** Serves or stops serving a CRD group; uninstalling deletes its objects, as deleting a CRD does. */
  install(group: string): void;
  uninstall(group: string): void;
  /** The next `count` requests (optionally only for paths containing `match`) answer `status`. */
  failNext(count: number, status: number, match?: string): void;
  /** Closes the listener and every connection; data and history stay. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops and removes the kubeconfig files. */
  close(): Promise<void>;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEvent {
  rv: number;
  resource: FakeResource;
  type: EventType;
  /** The object after the change (for DELETED: as deleted, with the delete's resourceVersion). */
  object: JsonObject;
  /** The object before the change (MODIFIED, DELETED). */
  previous?: JsonObject;
}

interface FieldRequirement {
  field: string;
  value: string;
  equal: boolean;
}

interface OpenWatch {
  resource: FakeResource;
  version: string;
  namespace?: string;
  labels: LabelSelector;
  fields: FieldRequirement[];
  bookmarks: boolean;
  response: ServerResponse;
  timers: ReturnType<typeof setTimeout>[];
  closed: boolean;
}

const resourceId = (r: FakeResource) => `${r.group}/${r.plural}`;
const keyOf = (namespace: string | undefined, name: string) =>
  namespace === undefined ? name : `${namespace}/${name}`;
const clone = <T>(value: T): T => structuredClone(value);

function status(code: number, reason: string, message: string): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details: {},
    code,
  };
}

class HttpFailure extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

function groupOf(apiVersionOrGroup: string): string {
  const slash = apiVersionOrGroup.lastIndexOf('/');
  if (slash !== -1) return apiVersionOrGroup.slice(0, slash);
  // `v1` is the core group's apiVersion; anything with a dot is a group.
  return apiVersionOrGroup.includes('.') ? apiVersionOrGroup : '';
}

function fieldValue(object: JsonObject, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return '';
    value = (value as JsonObject)[part];
  }
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

function parseFieldSelector(text: string, resource: FakeResource): FieldRequirement[] {
  if (text.trim() === '') return [];
  return text.split(',').map((term) => {
    const match = /^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*([^,]*?)\s*$/.exec(term);
    if (match === null) {
      throw new HttpFailure(400, 'BadRequest', `invalid field selector: ${JSON.stringify(term)}`);
    }
    const [, field, op, value] = match as unknown as [string, string, string, string];
    if (
      field !== 'metadata.name' &&
      field !== 'metadata.namespace' &&
      !resource.fields.includes(field)
    ) {
      throw new HttpFailure(400, 'BadRequest', `field label not supported: ${field}`);
    }
    return { field, value, equal: op !== '!=' };
  });
}

function matches(
  object: JsonObject | undefined,
  namespace: string | undefined,
  labels: LabelSelector,
  fields: readonly FieldRequirement[],
): boolean {
  if (object === undefined) return false;
  const meta = object.metadata as FakeObjectMeta;
  if (namespace !== undefined && meta.namespace !== namespace) return false;
  if (!labels.empty && !labels.matches(meta.labels)) return false;
  return fields.every((f) => (fieldValue(object, f.field) === f.value) === f.equal);
}

/** RFC 7386 JSON Merge Patch: objects merge key by key, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const out: JsonObject =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as JsonObject) }
      : {};
  for (const [key, value] of Object.entries(patch as JsonObject)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

export async function startFakeApiServer(
  options: FakeApiServerOptions = {},
): Promise<FakeApiServer> {
  const tokens = new Set(options.tokens ?? ['pier-test-token']);
  const firstToken = [...tokens][0] ?? 'pier-test-token';
  tokens.add(firstToken);
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 0;
  const tls = options.tls;
  const scheme = tls === undefined ? 'http' : 'https';
  const installed = new Set<string>(['', 'discovery.k8s.io', 'networking.k8s.io']);
  if (options.gatewayApi ?? true) installed.add(GW);

  /** resource id -> key -> object (stored without apiVersion: served at the requested version). */
  const objects = new Map<string, Map<string, JsonObject>>();
  let history: HistoryEvent[] = [];
  let rv = options.firstResourceVersion ?? 1000;
  /** History holds every event after this resourceVersion. */
  let compactedTo = rv;
  const requests: RecordedRequest[] = [];
  const watches = new Set<OpenWatch>();
  const sockets = new Set<Socket>();
  const failures: { count: number; status: number; match?: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'pier-fake-apiserver-'));
  let port = 0;
  let server: Server | undefined;

  const findResource = (group: string, kind: string) => {
    const resource = FAKE_RESOURCES.find((r) => r.group === group && r.kind === kind);
    if (resource === undefined)
      throw new Error(`fake API server: no resource for ${group}/${kind}`);
    return resource;
  };
  const table = (resource: FakeResource) => {
    let byKey = objects.get(resourceId(resource));
    if (byKey === undefined) {
      byKey = new Map();
      objects.set(resourceId(resource), byKey);
    }
    return byKey;
  };
  const apiVersion = (resource: FakeResource, version: string) =>
    resource.group === '' ? version : `${resource.group}/${version}`;
  const served = (resource: FakeResource, version: string) => ({
    apiVersion: apiVersion(resource, version),
    kind: resource.kind,
  });
  /** The object as served at a version: apiVersion and kind first, as the API server writes them. */
  const render = (object: JsonObject, resource: FakeResource, version: string): JsonObject => ({
    ...served(resource, version),
    ...object,
  });

  const send = (w: OpenWatch, type: string, object: JsonObject) => {
    if (w.closed) return;
    w.response.write(`${JSON.stringify({ type, object })}\n`);
  };

  const endWatch = (w: OpenWatch, destroy: boolean) => {
    if (w.closed) return;
    w.closed = true;
    for (const timer of w.timers) clearTimeout(timer);
    watches.delete(w);
    if (destroy) w.response.socket?.destroy();
    else w.response.end();
  };

  /** The event a watch sees for a change, as its selectors see it. */
  const deliver = (w: OpenWatch, event: HistoryEvent) => {
    if (w.resource !== event.resource) return;
    const was =
      event.type === 'ADDED' ? false : matches(event.previous, w.namespace, w.labels, w.fields);
    const is =
      event.type === 'DELETED' ? false : matches(event.object, w.namespace, w.labels, w.fields);
    const object = render(event.object, w.resource, w.version);
    if (event.type === 'DELETED') {
      if (was) send(w, 'DELETED', object);
    } else if (was && is) send(w, 'MODIFIED', object);
    else if (!was && is) send(w, 'ADDED', object);
    else if (was && !is) send(w, 'DELETED', object);
  };

  const record = (event: Omit<HistoryEvent, 'rv'>, newRv: number) => {
    const full = { ...event, rv: newRv };
    history.push(full);
    for (const w of watches) deliver(w, full);
  };

  const normalize = (object: FakeObject) => {
    if (typeof object?.apiVersion !== 'string' || typeof object.kind !== 'string') {
      throw new Error('fake API server: objects need apiVersion and kind');
    }
    const resource = findResource(groupOf(object.apiVersion), object.kind);
    const meta = { ...(object.metadata ?? {}) } as FakeObjectMeta;
    if (typeof meta.name !== 'string' || meta.name === '')
      throw new Error('fake API server: objects need metadata.name');
    if (resource.namespaced) meta.namespace = meta.namespace ?? 'default';
    else delete meta.namespace;
    const { apiVersion: _v, kind: _k, ...rest } = clone(object) as JsonObject;
    return { resource, meta, rest };
  };

  const write = (object: FakeObject, mode: 'create' | 'update' | 'apply'): FakeObject => {
    const { resource, meta, rest } = normalize(object);
    if (resource.crd && !installed.has(resource.group)) {
      throw new Error(`fake API server: ${resource.group} is not installed`);
    }
    const byKey = table(resource);
    const key = keyOf(meta.namespace, meta.name);
    const previous = byKey.get(key);
    if (mode === 'create' && previous !== undefined)
      throw new Error(`fake API server: ${key} exists`);
    if (mode === 'update' && previous === undefined)
      throw new Error(`fake API server: ${key} not found`);
    const newRv = ++rv;
    const prevMeta = previous?.metadata as FakeObjectMeta | undefined;
    const specChanged = JSON.stringify(previous?.spec) !== JSON.stringify(rest.spec);
    const stored: JsonObject = {
      ...rest,
      metadata: {
        ...meta,
        uid: prevMeta?.uid ?? randomUUID(),
        resourceVersion: String(newRv),
        creationTimestamp:
          (prevMeta?.creationTimestamp as string | undefined) ??
          new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        generation:
          prevMeta === undefined ? 1 : (prevMeta.generation as number) + (specChanged ? 1 : 0),
        managedFields: [
          {
            manager: 'kubectl-client-side-apply',
            operation: 'Update',
            apiVersion: object.apiVersion,
            time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:metadata': { 'f:labels': {} } },
          },
        ],
      },
    };
    byKey.set(key, stored);
    record(
      previous === undefined
        ? { resource, type: 'ADDED', object: stored }
        : { resource, type: 'MODIFIED', object: stored, previous },
      newRv,
    );
    return clone(render(stored, resource, object.apiVersion.split('/').pop()!)) as FakeObject;
  };

  const remove = (resource: FakeResource, namespace: string | undefined, name: string): boolean => {
    const key = keyOf(resource.namespaced ? (namespace ?? 'default') : undefined, name);
    const byKey = table(resource);
    const previous = byKey.get(key);
    if (previous === undefined) return false;
    byKey.delete(key);
    const newRv = ++rv;
    const object = {
      ...previous,
      metadata: { ...(previous.metadata as JsonObject), resourceVersion: String(newRv) },
    };
    record({ resource, type: 'DELETED', object, previous }, newRv);
    return true;
  };

  /** The resource's objects as they were at resourceVersion `at` (>= compactedTo). */
  const snapshot = (resource: FakeResource, at: number): Map<string, JsonObject> => {
    const state = new Map(table(resource));
    for (let i = history.length - 1; i >= 0; i--) {
      const event = history[i]!;
      if (event.rv <= at) break;
      if (event.resource !== resource) continue;
      const meta = event.object.metadata as FakeObjectMeta;
      const key = keyOf(meta.namespace, meta.name);
      if (event.type === 'ADDED') state.delete(key);
      else state.set(key, event.previous!);
    }
    return state;
  };

  // -- HTTP --------------------------------------------------------------------

  interface Route {
    resource: FakeResource;
    version: string;
    namespace?: string;
    name?: string;
    /** `status` for `.../<name>/status`. */
    subresource?: string;
  }

  const notFound = () =>
    new HttpFailure(404, 'NotFound', 'the server could not find the requested resource');

  const route = (path: string): Route => {
    const parts = path
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      version = parts[1]!;
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1]!;
      version = parts[2]!;
      rest = parts.slice(3);
    } else throw notFound();
    if (!installed.has(group)) throw notFound();
    const inGroup = FAKE_RESOURCES.filter((r) => r.group === group && r.versions.includes(version));
    const byPlural = (plural: string | undefined) => inGroup.find((r) => r.plural === plural);
    // namespaces/<ns>/<plural>[/<name>] or <plural>[/<name>] (namespaces/<name> is a Namespace).
    // namespaces/<ns>/<plural>/<name>/status and <plural>/<name>/status: the status subresource.
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const resource = byPlural(rest[2]);
      if (resource === undefined || !resource.namespaced || rest.length > 5) throw notFound();
      if (rest.length === 5 && rest[4] !== 'status') throw notFound();
      return {
        resource,
        version,
        namespace: rest[1],
        name: rest[3],
        ...(rest.length === 5 ? { subresource: 'status' } : {}),
      };
    }
    const resource = byPlural(rest[0]);
    if (resource === undefined || rest.length > 3) throw notFound();
    if (rest.length === 3 && rest[2] !== 'status') throw notFound();
    return {
      resource,
      version,
      name: rest[1],
      ...(rest.length === 3 ? { subresource: 'status' } : {}),
    };
  };

  const reply = (response: ServerResponse, code: number, body: JsonObject) => {
    const text = JSON.stringify(body);
    response.writeHead(code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  };

  const list = (r: Route, query: URLSearchParams): JsonObject => {
    const labels = parseLabels(query.get('labelSelector') ?? '');
    const fields = parseFieldSelector(query.get('fieldSelector') ?? '', r.resource);
    const limit = Number(query.get('limit') ?? '0');
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new HttpFailure(400, 'BadRequest', `limit must be a non-negative integer`);
    }
    const requested = query.get('resourceVersion') ?? '';
    const match = query.get('resourceVersionMatch') ?? '';
    const token = query.get('continue') ?? '';
    let at = rv;
    let after = '';
    if (token !== '') {
      if (requested !== '' || match !== '') {
        throw new HttpFailure(
          400,
          'BadRequest',
          'specifying resource version is not allowed when using continue',
        );
      }
      let decoded: { rv?: unknown; after?: unknown };
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof decoded;
      } catch {
        throw new HttpFailure(400, 'BadRequest', 'continue key is not valid');
      }
      if (typeof decoded.rv !== 'number' || typeof decoded.after !== 'string') {
        throw new HttpFailure(400, 'BadRequest', 'continue key is not valid');
      }
      if (decoded.rv < compactedTo) {
        throw new HttpFailure(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      at = decoded.rv;
      after = decoded.after;
    } else if (requested !== '' && requested !== '0') {
      const n = Number(requested);
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new HttpFailure(400, 'BadRequest', `invalid resource version: ${requested}`);
      }
      if (match !== '' && match !== 'Exact' && match !== 'NotOlderThan') {
        throw new HttpFailure(
          400,
          'BadRequest',
          `resourceVersionMatch: Unsupported value: "${match}"`,
        );
      }
      // Without resourceVersionMatch, a limit made it Exact (the rule before KEP-2523).
      const exact = match === 'Exact' || (match === '' && limit > 0);
      if (n > rv)
        throw new HttpFailure(504, 'Timeout', `Too large resource version: ${n}, current: ${rv}`);
      if (exact) {
        if (n < compactedTo) {
          throw new HttpFailure(
            410,
            'Expired',
            'The resourceVersion for the provided list is too old.',
          );
        }
        at = n;
      }
    } else if (match === 'Exact') {
      throw new HttpFailure(
        400,
        'BadRequest',
        'resourceVersionMatch "Exact" requires a resourceVersion',
      );
    }

    const state = snapshot(r.resource, at);
    const selected = [...state.entries()]
      .filter(([, o]) => matches(o, r.namespace, labels, fields))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .filter(([key]) => after === '' || key > after);
    const page = limit > 0 ? selected.slice(0, limit) : selected;
    const metadata: JsonObject = { resourceVersion: String(at) };
    if (limit > 0 && selected.length > limit) {
      const last = page[page.length - 1]![0];
      metadata.continue = Buffer.from(JSON.stringify({ rv: at, after: last })).toString(
        'base64url',
      );
      metadata.remainingItemCount = selected.length - limit;
    }
    return {
      kind: `${r.resource.kind}List`,
      apiVersion: apiVersion(r.resource, r.version),
      metadata,
      // Built-in kinds' list items carry no apiVersion/kind; CRs do.
      items: page.map(([, o]) => (r.resource.crd ? render(o, r.resource, r.version) : clone(o))),
    };
  };

  const parseLabels = (text: string): LabelSelector => {
    try {
      return parseLabelSelector(text);
    } catch (error) {
      throw new HttpFailure(
        400,
        'BadRequest',
        `unable to parse requirement: ${(error as Error).message}`,
      );
    }
  };

  const watch = (r: Route, query: URLSearchParams, response: ServerResponse) => {
    const labels = parseLabels(query.get('labelSelector') ?? '');
    const fields = parseFieldSelector(query.get('fieldSelector') ?? '', r.resource);
    const requested = query.get('resourceVersion') ?? '';
    let from: number | undefined;
    if (requested !== '' && requested !== '0') {
      from = Number(requested);
      if (!Number.isSafeInteger(from) || from < 0) {
        throw new HttpFailure(400, 'BadRequest', `invalid resource version: ${requested}`);
      }
    }
    response.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, private',
    });
    response.flushHeaders();
    const w: OpenWatch = {
      resource: r.resource,
      version: r.version,
      namespace: r.namespace,
      labels,
      fields,
      bookmarks: query.get('allowWatchBookmarks') === 'true',
      response,
      timers: [],
      closed: false,
    };
    response.once('close', () => endWatch(w, false));
    if (from !== undefined && from < compactedTo) {
      // As the API server does: 200, one ERROR event with a 410 Status, end of stream.
      send(
        w,
        'ERROR',
        status(410, 'Expired', `too old resource version: ${from} (${compactedTo})`),
      );
      w.closed = true;
      response.end();
      return;
    }
    watches.add(w);
    if (from === undefined) {
      // No (or 0) resourceVersion: the current state as ADDED events first.
      for (const [, object] of [...table(r.resource)].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (matches(object, w.namespace, labels, fields))
          send(w, 'ADDED', render(object, r.resource, r.version));
      }
    } else {
      for (const event of history) if (event.rv > from) deliver(w, event);
    }
    const timeout = Number(query.get('timeoutSeconds') ?? '0');
    if (Number.isFinite(timeout) && timeout > 0) {
      w.timers.push(setTimeout(() => endWatch(w, false), timeout * 1000));
    }
    if (w.bookmarks && bookmarkIntervalMs > 0) {
      const tick = () => {
        sendBookmark(w);
        w.timers.push(setTimeout(tick, bookmarkIntervalMs));
      };
      w.timers.push(setTimeout(tick, bookmarkIntervalMs));
    }
  };

  const sendBookmark = (w: OpenWatch) => {
    if (!w.bookmarks) return;
    send(w, 'BOOKMARK', {
      ...served(w.resource, w.version),
      metadata: { resourceVersion: String(rv) },
    });
  };

  /** PATCH .../<name>/status, application/merge-patch+json: see the header. */
  const patchStatus = async (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
  ): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const r = route(path);
    if (r.name === undefined || r.subresource !== 'status') {
      throw new HttpFailure(
        405,
        'MethodNotAllowed',
        'the fake takes PATCH only on the status subresource',
      );
    }
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/merge-patch+json') {
      throw new HttpFailure(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    }
    let patch: unknown;
    try {
      patch = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      throw new HttpFailure(400, 'BadRequest', `error decoding patch: ${(error as Error).message}`);
    }
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new HttpFailure(400, 'BadRequest', 'a merge patch must be a JSON object');
    }
    const byKey = table(r.resource);
    const key = keyOf(r.resource.namespaced ? r.namespace : undefined, r.name);
    const previous = byKey.get(key);
    if (previous === undefined) {
      throw new HttpFailure(404, 'NotFound', `${r.resource.plural} "${r.name}" not found`);
    }
    const prevMeta = previous.metadata as FakeObjectMeta;
    const precondition = ((patch as JsonObject).metadata as JsonObject | undefined)
      ?.resourceVersion;
    if (precondition !== undefined && precondition !== prevMeta.resourceVersion) {
      throw new HttpFailure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${r.resource.plural} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    // The whole object is patched, then everything but status is put back (the status strategy).
    const patched = mergePatch(clone(previous), patch) as JsonObject;
    const next: JsonObject = { ...clone(previous) };
    if (patched.status === undefined) delete next.status;
    else next.status = patched.status;
    if (JSON.stringify(next.status) === JSON.stringify(previous.status)) {
      reply(response, 200, render(previous, r.resource, r.version));
      return;
    }
    const newRv = ++rv;
    next.metadata = { ...(next.metadata as JsonObject), resourceVersion: String(newRv) };
    byKey.set(key, next);
    record({ resource: r.resource, type: 'MODIFIED', object: next, previous }, newRv);
    reply(response, 200, render(next, r.resource, r.version));
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const isWatch =
      url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    const entry: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      token,
      watch: isWatch,
      status: 200,
    };
    requests.push(entry);
    const fail = (failure: HttpFailure) => {
      entry.status = failure.code;
      reply(response, failure.code, status(failure.code, failure.reason, failure.message));
    };
    try {
      if (!tokens.has(token)) throw new HttpFailure(401, 'Unauthorized', 'Unauthorized');
      const injected = failures.find(
        (f) => f.match === undefined || url.pathname.includes(f.match),
      );
      if (injected !== undefined) {
        injected.count--;
        if (injected.count <= 0) failures.splice(failures.indexOf(injected), 1);
        throw new HttpFailure(injected.status, 'InternalError', 'injected failure');
      }
      if (request.method === 'PATCH') {
        patchStatus(request, response, url.pathname).catch((error: unknown) => {
          if (error instanceof HttpFailure) fail(error);
          else fail(new HttpFailure(500, 'InternalError', (error as Error).message));
        });
        return;
      }
      if (request.method !== 'GET') {
        throw new HttpFailure(
          405,
          'MethodNotAllowed',
          `${request.method} is not supported by the fake`,
        );
      }
      const r = route(url.pathname);
      if (r.subresource !== undefined) {
        throw new HttpFailure(405, 'MethodNotAllowed', 'GET of a subresource: not in the fake');
      }
      if (r.name !== undefined) {
        if (isWatch)
          throw new HttpFailure(
            400,
            'BadRequest',
            'watch of a single object: use fieldSelector=metadata.name=<name>',
          );
        const object = table(r.resource).get(
          keyOf(r.resource.namespaced ? r.namespace : undefined, r.name),
        );
        if (object === undefined) {
          throw new HttpFailure(404, 'NotFound', `${r.resource.plural} "${r.name}" not found`);
        }
        reply(response, 200, render(object, r.resource, r.version));
        return;
      }
      if (isWatch) watch(r, url.searchParams, response);
      else reply(response, 200, list(r, url.searchParams));
    } catch (error) {
      if (error instanceof HttpFailure) fail(error);
      else fail(new HttpFailure(500, 'InternalError', (error as Error).message));
    }
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = tls === undefined ? createServer(handle) : createTlsServer(tls, handle);
      s.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        if (typeof address === 'object' && address !== null) port = address.port;
        server = s;
        resolve();
      });
    });

  const stop = async () => {
    const s = server;
    if (s === undefined) return;
    server = undefined;
    for (const w of [...watches]) endWatch(w, true);
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  const writeKubeconfig = (token: string, ca?: string) => {
    tokens.add(token);
    const path = join(
      dir,
      `kubeconfig-${token.replace(/[^A-Za-z0-9_-]/g, '_')}${ca === undefined ? '' : '-ca'}.yaml`,
    );
    const trust =
      tls === undefined
        ? // Plain HTTP: client-node refuses http:// unless TLS checks are off.
          ['      insecure-skip-tls-verify: true']
        : [`      certificate-authority-data: ${Buffer.from(ca ?? tls.cert).toString('base64')}`];
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: fake',
        '    cluster:',
        `      server: ${scheme}://127.0.0.1:${port}`,
        ...trust,
        'users:',
        '  - name: fake',
        '    user:',
        `      token: ${token}`,
        'contexts:',
        '  - name: fake',
        '    context:',
        '      cluster: fake',
        '      user: fake',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return path;
  };

  await listen();
  const kubeconfig = writeKubeconfig(firstToken);

  return {
    get url() {
      return `${scheme}://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    kubeconfig,
    kubeconfigFor: writeKubeconfig,
    get resourceVersion() {
      return rv;
    },
    requests,
    watchCount: (plural) =>
      [...watches].filter((w) => plural === undefined || w.resource.plural === plural).length,
    create: (object) => write(object, 'create'),
    update: (object) => write(object, 'update'),
    apply: (object) => write(object, 'apply'),
    delete: (apiVersionOrGroup, kind, namespace, name) =>
      remove(findResource(groupOf(apiVersionOrGroup), kind), namespace, name),
    get(apiVersionOrGroup, kind, namespace, name) {
      const resource = findResource(groupOf(apiVersionOrGroup), kind);
      const object = table(resource).get(
        keyOf(resource.namespaced ? (namespace ?? 'default') : undefined, name),
      );
      return object === undefined
        ? undefined
        : (clone(render(object, resource, resource.versions[0]!)) as FakeObject);
    },
    dropWatches() {
      for (const w of [...watches]) endWatch(w, true);
    },
    compact() {
      history = [];
      compactedTo = rv;
    },
    bookmark() {
      for (const w of watches) sendBookmark(w);
    },
    install(group) {
      installed.add(group);
    },
    uninstall(group) {
      for (const resource of FAKE_RESOURCES.filter((r) => r.group === group && r.crd)) {
        for (const object of [...table(resource).values()]) {
          const meta = object.metadata as FakeObjectMeta;
          remove(resource, meta.namespace, meta.name);
        }
        for (const w of [...watches]) if (w.resource === resource) endWatch(w, false);
      }
      installed.delete(group);
    },
    failNext(count, code, match) {
      failures.push({ count, status: code, ...(match === undefined ? {} : { match }) });
    },
    stop,
    async start() {
      if (server === undefined) await listen();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
