// Certificates of HTTPS ports: kubernetes.io/tls Secrets -> secure contexts
// -> a per-port selection by SNI server name.
//
// Selection follows the listeners' hostnames: an exact hostname first, then
// wildcard listeners from the longest suffix (`*.example.com` covers
// `a.example.com` and `a.b.example.com`, as Gateway API wildcards do), then
// the listener without a hostname; a name none covers, and a client without
// SNI, get that last one too, or else the port's first certificate, so a
// handshake still completes and the client judges the name.
//
// Secure contexts are cached by Secret and resourceVersion: a sync that
// changes nothing about a Secret reuses its context, an updated Secret gets
// a new one, and contexts no build used since the last prune are dropped.
// A listener with several certificates (RSA and ECDSA) gets one context
// holding all of them; OpenSSL picks by the client's signature algorithms.
//
// A listener that checks client certificates (Gateway spec.tls.frontend)
// gets a context of its own holding the CAs: OpenSSL verifies a client's
// chain against the context the server name selected, so each listener
// checks against its own CAs.

import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { type Secret, tlsKeyPair } from '../../src/model.ts';
import type { CertificateSelection, ClientValidationMode } from '../listener.ts';
import type { ListenerConfig, SecretRef } from '../translate/gateway-config.ts';
import { ListenerErrors } from './errors.ts';

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export interface CertificateProblem {
  /** `namespace/name` of the Secret(s). */
  secret: string;
  code: string;
  message: string;
}

export interface CertificateStore {
  /**
   * The selection for one HTTPS port's listeners. `secretOf` looks a Secret
   * up (the informer's index); unusable certificates are left out and
   * reported in `problems`.
   */
  build(
    listeners: readonly ListenerConfig[],
    secretOf: (ref: SecretRef) => Secret | undefined,
  ): { selection: CertificateSelection; problems: CertificateProblem[] };
  /** Drops contexts that no build since the previous prune used. */
  prune(): void;
  /** Cached contexts (tests, /debug). */
  readonly size: number;
}

/** What a server name selects: the listener's context, and how it treats client certificates. */
interface Selected {
  context: SecureContext;
  pair: KeyPair;
  validation: ClientValidationMode | undefined;
  ca: readonly string[] | undefined;
}

interface Cached {
  pairs: KeyPair[];
  context: SecureContext | undefined;
  problem: CertificateProblem | undefined;
}

/** `ca`: the CAs client certificates are checked against (frontend validation), when any. */
function contextFor(pairs: readonly KeyPair[], ca: readonly string[] | undefined): SecureContext {
  return createSecureContext({
    cert: pairs.map((p) => p.cert),
    key: pairs.map((p) => p.key),
    ...(ca === undefined ? {} : { ca: [...ca] }),
    minVersion: 'TLSv1.2',
  });
}

function failed(name: string, cause: unknown): Cached {
  const error = ListenerErrors.CERTIFICATE(
    name,
    cause instanceof Error ? cause.message : String(cause),
  );
  return {
    pairs: [],
    context: undefined,
    problem: { secret: name, code: error.code, message: error.message },
  };
}

function loadOne(name: string, secret: Secret, ca: readonly string[] | undefined): Cached {
  const pair = tlsKeyPair(secret);
  if (pair === undefined)
    return failed(name, 'not a kubernetes.io/tls Secret with tls.crt and tls.key');
  try {
    return { pairs: [pair], context: contextFor([pair], ca), problem: undefined };
  } catch (cause) {
    return failed(name, cause);
  }
}

