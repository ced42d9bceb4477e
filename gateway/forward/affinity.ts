// Session affinity: what a hashing balancer (ring-hash, maglev) hashes for a
// request. By client IP (Service sessionAffinity: ClientIP), by a header, or
// by a cookie (Gateway API sessionPersistence); a request without the key
// gets a random hash, and with cookie affinity a new cookie, so that its
// next requests stick to the endpoint this one went to.

import { murmur3 } from '../balancer/hash.ts';
import { randomHex } from './random-id.ts';

export type AffinityPolicy =
  | { type: 'client-ip' }
  | { type: 'header'; name: string }
  | {
      type: 'cookie';
      name: string;
      /** Max-Age of the cookie; absent: a session cookie. */
      ttlSeconds?: number;
      /** Path attribute (default /). */
      path?: string;
      /** The session ends this long after it began (sessionPersistence absoluteTimeout). */
      absoluteSeconds?: number;
      /** The session ends after this long without a request (sessionPersistence idleTimeout). */
      idleSeconds?: number;
    };

export interface CompiledAffinity {
  readonly type: 'client-ip' | 'header' | 'cookie';
  /** The request header the scan captures: the header's name, or 'cookie'. */
  readonly header: string | undefined;
  readonly cookieName: string;
  /** Attributes after the value in Set-Cookie. */
  readonly cookieAttributes: string;
  /** Session limits in seconds (0: none); with either, the cookie carries its times. */
  readonly absoluteSeconds: number;
  readonly idleSeconds: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NO_COOKIE = { cookieName: '', cookieAttributes: '', absoluteSeconds: 0, idleSeconds: 0 };
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;

export function compileAffinity(policy: AffinityPolicy | undefined): CompiledAffinity | undefined {
  if (policy === undefined) return undefined;
  switch (policy.type) {
    case 'client-ip':
      return { ...NO_COOKIE, type: 'client-ip', header: undefined };
    case 'header':
      if (!TOKEN.test(policy.name))
        throw new RangeError(
          `affinity header ${JSON.stringify(policy.name)} is not a valid header name`,
        );
      return { ...NO_COOKIE, type: 'header', header: policy.name.toLowerCase() };
    case 'cookie': {
      if (!TOKEN.test(policy.name))
        throw new RangeError(
          `affinity cookie ${JSON.stringify(policy.name)} is not a valid cookie name`,
        );
      const path = policy.path ?? '/';
      if (!COOKIE_PATH.test(path))
        throw new RangeError(`affinity cookie path ${JSON.stringify(path)} is not a valid path`);
      let attributes = `; Path=${path}; HttpOnly; SameSite=Lax`;
      if (policy.ttlSeconds !== undefined) {
        if (!Number.isInteger(policy.ttlSeconds) || policy.ttlSeconds <= 0) {
          throw new RangeError(
            `affinity cookie ttlSeconds must be a positive integer, not ${policy.ttlSeconds}`,
          );
        }
        attributes += `; Max-Age=${policy.ttlSeconds}`;
      }
      for (const [field, value] of [
        ['absoluteSeconds', policy.absoluteSeconds],
        ['idleSeconds', policy.idleSeconds],
      ] as const) {
        if (value !== undefined && (!Number.isInteger(value) || value <= 0))
          throw new RangeError(`affinity cookie ${field} must be a positive integer, not ${value}`);
      }
      return {
        type: 'cookie',
        header: 'cookie',
        cookieName: policy.name,
        cookieAttributes: attributes,
        absoluteSeconds: policy.absoluteSeconds ?? 0,
        idleSeconds: policy.idleSeconds ?? 0,
      };
    }
  }
}

/** The value of cookie `name` in a Cookie header (lines joined by '; '), or undefined. */
export function cookieValue(header: string, name: string): string | undefined {
  let i = 0;
  while (i < header.length) {
    while (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 59) i++;
    const end = header.indexOf(';', i);
    const stop = end === -1 ? header.length : end;
    const eq = header.indexOf('=', i);
    if (eq !== -1 && eq < stop && eq - i === name.length && header.startsWith(name, i)) {
      let value = header.slice(eq + 1, stop).trim();
      if (
        value.length >= 2 &&
        value.charCodeAt(0) === 34 &&
        value.charCodeAt(value.length - 1) === 34
      ) {
        value = value.slice(1, -1);
      }
      return value;
    }
    i = stop + 1;
  }
  return undefined;
}

/** Where a request's hash and (for a new cookie) its Set-Cookie go. */
export interface AffinityTarget {
  hash: number;
  setCookie: string | undefined;
}

/**
 * A session cookie's value: the key, and with session limits when it began
 * and when it was last refreshed, in Unix seconds (`key.began.seen`). The
 * key alone is what the balancer hashes.
 */
export function parseSessionCookie(
  value: string,
): { key: string; began: number; seen: number } | undefined {
  const parts = value.split('.');
  if (parts.length !== 3) return undefined;
  const began = Number(parts[1]);
  const seen = Number(parts[2]);
  if (parts[0] === '' || !Number.isInteger(began) || !Number.isInteger(seen)) return undefined;
  return { key: parts[0]!, began, seen };
}

/**
 * Sets target.hash for the request; with cookie affinity and no cookie (or
 * one whose session ran out), also target.setCookie. `captured` is the
 * scan's value of the affinity header; `now` is in Unix seconds.
 *
 * With sessionPersistence timeouts the cookie carries its session's times:
 * past absoluteTimeout since it began, or idleTimeout since it was last
 * refreshed, it starts a new session (a new key, so possibly another
 * endpoint). An active session's cookie is refreshed once a quarter of the
 * idle timeout has passed, not on every response.
 */
export function applyAffinity(
  affinity: CompiledAffinity,
  clientIp: string,
  captured: string | undefined,
  target: AffinityTarget,
  random: () => number = Math.random,
  now: number = Math.floor(Date.now() / 1000),
): void {
  let key: string | undefined;
  switch (affinity.type) {
    case 'client-ip':
      key = clientIp;
      break;
    case 'header':
      key = captured;
      break;
    case 'cookie': {
      const value = captured === undefined ? undefined : cookieValue(captured, affinity.cookieName);
      const timed = affinity.absoluteSeconds > 0 || affinity.idleSeconds > 0;
      if (!timed) {
        key = value;
        if (key === undefined || key === '') {
          key = randomHex(12);
          target.setCookie = `${affinity.cookieName}=${key}${affinity.cookieAttributes}`;
        }
        break;
      }
      const session = value === undefined ? undefined : parseSessionCookie(value);
      const live =
        session !== undefined &&
        session.began <= now &&
        (affinity.absoluteSeconds === 0 || now - session.began < affinity.absoluteSeconds) &&
        (affinity.idleSeconds === 0 || now - session.seen < affinity.idleSeconds);
      if (live) {
        key = session.key;
        const refresh = Math.max(1, Math.floor(affinity.idleSeconds / 4));
        if (affinity.idleSeconds > 0 && now - session.seen >= refresh)
          target.setCookie = `${affinity.cookieName}=${key}.${session.began}.${now}${affinity.cookieAttributes}`;
      } else {
        key = randomHex(12);
        target.setCookie = `${affinity.cookieName}=${key}.${now}.${now}${affinity.cookieAttributes}`;
      }
      break;
    }
  }
  target.hash = key === undefined ? (random() * 0x100000000) >>> 0 : murmur3(key);
}

/** The Gateway API's sessionPersistence, as the router compiles it (gateway/router.ts). */
export interface SessionPersistenceLike {
  type: 'Cookie' | 'Header';
  sessionName?: string;
  absoluteTimeoutMs?: number;
  idleTimeoutMs?: number;
  cookieLifetime?: 'Permanent' | 'Session';
}

/** Names Pier picks when a sessionPersistence leaves sessionName out. */
export const DEFAULT_SESSION_COOKIE = 'pier-session';
export const DEFAULT_SESSION_HEADER = 'x-pier-session';

/**
 * The affinity a route rule's sessionPersistence asks for. A Permanent
 * cookie lives absoluteTimeout (Max-Age); a Session cookie, or one without
 * a timeout, lasts the browser session. The gateway itself ends a session
 * past absoluteTimeout or idleTimeout (the cookie carries its times, see
 * applyAffinity). Header persistence hashes the header the client sends;
 * Pier does not issue one, so its timeouts are the client's business.
 */
export function affinityFromSessionPersistence(sp: SessionPersistenceLike): AffinityPolicy {
  if (sp.type === 'Header') {
    return { type: 'header', name: sp.sessionName ?? DEFAULT_SESSION_HEADER };
  }
  const policy: AffinityPolicy = { type: 'cookie', name: sp.sessionName ?? DEFAULT_SESSION_COOKIE };
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  if (sp.cookieLifetime === 'Permanent' && sp.absoluteTimeoutMs !== undefined) {
    policy.ttlSeconds = seconds(sp.absoluteTimeoutMs);
  }
  if (sp.absoluteTimeoutMs !== undefined) policy.absoluteSeconds = seconds(sp.absoluteTimeoutMs);
  if (sp.idleTimeoutMs !== undefined) policy.idleSeconds = seconds(sp.idleTimeoutMs);
  return policy;
}
