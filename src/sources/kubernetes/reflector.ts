// One kind (in one namespace, or all) kept in step with the API server: the
// list/watch protocol as client-go's reflector does it.
//
//   list (paged, a consistent snapshot)  -> sink.replace, remember its resourceVersion
//   watch from there, allowWatchBookmarks -> sink.upsert / sink.remove; every event
//                                            and bookmark moves the resourceVersion on
//   stream ends (timeoutSeconds) or drops -> watch again from the last resourceVersion
//   410 Gone (ERROR event or status)      -> list again: the sink diffs, so objects
//                                            deleted meanwhile are deleted
//   404 on every version                  -> not installed (a CRD): an empty list, so
//                                            the Store holds none either; retried slowly
//   other errors                          -> exponential backoff with jitter, then resume
//
// Objects are prepared (prepare-object.ts) here; invalid ones are logged once
// per resourceVersion with kind, namespace/name and path, and passed on so
// the sink keeps the last valid version.

import type { ObjectRef } from '../../model/object.ts';
import { sleep } from '../../sleep.ts';
import { KubernetesErrors } from './errors.ts';
import { isExpired, type KubernetesApi, KubernetesApiError, type Query } from './kubernetes-api.ts';
import { type Prepared, prepareObject, rawRef, rawResourceVersion } from './prepare-object.ts';
import { type ApiResource, apiVersionOf, collectionPath } from './resources.ts';
import type { ScopeSink } from './store-writer.ts';

export interface ReflectorLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Told when a kind turns out not to be served, and when it is again. */
export interface InstallReporter {
  missing(resource: ApiResource, tried: readonly string[]): void;
  installed(resource: ApiResource, version: string): void;
}

export interface ReflectorOptions {
  api: KubernetesApi;
  resource: ApiResource;
  /** For a namespaced kind: only this namespace (all when omitted). */
  namespace?: string;
  /** Added to the resource's own field selector: `spec.nodeName=n1`, `metadata.name=web`. */
  fieldSelector?: string;
  sink: ScopeSink;
  logger: ReflectorLogger;
  reporter: InstallReporter;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /** The watch's timeoutSeconds; default a random 300-600 per watch (as client-go). */
  watchTimeoutSeconds?: number;
  /** How long to wait before looking again for a kind that is not served (ms). Default 60 s. */
  notInstalledRetryMs?: number;
  /** Backoff after errors (ms). Defaults 200 and 30 000. */
  backoff?: { initialMs?: number; maxMs?: number };
}

export type ReflectorState = 'starting' | 'listing' | 'watching' | 'not-installed' | 'retrying';

export interface ReflectorStatus {
  kind: string;
  namespace?: string;
  state: ReflectorState;
  /** The API version served, once listed. */
  version?: string;
  resourceVersion: string;
  lists: number;
  watches: number;
  /** The first list (or the finding that the kind is not served) is done. */
  synced: boolean;
  /** The first list was tried, whatever came of it (for readiness: a 403 must not hold it forever). */
  attempted: boolean;
  lastError?: string;
}

export interface Reflector {
  /** Lists and watches until the signal aborts; never rejects. */
  run(signal: AbortSignal): Promise<void>;
  status(): ReflectorStatus;
}

class NotInstalled extends Error {
  readonly tried: readonly string[];
  constructor(tried: readonly string[]) {
    super('not installed');
    this.tried = tried;
  }
}

const jitter = (ms: number) => Math.round(ms * (0.8 + Math.random() * 0.4));

