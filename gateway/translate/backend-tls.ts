// BackendTLSPolicy -> how the gateway connects to each Service port: TLS
// settings for the upstream (gateway/upstream.ts UpstreamTls), or a refusal
// when the policy has no valid CA (the spec: such connections MUST fail and
// the client MUST get a 5xx), plus each policy's conditions.
//
//   policies, oldest first --claim (Service, sectionName)--> winners
//   caCertificateRefs --ConfigMap ca.crt, PEM--> CAs (or the system's: wellKnownCACertificates)
//   Service ports: the policy for the port's name, else the one for the whole Service
//
// Precedence between policies on one target and sectionName is the spec's:
// the older by creationTimestamp, then the first by name; the others get
// Accepted=False, Conflicted. A policy naming one port wins over one for the
// whole Service on that port (the narrower target, as Envoy Gateway does).

import { createHash } from 'node:crypto';
import type { BackendTLSPolicy, Service } from '../../src/model.ts';
import { stableStringify } from '../../src/stable-json.ts';
import type { UpstreamSubjectAltName, UpstreamTls } from '../upstream.ts';
import type { RefFailure } from './backends.ts';
import { type CaBundles, resolveCaRefs } from './ca-bundles.ts';
import { ConditionType, condition, Reason, resolvedRefsCondition } from './conditions.ts';
import type { Condition, Problem } from './gateway-config.ts';
import { problem, TranslateProblems } from './problems.ts';
import { keyOf, namespaceOf, type Snapshot } from './snapshot.ts';

/** What the gateway does on one Service port: TLS as given, or answer 500 (`refused`, the why). */
export type BackendTlsSetting = { readonly tls: UpstreamTls } | { readonly refused: string };

export interface BackendTlsPolicyState {
  namespace: string;
  name: string;
  /** The Services (`namespace/name`) it targets that exist: the Gateways routing to them are its ancestors. */
  services: string[];
  /** Accepted and ResolvedRefs. */
  conditions: Condition[];
}

export interface BackendTls {
  /** By backendTlsKey(namespace, service, port), for every port a policy applies to: read it with backendTlsOf. */
  byPort: ReadonlyMap<string, BackendTlsSetting>;
  /** Every policy, oldest first. */
  policies: BackendTlsPolicyState[];
  problems: Problem[];
}

export function backendTlsKey(namespace: string, service: string, port: number | '*'): string {
  return `${namespace}/${service}:${port}`;
}

/** The setting for a Service port; `*` holds a whole-Service policy on a Service without ports (ExternalName). */
export function backendTlsOf(
  table: BackendTls,
  namespace: string,
  service: string,
  port: number,
): BackendTlsSetting | undefined {
  return (
    table.byPort.get(backendTlsKey(namespace, service, port)) ??
    table.byPort.get(backendTlsKey(namespace, service, '*'))
  );
}

function resolveCAs(policy: BackendTLSPolicy, snapshot: Snapshot): CaBundles {
  return resolveCaRefs(policy.spec.validation.caCertificateRefs ?? [], snapshot, {
    namespace: namespaceOf(policy),
    kindReason: Reason.InvalidKind,
  });
}

function upstreamTls(policy: BackendTLSPolicy, cas: string[]): UpstreamTls {
  const validation = policy.spec.validation;
  const subjectAltNames: UpstreamSubjectAltName[] = (validation.subjectAltNames ?? []).map((san) =>
    san.type === 'Hostname'
      ? { type: 'Hostname', value: san.hostname ?? '' }
      : { type: 'URI', value: san.uri ?? '' },
  );
  const settings = {
    serverName: validation.hostname,
    ca: validation.wellKnownCACertificates === 'System' ? undefined : cas,
    subjectAltNames,
  };
  // The CAs can be long: the key is a digest of the settings, not the settings.
  const key = createHash('sha256').update(stableStringify(settings)).digest('base64url');
  return { ...settings, key };
}

function portNamed(service: Service, sectionName: string): boolean {
  return (service.spec?.ports ?? []).some((p) => p.name === sectionName);
}

