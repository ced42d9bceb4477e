// The port between the source and the Kubernetes API: list one page of a
// collection, watch it. The real one speaks HTTP (http-api.ts); the
// reflector only knows this interface and the API's own vocabulary
// (resourceVersion, continue, watch event types, Status objects).

import { PierError } from '../../errors.ts';
import { KubernetesErrors } from './errors.ts';

export type Query = Readonly<Record<string, string>>;

export interface ListPage {
  /** The raw items; built-in kinds' items usually lack apiVersion and kind. */
  items: unknown[];
  /** The list's resourceVersion: watch from here to miss nothing. */
  resourceVersion: string;
  /** Set when there are more pages. */
  continue?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ApiWatchEvent {
  type: WatchEventType;
  /** The object; for ERROR, a Status (`{ kind: 'Status', code: 410, reason: 'Expired' }`). */
  object: Record<string, unknown>;
}

export interface KubernetesApi {
  /** The API server's URL, for logs. */
  readonly server: string;
  /** GET one page of a collection. Throws KubernetesApiError. */
  list(path: string, query: Query, signal: AbortSignal): Promise<ListPage>;
  /**
   * GET ?watch=1: the events until the server ends the stream (timeoutSeconds)
   * or the signal aborts. Throws KubernetesApiError for an error status, a
   * broken connection or a malformed line.
   */
  watch(path: string, query: Query, signal: AbortSignal): AsyncIterable<ApiWatchEvent>;
  /**
   * PATCH the status subresource (`<object path>/status`) with an RFC 7386
   * merge patch (application/merge-patch+json); resolves with the object as
   * the server returns it. Throws KubernetesApiError (404: the object is
   * gone). Optional: an API without it gets no status written.
   */
  patchStatus?(path: string, patch: unknown, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * An API call that failed. status is the HTTP status (0 when the server
 * could not be reached or the stream broke); reason is the Status reason
 * (`NotFound`, `Expired`, `Forbidden`).
 */
export class KubernetesApiError extends PierError {
  readonly status: number;
  readonly reason: string;

  constructor(code: string, message: string, status: number, reason: string, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'KubernetesApiError';
    this.status = status;
    this.reason = reason;
  }

  /** An error status from the server, from its Status body when it sent one. */
  static fromStatus(what: string, status: number, body: unknown): KubernetesApiError {
    const s = (typeof body === 'object' && body !== null ? body : {}) as {
      reason?: unknown;
      message?: unknown;
    };
    const reason = typeof s.reason === 'string' ? s.reason : '';
    const message = typeof s.message === 'string' ? s.message : '';
    const error = KubernetesErrors.API(what, status, reason, message);
    return new KubernetesApiError(error.code, error.message, status, reason);
  }

  static unreachable(what: string, cause: unknown): KubernetesApiError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const error = KubernetesErrors.UNREACHABLE(what, detail);
    return new KubernetesApiError(error.code, error.message, 0, '', cause);
  }

  static badStream(what: string, detail: string): KubernetesApiError {
    const error = KubernetesErrors.BAD_STREAM(what, detail);
    return new KubernetesApiError(error.code, error.message, 0, '');
  }
}

/** Whether a watch ERROR event's Status or an error means "too old: list again" (410 Gone). */
export function isExpired(statusOrError: unknown): boolean {
  if (statusOrError instanceof KubernetesApiError) return statusOrError.status === 410;
  const s = statusOrError as { code?: unknown; reason?: unknown } | null;
  return s?.code === 410 || s?.reason === 'Expired' || s?.reason === 'Gone';
}
