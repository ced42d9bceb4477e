// A raw client for the fake API server's own tests: plain node:http
// requests and watch streams, so those tests see exactly what the server
// sends (status codes, JSON bodies, watch framing), with no Kubernetes
// client in between.

import { request as httpRequest, type IncomingMessage } from 'node:http';

/** The bearer token the fake API server accepts by default. */
export const FAKE_TOKEN = 'pier-test-token';

export interface ApiReply {
  status: number;
  body: Record<string, unknown>;
}

export interface ApiRequestOptions {
  method?: string;
  /** Bearer token; null: none. Default FAKE_TOKEN. */
  token?: string | null;
  /** JSON-encoded unless a string. */
  body?: unknown;
  contentType?: string;
}

/** One request to `base + path`; the reply's body parsed as JSON. */
export function apiRequest(
  base: string,
  path: string,
  options: ApiRequestOptions = {},
): Promise<ApiReply> {
  const token = options.token === undefined ? FAKE_TOKEN : options.token;
  const text =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string | number> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (text !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    headers['content-length'] = Buffer.byteLength(text);
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { method: options.method ?? 'GET', headers },
      (res) => {
        let reply = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          reply += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(reply) }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

export interface WatchStream<E> {
  status: number;
  /** Events so far, one per line of the stream. */
  events: E[];
  /** Raw text, to check the framing: one JSON object per line. */
  raw(): string;
  /** Resolves with how the stream ended: `end` (clean) or `error`. */
  ended: Promise<'end' | 'error'>;
  waitFor(count: number, ms?: number): Promise<E[]>;
  close(): void;
}

/** A watch request, its events collected as they come. */
export function apiWatch<E = Record<string, unknown>>(
  base: string,
  path: string,
  token: string = FAKE_TOKEN,
): Promise<WatchStream<E>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const events: E[] = [];
      let raw = '';
      let buffer = '';
      let settle: (how: 'end' | 'error') => void = () => undefined;
      const ended = new Promise<'end' | 'error'>((r) => {
        settle = r;
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let nl = buffer.indexOf('\n');
        while (nl !== -1) {
          events.push(JSON.parse(buffer.slice(0, nl)) as E);
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
        }
      });
      res.on('end', () => settle('end'));
      res.on('error', () => settle('error'));
      res.on('aborted', () => settle('error'));
      req.on('error', () => settle('error'));
      resolve({
        status: res.statusCode ?? 0,
        events,
        raw: () => raw,
        ended,
        async waitFor(count, ms = 3000) {
          const deadline = Date.now() + ms;
          while (events.length < count) {
            if (Date.now() > deadline)
              throw new Error(`expected ${count} events, got ${JSON.stringify(events)}`);
            await new Promise((r) => setTimeout(r, 5));
          }
          return events.slice(0, count);
        },
        close: () => req.destroy(),
      });
    });
    req.end();
  });
}