export function resolveBackendTls(snapshot: Snapshot): BackendTls {
  const problems: Problem[] = [];
  const policies: BackendTlsPolicyState[] = [];
  /** `namespace/service#sectionName` ('' for the whole Service) -> the winner's setting. */
  const claims = new Map<string, { policy: string; setting: BackendTlsSetting }>();

  // createSnapshot sorted them oldest first, then by namespace/name: the spec's precedence.
  for (const policy of snapshot.backendTLSPolicies) {
    const namespace = namespaceOf(policy);
    const object = `BackendTLSPolicy ${keyOf(policy)}`;
    const generation = policy.metadata.generation;
    const { cas, failures } = resolveCAs(policy, snapshot);
    const noValidCA =
      policy.spec.validation.wellKnownCACertificates === undefined && cas.length === 0
        ? TranslateProblems.BACKEND_TLS_NO_VALID_CA(
            keyOf(policy),
            failures.map((f) => f.error.message).join('; '),
          )
        : undefined;
    const setting: BackendTlsSetting =
      noValidCA === undefined ? { tls: upstreamTls(policy, cas) } : { refused: noValidCA.message };

    const targetFailures: RefFailure[] = [];
    const conflicts: RefFailure[] = [];
    const services = new Set<string>();
    for (const ref of policy.spec.targetRefs) {
      const target = `${namespace}/${ref.name}`;
      const what = `${ref.group === '' ? '' : `${ref.group}/`}${ref.kind} ${target}${ref.sectionName === undefined ? '' : ` port ${ref.sectionName}`}`;
      if (ref.group !== '' || ref.kind !== 'Service') {
        targetFailures.push({
          reason: Reason.TargetNotFound,
          error: TranslateProblems.BACKEND_TLS_TARGET_KIND(what),
        });
        continue;
      }
      const service = snapshot.services.get(target);
      if (
        service === undefined ||
        (ref.sectionName !== undefined && !portNamed(service, ref.sectionName))
      ) {
        targetFailures.push({
          reason: Reason.TargetNotFound,
          error: TranslateProblems.BACKEND_TLS_TARGET_NOT_FOUND(what),
        });
        continue;
      }
      services.add(target);
      const claim = `${target}#${ref.sectionName ?? ''}`;
      const winner = claims.get(claim);
      if (winner !== undefined) {
        conflicts.push({
          reason: Reason.Conflicted,
          error: TranslateProblems.BACKEND_TLS_CONFLICTED(what, winner.policy),
        });
        continue;
      }
      claims.set(claim, { policy: keyOf(policy), setting });
    }

    const accepted: RefFailure | undefined =
      noValidCA !== undefined
        ? { reason: Reason.NoValidCACertificate, error: noValidCA }
        : services.size === 0
          ? targetFailures[0]
          : conflicts[0];
    const conditions = [
      accepted === undefined
        ? condition(ConditionType.Accepted, true, Reason.Accepted, 'Policy is accepted', generation)
        : condition(
            ConditionType.Accepted,
            false,
            accepted.reason,
            accepted.error.message,
            generation,
          ),
      resolvedRefsCondition(failures, generation),
    ];
    for (const f of [...failures, ...targetFailures, ...conflicts])
      problems.push(problem(object, f.reason, f.error));
    if (noValidCA !== undefined)
      problems.push(problem(object, Reason.NoValidCACertificate, noValidCA));
    policies.push({ namespace, name: policy.metadata.name, services: [...services], conditions });
  }

  const byPort = new Map<string, BackendTlsSetting>();
  const targeted = new Set([...claims.keys()].map((claim) => claim.slice(0, claim.indexOf('#'))));
  for (const target of targeted) {
    const service = snapshot.services.get(target);
    const slash = target.indexOf('/');
    const namespace = target.slice(0, slash);
    const name = target.slice(slash + 1);
    const whole = claims.get(`${target}#`);
    const ports = service?.spec?.ports ?? [];
    if (ports.length === 0 && whole !== undefined)
      byPort.set(backendTlsKey(namespace, name, '*'), whole.setting);
    for (const port of ports) {
      const named = port.name === undefined ? undefined : claims.get(`${target}#${port.name}`);
      const claim = named ?? whole;
      if (claim !== undefined) byPort.set(backendTlsKey(namespace, name, port.port), claim.setting);
    }
  }
  return { byPort, policies, problems };
}