export function createCertificateStore(): CertificateStore {
  let cache = new Map<string, Cached>();
  let used = new Map<string, Cached>();

  /** The entry for `key`, made by `make` when not cached; marks it used. */
  function cached(key: string, make: () => Cached): Cached {
    const entry = used.get(key) ?? cache.get(key) ?? make();
    used.set(key, entry);
    return entry;
  }

  /**
   * One context for a listener's certificates (and the CAs of its client
   * validation, which then key it too); problems of those left out are pushed.
   */
  function listenerContext(
    refs: readonly SecretRef[],
    secretOf: (ref: SecretRef) => Secret | undefined,
    problems: CertificateProblem[],
    ca: readonly string[] | undefined,
  ): Cached | undefined {
    const caKey =
      ca === undefined
        ? ''
        : `#ca:${createHash('sha256').update(ca.join('\0')).digest('base64url')}`;
    const keys: string[] = [];
    const entries: Cached[] = [];
    for (const ref of refs) {
      const name = `${ref.namespace}/${ref.name}`;
      const secret = secretOf(ref);
      if (secret === undefined) {
        problems.push(failed(name, 'the Secret does not exist').problem!);
        continue;
      }
      const key = `${name}@${secret.metadata.resourceVersion ?? ''}@${secret.metadata.uid ?? ''}${caKey}`;
      const entry = cached(key, () => loadOne(name, secret, ca));
      if (entry.problem !== undefined) problems.push(entry.problem);
      else {
        keys.push(key);
        entries.push(entry);
      }
    }
    if (entries.length <= 1) return entries[0];
    const combined = cached(keys.join('|'), () => {
      const pairs = entries.flatMap((e) => e.pairs);
      try {
        return { pairs, context: contextFor(pairs, ca), problem: undefined };
      } catch (cause) {
        return failed(refs.map((c) => `${c.namespace}/${c.name}`).join(', '), cause);
      }
    });
    if (combined.problem !== undefined) {
      problems.push(combined.problem);
      return entries[0];
    }
    return combined;
  }

  return {
    build(listeners, secretOf) {
      const exact = new Map<string, Selected>();
      const wildcards = new Map<string, Selected>();
      let catchAll: Selected | undefined;
      let first: Selected | undefined;
      let requestsClientCertificates = false;
      const problems: CertificateProblem[] = [];
      for (const listener of listeners) {
        const validation = listener.clientValidation;
        const loaded = listenerContext(listener.certificates, secretOf, problems, validation?.ca);
        if (loaded?.context === undefined) continue;
        const entry: Selected = {
          context: loaded.context,
          pair: loaded.pairs[0]!,
          validation: validation?.mode,
          ca: validation?.ca,
        };
        if (validation !== undefined) requestsClientCertificates = true;
        first ??= entry;
        const hostname = listener.hostname?.toLowerCase();
        if (hostname === undefined || hostname === '') catchAll ??= entry;
        else if (hostname.startsWith('*.')) {
          if (!wildcards.has(hostname.slice(1))) wildcards.set(hostname.slice(1), entry);
        } else if (!exact.has(hostname)) exact.set(hostname, entry);
      }
      const fallback = catchAll ?? first;
      const lookup = (servername: string | undefined): Selected | undefined => {
        if (servername === undefined || servername === '') return fallback;
        const name = servername.toLowerCase();
        const hit = exact.get(name);
        if (hit !== undefined) return hit;
        if (wildcards.size > 0) {
          // `.b.example.com`, then `.example.com`, then `.com`: longest suffix first.
          for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
            const wild = wildcards.get(name.slice(dot));
            if (wild !== undefined) return wild;
          }
        }
        return fallback;
      };
      const selection: CertificateSelection = {
        size: exact.size + wildcards.size + (catchAll === undefined ? 0 : 1),
        fallback:
          fallback === undefined
            ? undefined
            : { ...fallback.pair, ...(fallback.ca === undefined ? {} : { ca: fallback.ca }) },
        requestsClientCertificates,
        select: (servername) => lookup(servername)?.context,
        clientValidation: (servername) => lookup(servername)?.validation,
      };
      return { selection, problems };
    },
    prune() {
      cache = used;
      used = new Map();
    },
    get size() {
      return new Set([...cache.keys(), ...used.keys()]).size;
    },
  };
}
