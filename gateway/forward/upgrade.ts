// forwardUpgrade(req, socket, head, plan): an HTTP/1.1 Upgrade (WebSocket,
// or any other protocol but h2c) passed through to an endpoint. The request
// goes upstream like any other (same header handling, Upgrade restored); if
// the endpoint answers 101, its response head is written to the client and
// from then on the two sockets are piped both ways as raw bytes, with
// backpressure by pipe(), until either side closes. Any other answer is
// relayed as a plain response that closes the connection.
//
//   client ──upgrade req──> gateway ──upgrade req──> endpoint
//   client <──── 101 ────── gateway <──── 101 ────── endpoint
//   client <════ raw bytes, both ways (socket.pipe) ════> endpoint
//
// Request timeouts apply until the 101 only: a WebSocket lives as long as
// its peers want, or until it is idle for the listener's
// tunnelIdleTimeoutMs. While the tunnel is open it counts as one request in
// flight to its endpoint (so least-request spreads long-lived connections).

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type GatewayErrorKey, gatewayErrorCode, gatewayErrorResponses } from '../errors.ts';
import type { UpstreamController, UpstreamDispatchOptions } from '../upstream/dispatcher.ts';
import { CallState, startGuarded } from './call-state.ts';
import { classifyFailure, errorKeyOf } from './failure.ts';
import type { ForwardPlan, ForwardResult } from './plan.ts';
import { completeRequestHeaders, type ProxiedRequest } from './proxy-headers.ts';
import { scanRequestHeaders } from './request-headers.ts';
import { filterResponseHeaders, type ParsedHeaders } from './response-headers.ts';
import { shouldRetry } from './retry.ts';

type DispatchController = UpstreamController;

class UpgradeAborted extends Error {
  override readonly name = 'UpgradeAborted';
}
const aborted = new UpgradeAborted('upgrade aborted by the gateway');

const STATUS_TEXT: Record<number, string> = { 101: 'Switching Protocols' };

function responseHead(status: number, headers: string[], close: boolean): string {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Response'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (close) head += 'connection: close\r\n';
  return `${head}\r\n`;
}

function noop(): void {}

