// Gateway spec.tls.backend.clientCertificateRef -> the certificate each of
// Pier's Gateways presents to backends that ask for one (mutual TLS; the
// backends are those with a BackendTLSPolicy), or why it cannot.
//
// The reference is resolved as listener certificateRefs are (a core
// kubernetes.io/tls Secret, across namespaces only with a ReferenceGrant),
// and the key pair must load. A failure is the Gateway's ResolvedRefs
// False, reason InvalidClientCertificateRef (RefNotPermitted without a
// grant), as the spec asks; the Gateway's backends then get no client
// certificate (a backend that requires one refuses the handshake: 502).

import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { type Gateway, tlsKeyPair } from '../../src/model.ts';
import type { RefFailure } from './backends.ts';
import { Reason } from './conditions.ts';
import { resolveSecretRef } from './listeners.ts';
import { TranslateProblems } from './problems.ts';
import type { GrantIndex } from './reference-grants.ts';
import { keyOf, type Snapshot } from './snapshot.ts';

export interface ClientCertificate {
  /** PEM chain and key. */
  cert: string;
  key: string;
  /** Names the pair (a digest): upstreams with different client certificates get separate pools. */
  digest: string;
}

export interface GatewayClientCertificate {
  /** Set when the Gateway names one; the certificate, or why not. */
  certificate?: ClientCertificate;
  failure?: RefFailure;
}

/** Why a PEM key pair does not load, or undefined when it does. */
function keyPairProblem(cert: string, key: string): string | undefined {
  try {
    new X509Certificate(cert);
    createPrivateKey(key);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** By Gateway `namespace/name`, for the Gateways that set spec.tls.backend.clientCertificateRef. */
export function resolveClientCertificates(
  gateways: readonly Gateway[],
  snapshot: Snapshot,
  grants: GrantIndex,
): Map<string, GatewayClientCertificate> {
  const out = new Map<string, GatewayClientCertificate>();
  for (const gateway of gateways) {
    const ref = gateway.spec.tls?.backend?.clientCertificateRef;
    if (ref === undefined) continue;
    const resolved = resolveSecretRef(
      ref,
      gateway,
      snapshot,
      grants,
      Reason.InvalidClientCertificateRef,
    );
    if ('failure' in resolved) {
      out.set(keyOf(gateway), { failure: resolved.failure });
      continue;
    }
    const pair = tlsKeyPair(resolved.secret)!;
    const cert = pair.cert.toString('utf8');
    const key = pair.key.toString('utf8');
    const why = keyPairProblem(cert, key);
    if (why !== undefined) {
      out.set(keyOf(gateway), {
        failure: {
          reason: Reason.InvalidClientCertificateRef,
          error: TranslateProblems.CLIENT_CERTIFICATE_UNUSABLE(
            `${resolved.ref.namespace}/${resolved.ref.name}`,
            why,
          ),
        },
      });
      continue;
    }
    const digest = createHash('sha256').update(cert).update('\0').update(key).digest('base64url');
    out.set(keyOf(gateway), { certificate: { cert, key, digest } });
  }
  return out;
}
