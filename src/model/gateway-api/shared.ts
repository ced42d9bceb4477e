// The vocabulary the Gateway API kinds share (apis/v1 shared_types and
// object_reference_types): names, references, hostnames, parentRefs and
// backendRefs, with the CRD's patterns, limits and defaults.

import { z } from 'zod';
import { durationSchema, parseDuration } from '../duration.ts';
import { list, oneOf, portNumber, text } from '../fields.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

const SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const HOSTNAME = new RegExp(`^(\\*\\.)?${SUBDOMAIN}$`);
const PRECISE_HOSTNAME = new RegExp(`^${SUBDOMAIN}$`);
const SECTION_NAME = new RegExp(`^${SUBDOMAIN}$`);
const GROUP = new RegExp(`^$|^${SUBDOMAIN}$`);
const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

function pattern(re: RegExp, min: number, max: number, message: string) {
  return text(min, max).refine((v) => re.test(v), { error: message, abort: true });
}

/** A route or listener hostname: a DNS name, optionally `*.`-prefixed; never an IP. */
export const hostname = () =>
  pattern(
    HOSTNAME,
    1,
    253,
    'must be a lowercase DNS name, optionally prefixed by "*.", e.g. *.example.com',
  );
/** A hostname without a wildcard (redirect and rewrite targets). */
export const preciseHostname = () =>
  pattern(PRECISE_HOSTNAME, 1, 253, 'must be a lowercase DNS name, e.g. www.example.com');
export const sectionName = () =>
  pattern(
    SECTION_NAME,
    1,
    253,
    "must be lowercase alphanumerics, '-' or '.', starting and ending with an alphanumeric",
  );
export const group = () =>
  pattern(GROUP, 0, 253, 'must be empty (the core group) or a DNS subdomain');
export const kind = () =>
  pattern(KIND, 1, 63, "must be a kind: a letter, then alphanumerics or '-'");
export const namespaceName = () => pattern(NAMESPACE, 1, 63, 'must be a DNS label');
export const objectName = () => text(1, 253);
export const headerName = () =>
  pattern(HEADER_NAME, 1, 256, 'must be a valid HTTP header name (RFC 7230 token)');
export const duration = durationSchema;

/** A reference to a route's parent (a Gateway, by default). */
export const parentReferenceSchema = z.looseObject({
  group: group().default(GATEWAY_GROUP),
  kind: kind().default('Gateway'),
  namespace: namespaceName().optional(),
  name: objectName(),
  sectionName: sectionName().optional(),
  port: portNumber().optional(),
});

export type ParentReference = z.output<typeof parentReferenceSchema>;

function sameParent(a: ParentReference, b: ParentReference): boolean {
  return (
    a.group === b.group &&
    a.kind === b.kind &&
    a.name === b.name &&
    (a.namespace ?? '') === (b.namespace ?? '')
  );
}

/** parentRefs: at most 32; several refs to one parent must each name a distinct section or port. */
export const parentRefs = () =>
  list(parentReferenceSchema, 0, 32).superRefine((refs, ctx) => {
    refs.forEach((p1, i) => {
      for (let j = 0; j < i; j++) {
        const p2 = refs[j];
        if (p2 === undefined || !sameParent(p1, p2)) continue;
        const s1 = p1.sectionName ?? '';
        const s2 = p2.sectionName ?? '';
        const n1 = p1.port ?? 0;
        const n2 = p2.port ?? 0;
        if ((s1 === '') !== (s2 === '') || (n1 === 0) !== (n2 === 0)) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message:
              'sectionName or port must be specified when parentRefs includes 2 or more references to the same parent',
          });
        } else if (s1 === s2 && n1 === n2) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message:
              'sectionName or port must be unique when parentRefs includes 2 or more references to the same parent',
          });
        }
      }
    });
  });

const backendObjectFields = {
  group: group().default(''),
  kind: kind().default('Service'),
  name: objectName(),
  namespace: namespaceName().optional(),
  port: portNumber().optional(),
};

function requirePortForService(
  ref: { group: string; kind: string; port?: number | undefined },
  ctx: z.RefinementCtx,
) {
  if (ref.group === '' && ref.kind === 'Service' && ref.port === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['port'],
      message: 'Required value: a reference to a Service must have a port',
    });
  }
}

