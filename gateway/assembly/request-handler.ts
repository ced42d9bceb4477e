// The request handler of one port: what the listener calls per request.
//
//   target (origin/absolute form, dot segments) ─bad─> 400
//   HTTPS: SNI's listener != Host's listener ────────> 421
//   table.lookup(view) ─none─> 404 (gRPC: UNIMPLEMENTED)
//   ExternalAuth rule: ask the auth backend ─denied─> its answer; unreachable: 503
//        allowed: route again, its headers added to the request
//   rule filters (only rules with cors/redirect/rewrite/mirror/unresolved run decide())
//        redirect ─> 30x + Location      unresolved filter ─> 500
//   weighted backend ─unresolved─> 500
//   forward(req, res, plan) / forwardUpgrade(req, socket, head, plan)
//        no endpoint: 503, connect/reset: 502, timeouts: 504 (gateway/errors.ts)
//
// The hot path (an origin-form request to a rule without per-request
// filters) allocates nothing here: the RequestView is one scratch object per
// port (lookup is synchronous), the rule runtime and its ForwardPlan were
// compiled at sync time, and the routing is read once per request from
// `state.routing`, which a sync swaps in one assignment.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  type ErrorResponseTarget,
  type GatewayErrorKey,
  gatewayErrorResponses,
  sendGatewayError,
} from '../errors.ts';
import { applyHeaderEdits, decide, type ForwardDecision } from '../filters.ts';
import { type ForwardPlan, forward, forwardUpgrade } from '../forward.ts';
import type {
  GatewayRequest,
  GatewayResponse,
  ListenerHandlers,
  ListenerProtocol,
} from '../listener.ts';
import type { AccessRecord } from '../observe/access-log.ts';
import type { RouteObserver } from '../observe/route-observer.ts';
import type { RouteMatch } from '../router.ts';
import { FILTER_NOT_SUPPORTED, type LocalReply, MISDIRECTED, rawReply } from './errors.ts';
import { type AuthVerdict, authorize } from './external-auth.ts';
import { mirrorRequest } from './mirror.ts';
import { readTarget, type TargetView } from './request-target.ts';
import type { BackendTarget, PortRouting, RuleRuntime } from './routing.ts';
import type { UpstreamRegistry } from './upstream-registry.ts';

/** What to answer instead of forwarding: a local reply, or a row of gateway/errors.ts. */
interface LocalAnswer {
  readonly status: number;
  readonly headers: readonly string[];
  readonly body: Buffer | undefined;
  readonly code: string | undefined;
  readonly key: GatewayErrorKey | undefined;
}

const FILTER_ANSWER: LocalAnswer = { ...FILTER_NOT_SUPPORTED, key: undefined };
const MISDIRECTED_ANSWER: LocalAnswer = { ...MISDIRECTED, key: undefined };
const errorAnswer = (key: GatewayErrorKey): LocalAnswer => ({ ...gatewayErrorResponses[key], key });
const UNRESOLVED_ANSWER = errorAnswer('BACKEND_UNRESOLVED');
const NO_ADDITIONS: readonly string[] = Object.freeze([]);
/** The access log's error code of a request the auth backend denied. */
const EXTERNAL_AUTH_DENIED = 'PIER_GW_EXTERNAL_AUTH_DENIED';
const BAD_REQUEST_ANSWER = errorAnswer('BAD_REQUEST');
const NO_ROUTE_ANSWER = errorAnswer('NO_ROUTE');

/** The port's live routing: a sync replaces `routing` in one assignment. */
export interface PortState {
  routing: PortRouting;
}

export interface RequestHandlerOptions {
  state: PortState;
  protocol: ListenerProtocol;
  registry: UpstreamRegistry;
}

