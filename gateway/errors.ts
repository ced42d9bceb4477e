// The gateway's error table (convention 9): every response the gateway writes
// itself instead of a backend comes from here, with a stable code, an HTTP
// status, a short plain-text body for the client and a message for the
// operator's log. Add a code by adding a row; nothing else needs to change.
//
// Responses are precomputed per code (status line parts, headers, body
// Buffer), so writing one on the hot path allocates nothing but the header
// array Node needs. gRPC clients (content-type application/grpc) get a
// trailers-only response with grpc-status instead, because a gRPC client
// reads the status from there and treats a bare 5xx as a protocol error.

import { STATUS_CODES } from 'node:http';
import { errorTable, type PierError } from '../src/errors.ts';

export interface GatewayErrorSpec {
  /** HTTP status the client gets. */
  status: number;
  /** Short plain-text body for the client: no internals, no addresses. */
  body: string;
  /** gRPC status code for gRPC clients (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
  grpcStatus: number;
  /** The operator's message: what happened and what to do. */
  message: (...args: never[]) => string;
}

// grpc-status values used below.
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_INVALID_ARGUMENT = 3;

export const gatewayErrorTable = {
  NO_ROUTE: {
    status: 404,
    body: 'no route',
    grpcStatus: GRPC_UNIMPLEMENTED,
    message: (host: string, path: string) =>
      `no route matches host ${host} path ${path}: check the hostnames and matches of the HTTPRoutes attached to this listener`,
  },
  NO_ENDPOINTS: {
    status: 503,
    body: 'no healthy upstream',
    grpcStatus: GRPC_UNAVAILABLE,
    message: (upstream: string) =>
      `${upstream} has no ready endpoint (none ready, or all ejected as outliers): check the Service's pods and its EndpointSlices`,
  },
  BACKEND_UNRESOLVED: {
    status: 500,
    body: 'backend not resolved',
    grpcStatus: GRPC_INTERNAL,
    message: (backend: string, why: string) =>
      `backendRef ${backend} cannot be resolved (${why}): check that the Service and port exist, and a ReferenceGrant for cross-namespace references`,
  },
  UPSTREAM_CONNECT: {
    status: 502,
    body: 'upstream connect error',
    grpcStatus: GRPC_UNAVAILABLE,
    message: (endpoint: string, cause: string) =>
      `cannot connect to endpoint ${endpoint} (${cause}): check that the pod listens on the target port and that network policy admits the gateway; for TLS (BackendTLSPolicy), that the policy's CA and hostname fit the pod's certificate`,
  },
  UPSTREAM_RESET: {
    status: 502,
    body: 'upstream connection reset',
    grpcStatus: GRPC_UNAVAILABLE,
    message: (endpoint: string, cause: string) =>
      `endpoint ${endpoint} closed or reset the connection before a response (${cause}): check the backend's logs and its keep-alive timeout (it must exceed the gateway's)`,
  },
  UPSTREAM_PROTOCOL: {
    status: 502,
    body: 'invalid upstream response',
    grpcStatus: GRPC_INTERNAL,
    message: (endpoint: string, cause: string) =>
      `endpoint ${endpoint} sent a response the gateway cannot parse (${cause}): check the Service port's appProtocol (http vs kubernetes.io/h2c)`,
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    body: 'upstream request timeout',
    grpcStatus: GRPC_DEADLINE_EXCEEDED,
    message: (endpoint: string, ms: number) =>
      `endpoint ${endpoint} did not answer within the backendRequest timeout of ${ms} ms: raise the HTTPRoute's timeouts.backendRequest or speed up the backend`,
  },
  REQUEST_TIMEOUT: {
    status: 504,
    body: 'request timeout',
    grpcStatus: GRPC_DEADLINE_EXCEEDED,
    message: (upstream: string, ms: number) =>
      `the request to ${upstream} did not complete within the request timeout of ${ms} ms: raise the HTTPRoute's timeouts.request`,
  },
  UPGRADE_REJECTED: {
    status: 400,
    body: 'upgrade not allowed',
    grpcStatus: GRPC_INVALID_ARGUMENT,
    message: (protocol: string) =>
      `the client asked to upgrade to ${protocol}, which the gateway does not pass through (h2c upgrades are never forwarded)`,
  },
  BAD_REQUEST: {
    status: 400,
    body: 'bad request',
    grpcStatus: GRPC_INVALID_ARGUMENT,
    message: (why: string) => `rejected a malformed request: ${why}`,
  },
} as const satisfies Record<string, GatewayErrorSpec>;