/** A reference to a backend object (a Service unless group/kind say otherwise). */
export const backendObjectReferenceSchema = z
  .looseObject(backendObjectFields)
  .superRefine(requirePortForService);

export type BackendObjectReference = z.output<typeof backendObjectReferenceSchema>;

/** A backendRef with a weight (default 1); `extra` adds per-route fields such as filters. */
export function backendRefSchema<S extends z.ZodRawShape>(extra: S) {
  return z
    .looseObject({
      ...backendObjectFields,
      weight: z
        .number({ error: 'must be an integer from 0 to 1000000' })
        .int({ error: 'must be an integer from 0 to 1000000' })
        .min(0, { error: 'must be an integer from 0 to 1000000' })
        .max(1_000_000, { error: 'must be an integer from 0 to 1000000' })
        .default(1),
      ...extra,
    })
    .superRefine((ref, ctx) =>
      requirePortForService(ref as unknown as BackendObjectReference, ctx),
    );
}

export const backendRefWithoutFilters = backendRefSchema({});
export type BackendRef = z.output<typeof backendRefWithoutFilters>;

/** A same-namespace reference with every part explicit (ExtensionRef filters, parametersRef). */
export const localObjectReferenceSchema = z.looseObject({
  group: group(),
  kind: kind(),
  name: objectName(),
});
export type LocalObjectReference = z.output<typeof localObjectReferenceSchema>;

/** A reference to a Secret (listener certificates). */
export const secretObjectReferenceSchema = z.looseObject({
  group: group().default(''),
  kind: kind().default('Secret'),
  name: objectName(),
  namespace: namespaceName().optional(),
});
export type SecretObjectReference = z.output<typeof secretObjectReferenceSchema>;

/** Session persistence (GEP-1619): a cookie or header that pins a client to an endpoint. */
export const sessionPersistenceSchema = z
  .looseObject({
    sessionName: text(0, 128).optional(),
    absoluteTimeout: duration().optional(),
    idleTimeout: duration().optional(),
    type: oneOf(['Cookie', 'Header']).default('Cookie'),
    cookieConfig: z
      .looseObject({ lifetimeType: oneOf(['Permanent', 'Session']).default('Session') })
      .optional(),
  })
  .superRefine((sp, ctx) => {
    if (sp.cookieConfig?.lifetimeType === 'Permanent' && sp.absoluteTimeout === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['absoluteTimeout'],
        message:
          'Required value: absoluteTimeout must be specified when cookie lifetimeType is Permanent',
      });
    }
  });
export type SessionPersistence = z.output<typeof sessionPersistenceSchema>;

/** Route hostnames: at most 16. */
export const hostnames = () => list(hostname(), 0, 16);

/** Route status is the controller's to write; typed loosely, it passes through. */
export const routeStatusSchema = z.looseObject({
  parents: z
    .array(
      z.looseObject({
        parentRef: z.looseObject({ name: z.string() }),
        controllerName: z.string(),
        conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).optional(),
      }),
    )
    .optional(),
});

/** Rule names (SectionName), unique within a route when set. */
export function checkRuleNames(
  rules: readonly { name?: string | undefined }[] | undefined,
  ctx: z.RefinementCtx,
) {
  const seen = new Set<string>();
  rules?.forEach((rule, i) => {
    if (rule.name === undefined) return;
    if (seen.has(rule.name))
      ctx.addIssue({
        code: 'custom',
        path: ['rules', i, 'name'],
        message: 'Rule name must be unique within the route',
      });
    seen.add(rule.name);
  });
}

/** backendRequest must not exceed request, unless request is 0s (no timeout). */
export const timeoutsSchema = z
  .looseObject({ request: duration().optional(), backendRequest: duration().optional() })
  .superRefine((t, ctx) => {
    if (t.request === undefined || t.backendRequest === undefined) return;
    const request = parseDuration(t.request) ?? 0;
    const backend = parseDuration(t.backendRequest) ?? 0;
    if (request !== 0 && backend > request) {
      ctx.addIssue({
        code: 'custom',
        path: ['backendRequest'],
        message: 'backendRequest timeout cannot be longer than request timeout',
      });
    }
  });