/** The response of a request the gateway answered itself, for the observer. */
class LocalRecord implements AccessRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytesSent: number;
  readonly bytesReceived = -1;
  readonly totalMs: number;
  readonly upstreamMs = -1;
  readonly endpoint = undefined;
  readonly attempts = 0;
  readonly clientIp: string;
  readonly traceparent: string;
  readonly errorCode: string | undefined;
  readonly clientAborted: boolean;

  constructor(
    req: IncomingMessage | GatewayRequest,
    status: number,
    bytes: number,
    code: string | undefined,
    started: number,
    clientAborted = false,
  ) {
    this.clientAborted = clientAborted;
    this.method = req.method ?? '';
    this.path = req.url ?? '';
    this.status = status;
    this.bytesSent = bytes;
    this.totalMs = performance.now() - started;
    this.clientIp = req.socket?.remoteAddress ?? '';
    const tp = req.headers.traceparent;
    this.traceparent = typeof tp === 'string' ? tp : '';
    this.errorCode = code;
  }
}

function isGrpc(req: GatewayRequest | IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type?.startsWith('application/grpc') === true;
}

/** Weighted choice returning the index (router/backend.ts pickBackend, by position). */
function pickIndex(match: RouteMatch): number {
  const backends = match.backends;
  if (backends.length <= 1 || match.totalWeight <= 0) return backends.length === 1 ? 0 : -1;
  let left = Math.random() * match.totalWeight;
  for (let i = 0; i < backends.length; i++) {
    left -= backends[i]!.weight;
    if (left < 0) return i;
  }
  return backends.length - 1;
}

/** HTTP/1.1 requests with two Host headers are refused (RFC 9112 3.2). */
function duplicateHost(raw: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (seen) return true;
      seen = true;
    }
  }
  return false;
}

