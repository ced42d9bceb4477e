// The Kubernetes API over HTTP: the only file that imports
// @kubernetes/client-node (convention 5), and only for what it does well:
// reading kubeconfig files and the in-cluster service account, and producing
// credentials (tokens, exec plugins, client certificates) for each request.
//
// Requests go through undici directly rather than client-node's Watch and
// ListWatch: those (2.0) do not ask for bookmarks, stop for good on any
// error other than 410 or a timeout, and drop malformed lines in silence.
// The reflector (reflector.ts) does the list/watch protocol itself; this
// file only moves bytes: one page of a list, the lines of a watch, and a
// merge patch of a status subresource (status-writer.ts).

import { readFileSync } from 'node:fs';
import type { AgentOptions, RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher, ProxyAgent, request } from 'undici';
import { KubernetesErrors } from './errors.ts';
import {
  type ApiWatchEvent,
  type KubernetesApi,
  KubernetesApiError,
  type ListPage,
  type Query,
  type WatchEventType,
} from './kubernetes-api.ts';

export interface HttpApiOptions {
  /** A kubeconfig file. Empty or omitted: auto (see loadKubeConfig). */
  kubeconfig?: string;
  /** Use the pod's service account, whatever else is set. */
  inCluster?: boolean;
  /** The kubeconfig context; its current-context when omitted. */
  context?: string;
  /** Time limit of one list request (ms). Default 60 s. */
  requestTimeoutMs?: number;
  /** A watch that carries nothing, not even a bookmark, for this long is restarted (ms). Default 5 min. */
  watchIdleTimeoutMs?: number;
  /** Defaults to process.env (KUBECONFIG, KUBERNETES_SERVICE_HOST). */
  env?: Readonly<Record<string, string | undefined>>;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** One watch line may not grow past this: the API server's own object limit is ~1.5 MiB. */
const MAX_LINE = 16 * 1024 * 1024;
const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The client configuration, from (first match wins): `kubeconfig`; the pod's
 * service account when inCluster or when running in a pod
 * (KUBERNETES_SERVICE_HOST and a token); $KUBECONFIG (its first readable
 * file); ~/.kube/config. Throws NO_CONFIG or BAD_CONFIG.
 */
export function loadKubeConfig(options: HttpApiOptions = {}): {
  config: KubeConfig;
  source: string;
} {
  const env = options.env ?? process.env;
  const config = new KubeConfig();
  const fromFile = (path: string, source: string) => {
    try {
      config.loadFromFile(path);
    } catch (error) {
      throw KubernetesErrors.BAD_CONFIG(source, (error as Error).message);
    }
    return source;
  };
  let source: string;
  if (options.kubeconfig !== undefined && options.kubeconfig !== '' && !options.inCluster) {
    source = fromFile(options.kubeconfig, options.kubeconfig);
  } else if (
    options.inCluster === true ||
    (env.KUBERNETES_SERVICE_HOST !== undefined && readable(SERVICE_ACCOUNT_TOKEN))
  ) {
    if (env.KUBERNETES_SERVICE_HOST === undefined || env.KUBERNETES_SERVICE_PORT === undefined) {
      throw KubernetesErrors.BAD_CONFIG(
        'the pod',
        'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set',
      );
    }
    config.loadFromCluster();
    source = 'the pod service account';
  } else {
    const candidates = [
      ...(env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== ''),
      join(env.HOME ?? homedir(), '.kube', 'config'),
    ];
    const found = candidates.find(readable);
    if (found === undefined) {
      throw KubernetesErrors.NO_CONFIG(
        `no kubernetes.kubeconfig, not in a pod, nothing readable at ${candidates.join(', ')}`,
      );
    }
    source = fromFile(found, found);
  }
  if (options.context !== undefined && options.context !== '') {
    if (config.getContextObject(options.context) === null) {
      throw KubernetesErrors.BAD_CONFIG(source, `no context named ${options.context}`);
    }
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null || typeof cluster.server !== 'string' || !URL.canParse(cluster.server)) {
    throw KubernetesErrors.BAD_CONFIG(
      source,
      'the current context names no cluster with a server URL',
    );
  }
  return { config, source };
}

function describeRequest(path: string, query: Query): string {
  const params = new URLSearchParams(query).toString();
  return `GET ${path}${params === '' ? '' : `?${params}`}`;
}

export async function createHttpApi(options: HttpApiOptions = {}): Promise<KubernetesApi> {
  const { config, source } = loadKubeConfig(options);
  const cluster = config.getCurrentCluster()!;
  const server = cluster.server.replace(/\/+$/, '');
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const idleTimeoutMs = options.watchIdleTimeoutMs ?? 5 * 60_000;

  /** Credentials for one request; tokens may rotate (service accounts, exec plugins). */
  const credentials = async (): Promise<{
    headers: Record<string, string>;
    tls: RequestOptions;
  }> => {
    const opts: RequestOptions = {};
    try {
      await config.applyToHTTPSOptions(opts);
    } catch (error) {
      throw KubernetesErrors.BAD_CONFIG(source, `credentials: ${(error as Error).message}`);
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'pier-kubernetes-source',
    };
    for (const [key, value] of Object.entries(opts.headers ?? {})) {
      if (value !== undefined) headers[key.toLowerCase()] = String(value);
    }
    if (typeof opts.auth === 'string' && opts.auth !== '') {
      headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    }
    return { headers, tls: opts };
  };

  // One connection pool for the process's life, built from the first credentials.
  const { tls } = await credentials();
  const agentOptions: AgentOptions = {};
  for (const key of [
    'ca',
    'cert',
    'key',
    'pfx',
    'passphrase',
    'rejectUnauthorized',
    'servername',
  ] as const) {
    if (tls[key] !== undefined) (agentOptions as Record<string, unknown>)[key] = tls[key];
  }
  let dispatcher: Dispatcher;
  try {
    const plan = config.createDispatcherOptions(cluster, agentOptions);
    switch (plan.type) {
      case 'agent':
        dispatcher = new Agent({ connect: plan.connect });
        break;
      case 'proxy':
        dispatcher = new ProxyAgent({
          uri: plan.uri,
          requestTls: plan.requestTls,
          connect: plan.connect,
        });
        break;
      case 'none':
        dispatcher = new Agent({ connect: { keepAlive: true, keepAliveInitialDelay: 30_000 } });
        break;
      default:
        throw new Error('SOCKS proxies (proxy-url socks5://) are not supported; use an HTTP proxy');
    }
  } catch (error) {
    throw KubernetesErrors.BAD_CONFIG(source, (error as Error).message);
  }

  const urlOf = (path: string, query: Query) => {
    const url = new URL(`${server}${path}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return url;
  };

  const errorBody = async (body: Dispatcher.ResponseData['body']): Promise<unknown> => {
    try {
      const text = await body.text();
      try {
        return JSON.parse(text);
      } catch {
        return { message: text.slice(0, 300) };
      }
    } catch {
      return undefined;
    }
  };

  /** One request that must answer 200 with JSON: its body, or the error the source classifies. */
  const jsonRequest = async (
    what: string,
    path: string,
    query: Query,
    init: { method: 'GET' | 'PATCH'; headers?: Record<string, string>; body?: string },
    signal: AbortSignal,
    expected: string,
  ): Promise<unknown> => {
    const { headers } = await credentials();
    let response: Dispatcher.ResponseData;
    try {
      response = await request(urlOf(path, query), {
        method: init.method,
        headers: { ...headers, ...init.headers },
        body: init.body,
        dispatcher,
        signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw KubernetesApiError.unreachable(what, error);
    }
    if (response.statusCode !== 200) {
      throw KubernetesApiError.fromStatus(
        what,
        response.statusCode,
        await errorBody(response.body),
      );
    }
    try {
      return await response.body.json();
    } catch (error) {
      if (signal.aborted) throw error;
      throw KubernetesApiError.badStream(
        what,
        `${expected} that is not JSON (${(error as Error).message})`,
      );
    }
  };

  return {
    server,

    async list(path, query, signal): Promise<ListPage> {
      const what = describeRequest(path, query);
      const body = (await jsonRequest(what, path, query, { method: 'GET' }, signal, 'a list')) as {
        items?: unknown;
        metadata?: { resourceVersion?: unknown; continue?: unknown };
      } | null;
      const items = body?.items ?? [];
      const resourceVersion = body?.metadata?.resourceVersion;
      if (!Array.isArray(items) || typeof resourceVersion !== 'string' || resourceVersion === '') {
        throw KubernetesApiError.badStream(
          what,
          'a list without items or metadata.resourceVersion',
        );
      }
      const next = body?.metadata?.continue;
      return typeof next === 'string' && next !== ''
        ? { items, resourceVersion, continue: next }
        : { items, resourceVersion };
    },

    async *watch(path, query, signal): AsyncIterable<ApiWatchEvent> {
      const what = describeRequest(path, { ...query, watch: '1' });
      const { headers } = await credentials();
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      let idle = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const resetIdle = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          idle = true;
          controller.abort();
        }, idleTimeoutMs);
      };
      let response: Dispatcher.ResponseData | undefined;
      try {
        resetIdle();
        try {
          response = await request(urlOf(path, { ...query, watch: '1' }), {
            method: 'GET',
            headers,
            dispatcher,
            signal: controller.signal,
            bodyTimeout: 0,
          });
        } catch (error) {
          if (signal.aborted) return;
          throw KubernetesApiError.unreachable(
            what,
            idle ? `no answer for ${idleTimeoutMs} ms` : error,
          );
        }
        if (response.statusCode !== 200) {
          throw KubernetesApiError.fromStatus(
            what,
            response.statusCode,
            await errorBody(response.body),
          );
        }
        const decoder = new TextDecoder();
        let buffer = '';
        try {
          for await (const chunk of response.body) {
            resetIdle();
            buffer += decoder.decode(chunk as Uint8Array, { stream: true });
            let newline = buffer.indexOf('\n');
            while (newline !== -1) {
              const line = buffer.slice(0, newline);
              buffer = buffer.slice(newline + 1);
              if (line.trim() !== '') yield parseEvent(what, line);
              newline = buffer.indexOf('\n');
            }
            if (buffer.length > MAX_LINE) {
              throw KubernetesApiError.badStream(what, `a line longer than ${MAX_LINE} bytes`);
            }
          }
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof KubernetesApiError) throw error;
          throw KubernetesApiError.unreachable(
            what,
            idle ? `nothing received for ${idleTimeoutMs} ms` : error,
          );
        }
        if (buffer.trim() !== '') yield parseEvent(what, buffer);
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        response?.body.destroy();
      }
    },

    async patchStatus(path, patch, signal): Promise<Record<string, unknown>> {
      const init = {
        method: 'PATCH' as const,
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify(patch),
      };
      return (await jsonRequest(`PATCH ${path}`, path, {}, init, signal, 'an answer')) as Record<
        string,
        unknown
      >;
    },

    async close() {
      await dispatcher.close().catch(() => undefined);
    },
  };
}

function parseEvent(what: string, line: string): ApiWatchEvent {
  let event: { type?: unknown; object?: unknown };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    throw KubernetesApiError.badStream(what, `a line that is not JSON: ${line.slice(0, 120)}`);
  }
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.type !== 'string' ||
    !EVENT_TYPES.has(event.type) ||
    typeof event.object !== 'object' ||
    event.object === null ||
    Array.isArray(event.object)
  ) {
    throw KubernetesApiError.badStream(
      what,
      `a line that is not a watch event: ${line.slice(0, 120)}`,
    );
  }
  return { type: event.type as WatchEventType, object: event.object as Record<string, unknown> };
}
