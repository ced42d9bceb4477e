// What forward()'s and forwardUpgrade()'s calls share: the request-header
// scan's fields (RequestHeaderScanState), the decisions proxy-headers.ts
// makes (ProxiedRequest), the ForwardResult the observer reads, and the
// attempt's hosts and controller. One base class keeps one stable object
// shape per call kind and declares every field once.

import type { GatewayErrorKey } from '../errors.ts';
import type { UpstreamController } from '../upstream/dispatcher.ts';
import type { AttemptOutcome } from '../upstream/outlier-detector.ts';
import type { Upstream, UpstreamHost } from '../upstream.ts';
import type { ForwardPlan, ForwardPolicy, ForwardResult } from './plan.ts';
import { RequestHeaderScanState } from './request-headers.ts';

export abstract class CallState extends RequestHeaderScanState implements ForwardResult {
  // --- ProxiedRequest (traceparent comes from the scan) ---
  clientIp = '';
  hash = 0;
  setCookie: string | undefined = undefined;

  // --- ForwardResult ---
  /** Each call counts the request body its own way. */
  abstract readonly bytesReceived: number;
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
  /** ForwardPlan.responseAdditions. */
  readonly responseAdditions: readonly string[] | undefined;
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
    this.responseAdditions = plan.responseAdditions;
    this.method = method ?? 'GET';
    this.path = plan.path ?? url ?? '/';
  }

  get endpoint(): string | undefined {
    return this.lastHost?.key;
  }

  /** The attempt is over: one less in flight on its host, and its outcome to outlier detection. */
  endAttempt(outcome: AttemptOutcome): void {
    const host = this.attemptHost;
    if (host === undefined) return;
    this.attemptHost = undefined;
    this.controller = null;
    this.upstream.end(host, outcome);
  }

  /** The exchange is over: its duration, and the result to the observer (access log, metrics). */
  report(): void {
    this.totalMs = performance.now() - this.startedAt;
    const observer = this.policy.observer;
    if (observer === undefined) return;
    try {
      observer.onResponse(this);
    } catch {
      // An observer's bug must not take the gateway down; it is not ours to log.
    }
  }

  /** The gateway answers with an error (or cuts what it started to send). */
  abstract fail(key: GatewayErrorKey): void;
}

/**
 * Runs a call's start; an exception there is a bug, not the request's
 * fault: the client gets 502 rather than the listener crashing, and the
 * bug is reported loudly.
 */
export function startGuarded(call: CallState, start: () => void): void {
  try {
    start();
  } catch (error) {
    call.endAttempt('cancelled');
    call.fail('UPSTREAM_PROTOCOL');
    process.emitWarning(
      error instanceof Error ? error : new Error(String(error)),
      'PierForwardBug',
    );
  }
}
