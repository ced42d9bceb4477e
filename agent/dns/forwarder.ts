// The forwarder: asks upstream resolvers for names outside the cluster zone.
//
// One UDP socket per address family carries every upstream query, matched
// to its response by ID, upstream address and question (anything else that
// arrives is ignored, so a spoofed or late datagram cannot answer a query).
// A truncated UDP response is asked again over TCP. Upstreams are tried in
// turn, healthy ones first; an upstream that fails `maxFails` times in a
// row is marked down and probed with `. NS` every `healthCheckMs` until it
// answers (CoreDNS's forward plugin). At most `maxConcurrent` queries wait
// on upstreams at once; beyond that the query fails at once (OVERLOADED),
// so a slow upstream cannot pile up unbounded state.
//
// Only the question travels upstream: our own ID, RD, and an OPT record
// with our buffer size; nothing of the client's EDNS options.

import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import type { PierError } from '../../src/errors.ts';
import { DnsErrors } from './errors.ts';
import type { DnsStats } from './stats.ts';
import { EDNS_UDP_SIZE, Flag, HEADER_SIZE, Rcode, skipName } from './wire.ts';

export interface UpstreamAddress {
  address: string;
  port: number;
}

export interface ForwarderOptions {
  upstreams: readonly UpstreamAddress[];
  /** Per attempt, UDP and TCP each. */
  timeoutMs: number;
  /** Upstreams asked per query before giving up. */
  attempts: number;
  maxConcurrent: number;
  /** Consecutive failures that mark an upstream down. */
  maxFails: number;
  healthCheckMs: number;
  stats: DnsStats;
}

export interface UpstreamStatus {
  upstream: string;
  healthy: boolean;
  fails: number;
}

export interface Forwarder {
  /**
   * The upstream response to a question (wire key, see wire.ts), with rcode
   * NOERROR or NXDOMAIN. Rejects with a PierError: UPSTREAM_* when every
   * attempt failed, OVERLOADED when over the concurrency bound.
   */
  query(key: string, qtype: number): Promise<Buffer>;
  /** False when every upstream is marked down. */
  available(): boolean;
  status(): UpstreamStatus[];
  close(): Promise<void>;
}

interface Upstream extends UpstreamAddress {
  label: string;
  healthy: boolean;
  fails: number;
  probing: boolean;
}