export type GatewayErrorKey = keyof typeof gatewayErrorTable;

type Messages = { [K in GatewayErrorKey]: (typeof gatewayErrorTable)[K]['message'] };

/** Throwable errors with stable codes: `throw GatewayErrors.NO_ENDPOINTS('Service default/web:80')`. */
export const GatewayErrors = errorTable(
  'GW',
  Object.fromEntries(
    Object.entries(gatewayErrorTable).map(([key, spec]) => [key, spec.message]),
  ) as Messages,
);

/** The code of a key: `PIER_GW_NO_ENDPOINTS`. */
export function gatewayErrorCode(key: GatewayErrorKey): string {
  return GatewayErrors.codes[key];
}

/** A precomputed error response. */
export interface GatewayErrorResponse {
  readonly key: GatewayErrorKey;
  readonly code: string;
  readonly status: number;
  /** `503 no healthy upstream (PIER_GW_NO_ENDPOINTS)\n` */
  readonly body: Buffer;
  /** Flat [name, value, ...] for writeHead. */
  readonly headers: readonly string[];
  /** Flat headers of the gRPC trailers-only form (HTTP 200, grpc-status, grpc-message). */
  readonly grpcHeaders: readonly string[];
  /** The whole HTTP/1.1 response with Connection: close, for a raw socket (upgrades, clientError). */
  readonly raw: Buffer;
}

function precompute(key: GatewayErrorKey): GatewayErrorResponse {
  const spec: GatewayErrorSpec = gatewayErrorTable[key];
  const code = gatewayErrorCode(key);
  const body = Buffer.from(`${spec.status} ${spec.body} (${code})\n`, 'latin1');
  const raw = Buffer.concat([
    Buffer.from(
      `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status] ?? 'Error'}\r\n` +
        `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n` +
        `x-pier-error: ${code}\r\nconnection: close\r\n\r\n`,
      'latin1',
    ),
    body,
  ]);
  return Object.freeze({
    raw,
    key,
    code,
    status: spec.status,
    body,
    headers: Object.freeze([
      'content-type',
      'text/plain; charset=utf-8',
      'content-length',
      String(body.length),
      'x-pier-error',
      code,
    ]),
    grpcHeaders: Object.freeze([
      'content-type',
      'application/grpc',
      'grpc-status',
      String(spec.grpcStatus),
      // grpc-message is percent-encoded; these bodies are plain ASCII words.
      'grpc-message',
      encodeURIComponent(`${spec.body} (${code})`),
      'x-pier-error',
      code,
    ]),
  });
}

export const gatewayErrorResponses: { readonly [K in GatewayErrorKey]: GatewayErrorResponse } =
  Object.freeze(
    Object.fromEntries(
      (Object.keys(gatewayErrorTable) as GatewayErrorKey[]).map((key) => [key, precompute(key)]),
    ) as { [K in GatewayErrorKey]: GatewayErrorResponse },
  );

/** The minimal response surface shared by http.ServerResponse and http2's compat response. */
export interface ErrorResponseTarget {
  readonly headersSent: boolean;
  writeHead(status: number, headers: string[]): unknown;
  end(chunk?: Buffer): unknown;
  destroy?(error?: Error): unknown;
}

/**
 * Writes the error response for `key`, or, when the response has already
 * started, ends it abruptly (the client must see a truncated response, not a
 * clean end). `grpc` selects the trailers-only gRPC form.
 */
export function sendGatewayError(
  res: ErrorResponseTarget,
  key: GatewayErrorKey,
  grpc = false,
): void {
  if (res.headersSent) {
    res.destroy?.();
    return;
  }
  const response = gatewayErrorResponses[key];
  if (grpc) {
    res.writeHead(200, response.grpcHeaders as string[]);
    res.end();
    return;
  }
  res.writeHead(response.status, response.headers as string[]);
  res.end(response.body);
}

/** True when the error is a PierError from this table with the given key. */
export function isGatewayError(error: unknown, key: GatewayErrorKey): error is PierError {
  return error instanceof Error && (error as Partial<PierError>).code === gatewayErrorCode(key);
}
