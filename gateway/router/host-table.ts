// A table keyed by hostname pattern, looked up by a request's host: the exact
// entry first, then wildcards by longest suffix (the most dots right of the
// `*`), then the entry without hostname. Used twice per port: to pick the
// listener, then the route bucket within it.
//
// find() allocates nothing: one Map probe, then endsWith() over the wildcard
// suffixes, which are few.

import { isWildcard } from './hostname.ts';

export interface HostEntry<T> {
  /** Exact, `*.`-wildcard, or '' (every host). */
  hostname: string;
  /** Ingress's wildcard: exactly one label in place of `*`. */
  singleLabel?: boolean;
  value: T;
}

export interface HostTable<T> {
  find(host: string): T | undefined;
  readonly size: number;
}

interface Wildcard<T> {
  /** `.example.com` for `*.example.com`. */
  suffix: string;
  singleLabel: boolean;
  value: T;
}

/** Builds the table; when two entries share a hostname, the first one is kept. */
export function createHostTable<T>(entries: readonly HostEntry<T>[]): HostTable<T> {
  const exact = new Map<string, T>();
  const wildcards: Wildcard<T>[] = [];
  const seenWildcards = new Set<string>();
  let fallback: T | undefined;
  let hasFallback = false;
  for (const entry of entries) {
    if (entry.hostname === '') {
      if (!hasFallback) {
        fallback = entry.value;
        hasFallback = true;
      }
    } else if (isWildcard(entry.hostname)) {
      if (seenWildcards.has(entry.hostname)) continue;
      seenWildcards.add(entry.hostname);
      wildcards.push({
        suffix: entry.hostname.slice(1),
        singleLabel: entry.singleLabel === true,
        value: entry.value,
      });
    } else if (!exact.has(entry.hostname)) {
      exact.set(entry.hostname, entry.value);
    }
  }
  wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  return {
    size: exact.size + wildcards.length + (hasFallback ? 1 : 0),
    find(host: string): T | undefined {
      const hit = exact.get(host);
      if (hit !== undefined) return hit;
      for (let i = 0; i < wildcards.length; i++) {
        const w = wildcards[i]!;
        const cut = host.length - w.suffix.length;
        if (cut <= 0 || !host.endsWith(w.suffix)) continue;
        if (w.singleLabel && host.lastIndexOf('.', cut - 1) !== -1) continue;
        return w.value;
      }
      return fallback;
    },
  };
}