interface Pending {
  upstream: Upstream;
  question: Buffer;
  resolve: (response: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const upstreams: Upstream[] = options.upstreams.map((u) => ({
    ...u,
    label: isIPv6(u.address) ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`,
    healthy: true,
    fails: 0,
    probing: false,
  }));
  for (const u of upstreams) options.stats.setUpstreamHealth(u.label, true);
  const pending = new Map<number, Pending>();
  const sockets = new Map<'udp4' | 'udp6', dgram.Socket>();
  let inflight = 0;
  let next = 0;
  let closed = false;

  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    if (msg.length < HEADER_SIZE) return;
    const p = pending.get(msg.readUInt16BE(0));
    if (p === undefined || rinfo.address !== p.upstream.address || rinfo.port !== p.upstream.port)
      return;
    if (!sameQuestion(msg, p.question)) return;
    pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    p.resolve(msg);
  };

  const socketFor = (u: Upstream): dgram.Socket => {
    const type = isIPv6(u.address) ? 'udp6' : 'udp4';
    let socket = sockets.get(type);
    if (socket === undefined) {
      socket = dgram.createSocket(type);
      socket.on('message', onMessage);
      // Send errors surface per query (ICMP unreachable, no route): the
      // pending query times out and the upstream counts a failure.
      socket.on('error', () => {});
      socket.unref();
      sockets.set(type, socket);
    }
    return socket;
  };

  const freeId = (): number => {
    for (;;) {
      const id = randomInt(0x10000);
      if (!pending.has(id)) return id;
    }
  };

  const exchangeUdp = (u: Upstream, query: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const id = query.readUInt16BE(0);
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(DnsErrors.UPSTREAM_TIMEOUT(u.label, options.timeoutMs));
      }, options.timeoutMs);
      pending.set(id, { upstream: u, question: questionOf(query), resolve, reject, timer });
      socketFor(u).send(query, u.port, u.address, (error) => {
        if (error && pending.get(id)?.timer === timer) {
          pending.delete(id);
          clearTimeout(timer);
          reject(DnsErrors.UPSTREAM_FAILED(u.label, error.message));
        }
      });
    });

  const attempt = async (u: Upstream, key: string, qtype: number): Promise<Buffer> => {
    const query = buildQuery(freeId(), key, qtype, true);
    let response = await exchangeUdp(u, query);
    if ((response.readUInt16BE(2) & Flag.TC) !== 0)
      response = await exchangeTcp(u, query, options.timeoutMs);
    return response;
  };

  const markFailed = (u: Upstream) => {
    u.fails++;
    if (u.healthy && u.fails >= options.maxFails) {
      u.healthy = false;
      options.stats.setUpstreamHealth(u.label, false);
    }
  };
  const markHealthy = (u: Upstream) => {
    u.fails = 0;
    if (!u.healthy) {
      u.healthy = true;
      options.stats.setUpstreamHealth(u.label, true);
    }
  };

  /** Healthy upstreams first, rotating where each query starts; then the rest. */
  const order = (): Upstream[] => {
    const start = next++ % Math.max(1, upstreams.length);
    const rotated = [...upstreams.slice(start), ...upstreams.slice(0, start)];
    return [...rotated.filter((u) => u.healthy), ...rotated.filter((u) => !u.healthy)];
  };

  const probe = async (u: Upstream) => {
    if (u.probing || closed) return;
    u.probing = true;
    try {
      // `. NS`, no recursion: any well-formed response proves the upstream is up.
      await exchangeUdp(u, buildQuery(freeId(), '\x00', 2, false));
      markHealthy(u);
    } catch {
      // Still down; the next round probes again.
    } finally {
      u.probing = false;
    }
  };
  const healthTimer = setInterval(() => {
    for (const u of upstreams) if (!u.healthy) void probe(u);
  }, options.healthCheckMs);
  healthTimer.unref();

  return {
    async query(key, qtype) {
      if (upstreams.length === 0) throw DnsErrors.NO_UPSTREAMS('the configuration');
      if (inflight >= options.maxConcurrent) throw DnsErrors.OVERLOADED(options.maxConcurrent);
      inflight++;
      let lastError: PierError | undefined;
      try {
        const candidates = order().slice(0, Math.max(1, options.attempts));
        for (const u of candidates) {
          const started = performance.now();
          try {
            const response = await attempt(u, key, qtype);
            options.stats.observeUpstream(u.label, (performance.now() - started) / 1000);
            const rcode = response[3]! & 0x0f;
            if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) {
              // The upstream works but could not answer: try another (it stays healthy).
              markHealthy(u);
              lastError = DnsErrors.UPSTREAM_FAILED(u.label, `rcode ${rcode}`);
              continue;
            }
            markHealthy(u);
            return response;
          } catch (error) {
            options.stats.observeUpstream(u.label, undefined);
            markFailed(u);
            lastError = error as PierError;
          }
        }
        throw lastError ?? DnsErrors.NO_UPSTREAMS('the configuration');
      } finally {
        inflight--;
      }
    },
    available() {
      return upstreams.some((u) => u.healthy);
    },
    status() {
      return upstreams.map((u) => ({ upstream: u.label, healthy: u.healthy, fails: u.fails }));
    },
    async close() {
      closed = true;
      clearInterval(healthTimer);
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(DnsErrors.UPSTREAM_FAILED(p.upstream.label, 'the forwarder closed'));
        pending.delete(id);
      }
      await Promise.all(
        [...sockets.values()].map((s) => new Promise<void>((r) => s.close(() => r()))),
      );
      sockets.clear();
    },
  };
}

/** A query for the wire-form name `key`: RD as asked, and our OPT record. */
export function buildQuery(
  id: number,
  key: string,
  qtype: number,
  recursionDesired: boolean,
): Buffer {
  const name = Buffer.from(key, 'latin1');
  const out = Buffer.alloc(HEADER_SIZE + name.length + 4 + 11);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(recursionDesired ? Flag.RD : 0, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  name.copy(out, HEADER_SIZE);
  let off = HEADER_SIZE + name.length;
  out.writeUInt16BE(qtype, off);
  out.writeUInt16BE(1, off + 2);
  off += 4;
  out[off] = 0;
  out.writeUInt16BE(41, off + 1);
  out.writeUInt16BE(EDNS_UDP_SIZE, off + 3);
  return out;
}

/** The question bytes (name, type, class) of a message with one question, lowercased. */
function questionOf(msg: Buffer): Buffer {
  const end = skipName(msg, HEADER_SIZE);
  if (end < 0 || end + 4 > msg.length) return Buffer.alloc(0);
  const q = Buffer.from(msg.subarray(HEADER_SIZE, end + 4));
  for (let i = 0; i < q.length - 4; i++) if (q[i]! >= 0x41 && q[i]! <= 0x5a) q[i]! |= 0x20;
  return q;
}

function sameQuestion(response: Buffer, question: Buffer): boolean {
  if (response.length < 6 || response.readUInt16BE(4) !== 1 || (response[2]! & 0x80) === 0)
    return false;
  return questionOf(response).equals(question);
}

/** One query over TCP (RFC 7766 framing), for answers that did not fit UDP. */
function exchangeTcp(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: u.address, port: u.port });
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (error: PierError | undefined, response?: Buffer) => {
      socket.destroy();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(response!);
    };
    const timer = setTimeout(
      () => done(DnsErrors.UPSTREAM_TIMEOUT(`${u.label} (TCP)`, timeoutMs)),
      timeoutMs,
    );
    socket.on('connect', () => {
      const framed = Buffer.alloc(query.length + 2);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < 2) return;
      const all = Buffer.concat(chunks);
      const size = all.readUInt16BE(0);
      if (all.length < size + 2) return;
      const response = all.subarray(2, size + 2);
      if (response.length < HEADER_SIZE || response.readUInt16BE(0) !== query.readUInt16BE(0)) {
        done(DnsErrors.UPSTREAM_BAD_RESPONSE(u.label, 'TCP response with another ID'));
      } else if (!sameQuestion(response, questionOf(query))) {
        done(DnsErrors.UPSTREAM_BAD_RESPONSE(u.label, 'TCP response to another question'));
      } else done(undefined, Buffer.from(response));
    });
    socket.on('error', (error) =>
      done(DnsErrors.UPSTREAM_FAILED(`${u.label} (TCP)`, error.message)),
    );
    socket.on('end', () =>
      done(DnsErrors.UPSTREAM_FAILED(`${u.label} (TCP)`, 'connection closed before a response')),
    );
  });
}
