// CA certificate references -> PEM bundles: BackendTLSPolicy's
// caCertificateRefs (the CAs backends are checked against) and a Gateway's
// spec.tls.frontend validation (the CAs client certificates are checked
// against). Both name ConfigMaps holding `ca.crt`; a reference is invalid
// when its kind is another, the ConfigMap is missing or lacks the key, or
// the text holds no parseable PEM certificate; one into another namespace
// needs a ReferenceGrant (frontend only: BackendTLSPolicy's are local).

import { X509Certificate } from 'node:crypto';
import type { PierError } from '../../src/errors.ts';
import { Reason } from './conditions.ts';
import { TranslateProblems } from './problems.ts';
import type { GrantIndex } from './reference-grants.ts';
import type { Snapshot } from './snapshot.ts';

export interface CaRef {
  group?: string | undefined;
  kind?: string | undefined;
  name: string;
  namespace?: string | undefined;
}

export interface CaBundles {
  /** The usable bundles' PEM text, one per reference. */
  cas: string[];
  /** Why the others are not usable. */
  failures: { reason: string; error: PierError }[];
}

export interface CaScope {
  /** The referring object's namespace: where a reference without one points. */
  namespace: string;
  /** The reason for a reference of another kind (InvalidKind, InvalidCACertificateKind). */
  kindReason: string;
  /** Cross-namespace references are allowed by these grants, from this kind; absent: never. */
  grants?: { index: GrantIndex; from: { group: string; kind: string } };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Why a ca.crt text is not a usable bundle, or undefined when every certificate in it parses. */
function bundleProblem(pem: string): string | undefined {
  const blocks = pem.match(PEM_CERTIFICATE);
  if (blocks === null) return 'no BEGIN CERTIFICATE block';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}

function caRefProblem(
  name: string,
  exists: boolean,
  pem: string | undefined,
): PierError | undefined {
  if (!exists) return TranslateProblems.CA_NOT_FOUND(name);
  if (pem === undefined) return TranslateProblems.CA_NO_KEY(name);
  const why = bundleProblem(pem);
  return why === undefined ? undefined : TranslateProblems.CA_INVALID(name, why);
}

export function resolveCaRefs(
  refs: readonly CaRef[],
  snapshot: Snapshot,
  scope: CaScope,
): CaBundles {
  const cas: string[] = [];
  const failures: CaBundles['failures'] = [];
  for (const ref of refs) {
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'ConfigMap';
    const namespace = ref.namespace ?? scope.namespace;
    const name = `${namespace}/${ref.name}`;
    if (group !== '' || kind !== 'ConfigMap') {
      const what = `${group === '' ? '' : `${group}/`}${kind} ${name}`;
      failures.push({ reason: scope.kindReason, error: TranslateProblems.CA_KIND(what) });
      continue;
    }
    if (namespace !== scope.namespace) {
      const grants = scope.grants;
      if (
        grants === undefined ||
        !grants.index.permits(
          { ...grants.from, namespace: scope.namespace },
          { group: '', kind: 'ConfigMap', namespace, name: ref.name },
        )
      ) {
        failures.push({
          reason: Reason.RefNotPermitted,
          error: TranslateProblems.CA_NOT_PERMITTED(name, scope.namespace),
        });
        continue;
      }
    }
    const configMap = snapshot.configMaps.get(name);
    const pem = configMap?.data?.['ca.crt'];
    const why = caRefProblem(name, configMap !== undefined, pem);
    if (why !== undefined) failures.push({ reason: Reason.InvalidCACertificateRef, error: why });
    else cas.push(pem!);
  }
  return { cas, failures };
}