class UpgradeCall extends CallState implements ProxiedRequest, ForwardResult {
  // The scan, ForwardResult and attempt fields come from CallState.
  bytesReceived = 0;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** The gateway gave up on the attempt (timeout, client gone). */
  abandoned = false;
  tunnel: Duplex | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  options: UpstreamDispatchOptions | undefined = undefined;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer, plan: ForwardPlan) {
    super(req.method, req.url, plan);
    this.socket = socket;
    this.head = head;
  }

  start(req: IncomingMessage, plan: ForwardPlan): void {
    const socket = this.socket;
    socket.on('error', noop); // reported through 'close'
    socket.once('close', () => this.onClientClose());
    scanRequestHeaders(req.rawHeaders, this.policy.requestRules, this.headers, this);
    const protocol = this.upgrade;
    if (protocol === undefined || !this.allowed(protocol)) {
      this.fail('UPGRADE_REJECTED');
      return;
    }
    completeRequestHeaders(this, req.socket, plan, this.headers);
    if (this.setCookie !== undefined) this.setCookie = undefined; // no response headers to carry it
    this.options = {
      path: this.path,
      method: this.method,
      headers: this.headers,
      body: null,
      upgrade: protocol,
    };
    const timeoutMs =
      this.policy.backendTimeoutMs > 0
        ? this.policy.backendTimeoutMs
        : this.policy.requestTimeoutMs;
    if (timeoutMs > 0) this.timer = setTimeout(() => this.onTimeout(), timeoutMs);
    this.attempt();
  }

  allowed(protocol: string): boolean {
    for (const token of protocol.split(',')) {
      const name = token.trim().split('/')[0]!.toLowerCase();
      if (name === 'h2c' || name === '') return false;
      if (this.policy.upgrades !== undefined && !this.policy.upgrades.has(name)) return false;
    }
    return true;
  }

  attempt(): void {
    if (this.done) return;
    const host = this.upstream.pick(this.hash, this.lastHost);
    if (host === undefined) {
      this.fail('NO_ENDPOINTS');
      return;
    }
    this.attempts++;
    this.lastHost = host;
    this.attemptHost = host;
    this.connected = false;
    this.controller = null;
    this.upstream.begin(host);
    host.dispatcher.dispatch(this.options!, this);
  }

  onRequestStart(controller: DispatchController): void {
    this.controller = controller;
    this.connected = true;
    if (this.done) {
      this.abandoned = true;
      controller.abort(aborted);
    }
  }

  onRequestUpgrade(
    _controller: DispatchController,
    status: number,
    headers: ParsedHeaders,
    upstreamSocket: Duplex,
  ): void {
    this.upstreamMs = performance.now() - this.startedAt;
    this.clearTimer();
    this.controller = null;
    if (this.done) {
      upstreamSocket.destroy();
      this.endAttempt('cancelled');
      return;
    }
    const client = this.socket;
    const out: string[] = [];
    filterResponseHeaders(headers, this.policy.responseEdits, out, true);
    this.status = status;
    this.responseStarted = true;
    this.tunnel = upstreamSocket;
    upstreamSocket.on('error', noop);
    upstreamSocket.once('close', () => {
      if (!client.destroyed) client.destroy();
    });
    client.write(responseHead(status, out, false), 'latin1');
    if (this.head.length > 0) upstreamSocket.write(this.head);
    upstreamSocket.on('data', (chunk: Buffer) => {
      this.bytesSent += chunk.length;
    });
    client.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
    });
    // A FIN from either side ends the tunnel: pipe() passes it on, then both
    // sockets close (neither is left half open). Idle tunnels are the
    // listener's business (limits.tunnelIdleTimeoutMs).
    upstreamSocket.pipe(client);
    client.pipe(upstreamSocket);
  }

  onResponseStart(controller: DispatchController, status: number, headers: ParsedHeaders): void {
    if (status < 200) return;
    this.upstreamMs = performance.now() - this.startedAt;
    if (this.done) {
      this.abandoned = true;
      controller.abort(aborted);
      return;
    }
    // No upgrade: relay the answer as a plain response and close.
    const out: string[] = [];
    filterResponseHeaders(headers, this.policy.responseEdits, out);
    this.status = status;
    this.responseStarted = true;
    this.socket.write(responseHead(status, out, true), 'latin1');
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    if (this.done) return;
    this.bytesSent += chunk.length;
    if (!this.socket.write(chunk)) {
      controller.pause();
      this.socket.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.clearTimer();
    this.endAttempt(this.status >= 500 ? 'failure' : 'success');
    if (this.done) return;
    this.done = true;
    this.socket.end();
  }

  onResponseError(_controller: DispatchController | null, error: Error): void {
    this.clearTimer();
    if (this.abandoned || error === aborted) {
      this.endAttempt('cancelled');
      return;
    }
    const failure = classifyFailure(error, this.connected);
    this.endAttempt(failure === 'connect' ? 'connect-failure' : 'failure');
    if (this.done) return;
    if (
      shouldRetry(this.policy.retry, {
        attempts: this.attempts,
        failure,
        status: 0,
        method: this.method,
        responseStarted: this.responseStarted,
        bodyReplayable: true,
      })
    ) {
      queueMicrotask(() => this.attempt());
      return;
    }
    this.fail(errorKeyOf(failure));
  }

  onTimeout(): void {
    this.timer = undefined;
    if (this.done || this.tunnel !== undefined) return;
    const controller = this.controller;
    this.abandoned = true;
    if (this.responseStarted) {
      this.errorCode = gatewayErrorCode('UPSTREAM_TIMEOUT');
      this.done = true;
      this.socket.destroy();
    } else {
      if (controller === null) this.endAttempt('cancelled');
      this.fail('UPSTREAM_TIMEOUT');
    }
    controller?.abort(aborted);
  }

  clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  fail(key: GatewayErrorKey): void {
    if (this.done) return;
    this.done = true;
    this.errorCode = gatewayErrorCode(key);
    if (this.responseStarted) {
      this.socket.destroy();
      return;
    }
    const response = gatewayErrorResponses[key];
    this.status = response.status;
    this.socket.end(response.raw);
  }

  onClientClose(): void {
    this.clearTimer();
    const tunnel = this.tunnel;
    if (tunnel !== undefined) {
      if (!tunnel.destroyed) tunnel.destroy();
      this.endAttempt('success');
    } else if (!this.done) {
      this.clientAborted = true;
      this.done = true;
      this.abandoned = true;
      const controller = this.controller;
      if (controller !== null) controller.abort(aborted);
    }
    this.done = true;
    this.report();
  }
}

/**
 * Forwards an HTTP/1.1 Upgrade request: call it from the server's 'upgrade'
 * event with its (req, socket, head). Never throws for a request's sake.
 */
export function forwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  plan: ForwardPlan,
): void {
  const call = new UpgradeCall(req, socket, head, plan);
  startGuarded(call, () => call.start(req, plan));
}