export function createRequestHandlers(options: RequestHandlerOptions): ListenerHandlers {
  const { state, protocol, registry } = options;
  const tls = protocol === 'HTTPS';
  const scheme = tls ? 'https' : 'http';
  const view: TargetView = {
    method: 'GET',
    host: '',
    path: '/',
    query: '',
    headers: [],
    scheme,
    target: undefined,
    absolute: false,
  };

  /** Fills the view; undefined when the request was answered (400, 421). */
  function route(
    req: GatewayRequest | IncomingMessage,
    routing: PortRouting,
  ): RouteMatch | null | undefined {
    const h2 = req.httpVersionMajor === 2;
    const host = h2
      ? ((req.headers[':authority'] as string | undefined) ?? req.headers.host)
      : req.headers.host;
    view.method = req.method ?? 'GET';
    view.headers = req.rawHeaders;
    if (!readTarget(req.url ?? '', host ?? '', view)) return null;
    if (!h2 && duplicateHost(req.rawHeaders)) return null;
    return routing.table.lookup(view);
  }

  function misdirected(req: GatewayRequest | IncomingMessage, routing: PortRouting): boolean {
    const sni = (req.socket as TLSSocket | undefined)?.servername;
    if (typeof sni !== 'string' || sni === '') return false;
    return routing.table.listenerFor(sni) !== routing.table.listenerFor(view.host);
  }

  function answerError(
    req: GatewayRequest,
    res: GatewayResponse,
    key: GatewayErrorKey,
    observer: RouteObserver,
    started: number,
  ): void {
    const grpc = isGrpc(req);
    const response = gatewayErrorResponses[key];
    // A request the gateway cannot read is not followed by another on the same connection.
    if (key === 'BAD_REQUEST' && req.httpVersionMajor === 1) {
      (res as ServerResponse).shouldKeepAlive = false;
    }
    sendGatewayError(res as unknown as ErrorResponseTarget, key, grpc);
    observer.onResponse(
      new LocalRecord(
        req,
        grpc ? 200 : response.status,
        grpc ? 0 : response.body.length,
        response.code,
        started,
      ),
    );
  }

  function answerLocal(
    req: GatewayRequest,
    res: GatewayResponse,
    reply: LocalReply,
    observer: RouteObserver,
    started: number,
  ): void {
    const out = res as unknown as ErrorResponseTarget;
    out.writeHead(reply.status, reply.headers as string[]);
    out.end(reply.body);
    observer.onResponse(new LocalRecord(req, reply.status, reply.body.length, reply.code, started));
  }

  /**
   * The plan for a request the rule lets through, or what to answer instead
   * (allocated only then: redirects, 500s).
   */
  function plan(
    req: GatewayRequest | IncomingMessage,
    match: RouteMatch,
    rule: RuleRuntime,
  ): ForwardPlan | LocalAnswer {
    let target = view.target;
    let host = view.absolute ? view.host : undefined;
    let mirrors: ForwardDecision['mirrors'] | undefined;
    let requestEdits: ForwardDecision['requestHeaders'] | undefined;
    let additions: readonly string[] = NO_ADDITIONS;
    if (rule.decides) {
      const decision = decide(match, view);
      additions = decision.responseAdditions;
      if (decision.action === 'preflight') {
        return {
          status: decision.status,
          headers: applyHeaderEdits(
            ['content-length', '0', ...additions],
            decision.responseHeaders,
          ),
          body: undefined,
          code: undefined,
          key: undefined,
        };
      }
      if (decision.action === 'redirect') {
        const headers = applyHeaderEdits(
          ['location', decision.location ?? '/', 'content-length', '0', ...additions],
          decision.responseHeaders,
        );
        return {
          status: decision.status,
          headers,
          body: undefined,
          code: undefined,
          key: undefined,
        };
      }
      if (decision.action === 'respond') return FILTER_ANSWER;
      if (decision.path !== view.path) {
        target = view.query === '' ? decision.path : `${decision.path}?${view.query}`;
      }
      if (decision.host !== undefined) host = decision.host;
      if (decision.mirrors.length > 0) {
        mirrors = decision.mirrors;
        requestEdits = decision.requestHeaders;
      }
    }
    const index = pickIndex(match);
    const backend: BackendTarget | undefined = index < 0 ? undefined : rule.targets[index];
    if (backend === undefined) return UNRESOLVED_ANSWER;
    if (mirrors !== undefined && requestEdits !== undefined) {
      mirrorRequest(
        req as GatewayRequest,
        mirrors,
        registry,
        { path: target ?? req.url ?? '/', host: host ?? view.host },
        requestEdits,
        rule.clientCertificate,
      );
    }
    if (target === undefined && host === undefined && additions.length === 0) return backend.plan;
    const p: ForwardPlan = { upstream: backend.plan.upstream, policy: backend.plan.policy };
    if (target !== undefined) p.path = target;
    if (host !== undefined) p.host = host;
    if (additions.length > 0) p.responseAdditions = additions;
    return p;
  }

  /**
   * ExternalAuth: asks the rule's auth backend, then serves the request
   * again with the verdict (`then`), or answers with the denial. The
   * request's body (an upgrade's bytes) waits unread meanwhile; the scratch
   * view is another request's by then, so the second pass routes again.
   */
  function authorizeThen(
    req: GatewayRequest | IncomingMessage,
    started: number,
    rule: RuleRuntime,
    pause: () => void,
    closed: () => boolean,
    then: (additions: readonly string[]) => void,
    deny: (answer: LocalAnswer) => void,
    abort: () => void,
  ): void {
    const auth = rule.externalAuth!;
    const request = {
      method: req.method ?? 'GET',
      target: req.url ?? '/',
      host: view.host,
      rawHeaders: req.rawHeaders,
    };
    pause();
    authorize(auth.config, auth.upstream, request)
      .then((verdict) => {
        if (closed()) {
          // The client left while the auth backend was asked: its line says so.
          rule.observer.onResponse(new LocalRecord(req, 0, 0, undefined, started, true));
          return;
        }
        if (verdict.allowed) then(verdict.headers);
        else deny(deniedAnswer(verdict));
      })
      // Off the listener's call stack now: a throw must cost this request, not the process.
      .catch(abort);
  }

  function serve(
    req: GatewayRequest,
    res: GatewayResponse,
    started: number,
    authorized: readonly string[] | undefined,
  ): void {
    const routing = state.routing;
    const match = route(req, routing);
    if (match === null) {
      answerError(req, res, 'BAD_REQUEST', routing.unmatched, started);
      return;
    }
    if (tls && misdirected(req, routing)) {
      answerLocal(req, res, MISDIRECTED, routing.unmatched, started);
      return;
    }
    if (match === undefined) {
      answerError(req, res, 'NO_ROUTE', routing.unmatched, started);
      return;
    }
    const rule = routing.rule(match);
    if (rule.externalAuth !== undefined && authorized === undefined) {
      authorizeThen(
        req,
        started,
        rule,
        // Nothing reads the body yet, so it waits in the stream (and the socket
        // under backpressure); pause() would keep forward()'s reader from starting.
        noop,
        () => res.destroyed || res.writableEnded,
        (additions) => serve(req, res, started, additions),
        (answer) => answerPlanned(req, res, answer, rule.observer, started),
        () => res.destroy(),
      );
      return;
    }
    const p = plan(req, match, rule);
    if ('upstream' in p) {
      forward(req, res, authorized === undefined ? p : { ...p, requestAdditions: authorized });
      return;
    }
    answerPlanned(req, res, p, rule.observer, started);
  }

  /** A LocalAnswer: a gateway error by key, or the status, headers and body it carries. */
  function answerPlanned(
    req: GatewayRequest,
    res: GatewayResponse,
    answer: LocalAnswer,
    observer: RouteObserver,
    started: number,
  ): void {
    if (answer.key !== undefined) {
      answerError(req, res, answer.key, observer, started);
      return;
    }
    const out = res as unknown as ErrorResponseTarget;
    out.writeHead(answer.status, answer.headers as string[]);
    out.end(answer.body);
    observer.onResponse(
      new LocalRecord(req, answer.status, answer.body?.length ?? 0, answer.code, started),
    );
  }

  function serveUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    started: number,
    authorized: readonly string[] | undefined,
  ): void {
    const routing = state.routing;
    const refuse = (answer: LocalAnswer, observer: RouteObserver) => {
      const r = answer.key === undefined ? answer : gatewayErrorResponses[answer.key];
      socket.end(rawReply(r.status, r.headers, r.body));
      observer.onResponse(new LocalRecord(req, r.status, r.body?.length ?? 0, r.code, started));
    };
    const match = route(req, routing);
    if (match === null) {
      refuse(BAD_REQUEST_ANSWER, routing.unmatched);
      return;
    }
    if (tls && misdirected(req, routing)) {
      refuse(MISDIRECTED_ANSWER, routing.unmatched);
      return;
    }
    if (match === undefined) {
      refuse(NO_ROUTE_ANSWER, routing.unmatched);
      return;
    }
    const rule = routing.rule(match);
    if (rule.externalAuth !== undefined && authorized === undefined) {
      authorizeThen(
        req,
        started,
        rule,
        () => socket.pause(),
        () => socket.destroyed,
        (additions) => serveUpgrade(req, socket, head, started, additions),
        (answer) => refuse(answer, rule.observer),
        () => socket.destroy(),
      );
      return;
    }
    const p = plan(req, match, rule);
    if ('upstream' in p)
      forwardUpgrade(
        req,
        socket,
        head,
        authorized === undefined ? p : { ...p, requestAdditions: authorized },
      );
    else refuse(p, rule.observer);
  }

  return {
    request(req, res) {
      serve(req, res, performance.now(), undefined);
    },

    upgrade(req, socket, head) {
      socket.on('error', destroySocket);
      serveUpgrade(req, socket, head, performance.now(), undefined);
    },
  };
}

/** An auth backend's denial as the client gets it: its status, headers and body. */
function deniedAnswer(verdict: Exclude<AuthVerdict, { allowed: true }>): LocalAnswer {
  const body = verdict.body ?? Buffer.alloc(0);
  return {
    status: verdict.status,
    headers: [...verdict.headers, 'content-length', String(body.length)],
    body,
    code: EXTERNAL_AUTH_DENIED,
    key: undefined,
  };
}

function noop(): void {}

function destroySocket(this: Duplex): void {
  this.destroy();
}
