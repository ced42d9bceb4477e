// What forward()'s and forwardUpgrade()'s calls share: the request-header
// scan's fields (RequestHeaderScanState), the decisions proxy-headers.ts
// makes (ProxiedRequest), the ForwardResult the observer reads, and the
// attempt's hosts and controller. One base class keeps one stable object
// shape per call kind and declares every field once.

import type { UpstreamController } from '../upstream/dispatcher.ts';
import type { Upstream, UpstreamHost } from '../upstream.ts';
import type { ForwardPlan, ForwardPolicy } from './plan.ts';
import { RequestHeaderScanState } from './request-headers.ts';

export abstract class CallState extends RequestHeaderScanState {
  // --- ProxiedRequest (traceparent comes from the scan) ---
  clientIp = '';
  hash = 0;
  setCookie: string | undefined = undefined;

  // --- ForwardResult (bytesReceived is each call's own) ---
  readonly upstreamName: string;
  readonly method: string;
  readonly path: string;
  readonly startedAt: number;
  status = 0;
  bytesSent = 0;
  upstreamMs = -1;
  totalMs = -1;
  attempts = 0;
  errorCode: string | undefined = undefined;
  clientAborted = false;

  // --- the attempt ---
  readonly upstream: Upstream;
  readonly policy: ForwardPolicy;
  /** The headers sent upstream (flat name, value pairs). */
  readonly headers: string[] = [];
  /** Host of the current (or last) attempt; `attemptHost` is set while one runs. */
  lastHost: UpstreamHost | undefined = undefined;
  attemptHost: UpstreamHost | undefined = undefined;
  controller: UpstreamController | null = null;
  /** The attempt reached a connection (onRequestStart ran). */
  connected = false;
  /** Something of the response reached the client. */
  responseStarted = false;
  /** The exchange is over from the gateway's side (ended, cut or the client left). */
  done = false;

  constructor(method: string | undefined, url: string | undefined, plan: ForwardPlan) {
    super();
    this.startedAt = performance.now();
    this.upstream = plan.upstream;
    this.upstreamName = plan.upstream.name;
    this.policy = plan.policy;
    this.method = method ?? 'GET';
    this.path = plan.path ?? url ?? '/';
  }

  get endpoint(): string | undefined {
    return this.lastHost?.key;
  }
}