export function createReflector(options: ReflectorOptions): Reflector {
  const { api, resource, sink, logger, reporter } = options;
  const namespace = resource.namespaced ? options.namespace : undefined;
  const pageSize = options.pageSize ?? 500;
  const notInstalledRetryMs = options.notInstalledRetryMs ?? 60_000;
  const initialBackoff = options.backoff?.initialMs ?? 200;
  const maxBackoff = options.backoff?.maxMs ?? 30_000;
  const fieldSelector = [resource.fieldSelector, options.fieldSelector]
    .filter((s): s is string => s !== undefined && s !== '')
    .join(',');
  const selectors: Query = fieldSelector === '' ? {} : { fieldSelector };
  const where = { kind: resource.kind, ...(namespace === undefined ? {} : { namespace }) };

  const status: ReflectorStatus = {
    ...where,
    state: 'starting',
    resourceVersion: '',
    lists: 0,
    watches: 0,
    synced: false,
    attempted: false,
  };
  /** key -> the resourceVersion whose problems were logged, so each bad version is reported once. */
  const reportedInvalid = new Map<string, string>();
  let missing = false;
  let failing = false;

  const refKey = (ref: ObjectRef) => `${ref.namespace ?? ''}/${ref.name}`;

  const prepare = (raw: unknown, version: string): Prepared => {
    const prepared = prepareObject(raw, resource, apiVersionOf(resource, version));
    const key = prepared.ref === undefined ? undefined : refKey(prepared.ref);
    if (prepared.ok) {
      if (key !== undefined) reportedInvalid.delete(key);
      return prepared;
    }
    const rv = rawResourceVersion(raw);
    if (key !== undefined && rv !== '' && reportedInvalid.get(key) === rv) return prepared;
    if (key !== undefined) reportedInvalid.set(key, rv);
    const { error } = prepared;
    const fields = {
      code: KubernetesErrors.codes.INVALID_OBJECT,
      kind: resource.kind,
      namespace: prepared.ref?.namespace,
      name: prepared.ref?.name,
      resourceVersion: rv === '' ? undefined : rv,
    };
    const issues = error.issues.length > 0 ? error.issues : [{ path: '', message: error.message }];
    for (const issue of issues) {
      const at = issue.path === '' ? '' : `${issue.path}: `;
      logger.warn(
        { ...fields, path: issue.path },
        KubernetesErrors.INVALID_OBJECT(`${error.subject}: ${at}${issue.message}`).message,
      );
    }
    return prepared;
  };

  const failed = (what: string, error: unknown, retryInMs: number) => {
    const message = error instanceof Error ? error.message : String(error);
    status.lastError = message;
    const fields = {
      ...where,
      err: error,
      code: (error as { code?: unknown }).code,
      status: error instanceof KubernetesApiError ? error.status : undefined,
      retryInMs,
    };
    // The first failure of a streak is a warning; repeats are for debugging.
    if (failing) logger.debug(fields, `${what} failed again`);
    else logger.warn(fields, `${what} failed; retrying`);
    failing = true;
  };

  const recovered = (what: string) => {
    if (!failing) return;
    failing = false;
    status.lastError = undefined;
    logger.info(where, `${what} works again`);
  };

  /** Every page of one version's list; restarts once if a continue token expires mid-way. */
  const listVersion = async (version: string, signal: AbortSignal) => {
    const path = collectionPath(resource, version, namespace);
    for (let attempt = 0; ; attempt++) {
      const items: unknown[] = [];
      let next: string | undefined;
      let resourceVersion = '';
      try {
        do {
          const page = await api.list(
            path,
            {
              ...selectors,
              limit: String(pageSize),
              ...(next === undefined ? {} : { continue: next }),
            },
            signal,
          );
          items.push(...page.items);
          resourceVersion = page.resourceVersion;
          next = page.continue;
        } while (next !== undefined);
        return { items, resourceVersion };
      } catch (error) {
        // A continue token that expired between pages: the list starts over.
        if (next !== undefined && isExpired(error) && attempt < 2) continue;
        throw error;
      }
    }
  };

  /** Lists at the newest version served. Throws NotInstalled when none is. */
  const list = async (signal: AbortSignal) => {
    const tried: string[] = [];
    for (const version of resource.versions) {
      try {
        return { version, ...(await listVersion(version, signal)) };
      } catch (error) {
        if (error instanceof KubernetesApiError && error.status === 404) {
          tried.push(version);
          continue;
        }
        throw error;
      }
    }
    throw new NotInstalled(tried);
  };

  const watchTimeout = () =>
    String(options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300));

  return {
    status: () => ({ ...status }),

    async run(signal) {
      let resourceVersion = '';
      let version = resource.versions[0] ?? 'v1';
      let backoff = initialBackoff;
      const wait = async (what: string, error: unknown) => {
        status.attempted = true;
        const ms = jitter(backoff);
        failed(what, error, ms);
        status.state = 'retrying';
        await sleep(ms, signal);
        backoff = Math.min(backoff * 2, maxBackoff);
      };

      while (!signal.aborted) {
        if (resourceVersion === '') {
          status.state = 'listing';
          let listed: Awaited<ReturnType<typeof list>>;
          try {
            listed = await list(signal);
          } catch (error) {
            if (signal.aborted) return;
            if (error instanceof NotInstalled) {
              // Not served means none exist: the Store should hold none either.
              sink.replace([]);
              recovered('list');
              if (!missing) reporter.missing(resource, error.tried);
              missing = true;
              status.state = 'not-installed';
              status.synced = true;
              status.attempted = true;
              await sleep(jitter(notInstalledRetryMs), signal);
              continue;
            }
            await wait('list', error);
            continue;
          }
          version = listed.version;
          if (missing) {
            missing = false;
            reporter.installed(resource, version);
          }
          sink.replace(listed.items.map((raw) => prepare(raw, version)));
          resourceVersion = listed.resourceVersion;
          status.version = version;
          status.resourceVersion = resourceVersion;
          status.lists++;
          status.synced = true;
          status.attempted = true;
          recovered('list');
          backoff = initialBackoff;
          logger.debug(
            { ...where, version, objects: listed.items.length, resourceVersion },
            'listed',
          );
        }

        status.state = 'watching';
        status.watches++;
        const path = collectionPath(resource, version, namespace);
        const query: Query = {
          ...selectors,
          resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: watchTimeout(),
        };
        const startedAt = Date.now();
        let events = 0;
        try {
          for await (const event of api.watch(path, query, signal)) {
            events++;
            const { type, object } = event;
            if (type === 'ERROR') {
              if (isExpired(object)) {
                logger.info(
                  { ...where, resourceVersion, message: object.message },
                  'watch expired (410 Gone); listing again',
                );
                resourceVersion = '';
                break;
              }
              throw KubernetesApiError.fromStatus(
                `watch ${path}`,
                typeof object.code === 'number' ? object.code : 500,
                object,
              );
            }
            if (type === 'ADDED' || type === 'MODIFIED') sink.upsert(prepare(object, version));
            else if (type === 'DELETED') {
              const ref = rawRef(object, resource);
              if (ref !== undefined) {
                reportedInvalid.delete(refKey(ref));
                sink.remove(ref);
              }
            }
            const next = rawResourceVersion(object);
            if (next !== '') resourceVersion = next;
            status.resourceVersion = resourceVersion;
            backoff = initialBackoff;
            recovered('watch');
          }
        } catch (error) {
          if (signal.aborted) return;
          if (isExpired(error)) {
            resourceVersion = '';
            continue;
          }
          if (error instanceof KubernetesApiError && error.status === 404) {
            // The kind went away (CRD deleted): the next list finds out what is left.
            resourceVersion = '';
            continue;
          }
          await wait('watch', error);
          continue;
        }
        // A clean end (timeoutSeconds) resumes at once from the last resourceVersion;
        // a server that ends every watch at once must not make this spin.
        if (resourceVersion !== '' && events === 0 && Date.now() - startedAt < 1000) {
          await wait('watch', new Error('the server ended the watch at once'));
        }
      }
    },
  };
}
