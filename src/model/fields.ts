// The field vocabulary every kind's schema is written in: Kubernetes formats
// (DNS names, ports, IntOrString, label keys) as zod schemas whose messages
// read like the API server's, so a user sees `must be an integer from 1 to
// 65535` and not zod's wording.
//
// Objects are `looseObject`s throughout: a field we do not know passes
// through untouched (pruning is the API server's job, not ours), while every
// field we do know is strictly typed.

import net from 'node:net';
import { z } from 'zod';

// --- string formats -----------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** RFC 1123 label: lowercase alphanumerics and '-', at most 63 characters (a Namespace name, a port name). */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** RFC 1123 subdomain: dot-separated labels, at most 253 characters (most object names). */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** RFC 1035 label: a 1123 label that starts with a letter (Service names, so they work as DNS names). */
export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** An IANA service name (a named port): at most 15 characters, at least one letter, no '--'. */
export function isIanaSvcName(value: string): boolean {
  return (
    value.length >= 1 &&
    value.length <= 15 &&
    IANA_SVC_NAME.test(value) &&
    !value.includes('--') &&
    /[a-z]/.test(value)
  );
}

/**
 * Why a label or annotation key is invalid, or undefined when it is valid:
 * `[prefix/]name`, prefix a DNS subdomain, name a qualified-name part of at most 63.
 */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix === '') return 'prefix part must be non-empty';
    if (!isDns1123Subdomain(prefix)) return 'prefix part must be a lowercase DNS subdomain';
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(name)) {
    return "name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric";
  }
  return undefined;
}

/** Why a label value is invalid, or undefined: empty, or up to 63 characters of a qualified-name part. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(value)) {
    return "must be empty or consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric";
  }
  return undefined;
}

// --- IP addresses and CIDRs ----------------------------------------------------

// node:net knows the address grammar; Kubernetes additionally refuses zones (`fe80::1%eth0`).
export function isIPv4(value: string): boolean {
  return net.isIPv4(value);
}

export function isIPv6(value: string): boolean {
  return !value.includes('%') && net.isIPv6(value);
}

export function isIP(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

/** `10.0.0.0/24`, `fd00::/64`: an address and a prefix length that fits its family. */
export function isCIDR(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) return false;
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(bits)) return false;
  const n = Number(bits);
  if (isIPv4(address)) return n <= 32;
  if (isIPv6(address)) return n <= 128;
  return false;
}

// --- schemas --------------------------------------------------------------------

/** A string matching a predicate, with the message the user sees when it does not. */
export function formatted(check: (value: string) => boolean, message: string) {
  return z.string().refine(check, { error: message, abort: true });
}

export const dns1123Label = () =>
  formatted(
    isDns1123Label,
    "must be a DNS label: at most 63 lowercase alphanumerics or '-', starting and ending with an alphanumeric",
  );

export const dns1123Subdomain = () =>
  formatted(
    isDns1123Subdomain,
    "must be a DNS subdomain: at most 253 characters of lowercase alphanumerics, '-' or '.', starting and ending with an alphanumeric",
  );

export const dns1035Label = () =>
  formatted(
    isDns1035Label,
    "must be a DNS-1035 label: at most 63 lowercase alphanumerics or '-', starting with a letter and ending with an alphanumeric",
  );

export const ipAddress = () =>
  formatted(isIP, 'must be a valid IP address, e.g. 10.9.8.7 or 2001:db8::ffff');
export const cidr = () =>
  formatted(isCIDR, 'must be a valid CIDR, e.g. 10.244.0.0/24 or fd00::/64');

/** An integer in [min, max], with one message for every way of missing it. */
export function intRange(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z
    .number({ error: (issue) => (issue.input === undefined ? 'Required value' : message) })
    .int({ error: message })
    .min(min, { error: message })
    .max(max, { error: message });
}

export const portNumber = () => intRange(1, 65535);
export const int32 = () => intRange(-2147483648, 2147483647);
export const nonNegativeInt32 = () => intRange(0, 2147483647);

/** One of a fixed set of strings; the message lists them (as the API server's `supported values`). */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) =>
      issue.input === undefined
        ? 'Required value'
        : `unsupported value ${JSON.stringify(issue.input)}: must be one of ${values.join(', ')}`,
  });
}

/** One of a fixed set of numbers (HTTP status codes). */
export function oneOfNumbers<const T extends readonly [number, ...number[]]>(values: T) {
  const message = `must be one of ${values.join(', ')}`;
  return z
    .number({ error: (issue) => (issue.input === undefined ? 'Required value' : message) })
    .refine((n): n is T[number] => (values as readonly number[]).includes(n), { error: message });
}

/** IntOrString as a port: a number 1-65535 or an IANA service name (a named container port). */
export const intOrStringPort = () =>
  z.union(
    [portNumber(), formatted(isIanaSvcName, 'must be a port number or an IANA service name')],
    {
      error: 'must be a port number from 1 to 65535 or a port name',
    },
  );

/** A string of at most `max` characters (and at least `min`). */
export function text(min: number, max: number) {
  const message =
    min > 0 ? `must be ${min} to ${max} characters long` : `must be no more than ${max} characters`;
  return z.string().min(min, { error: message }).max(max, { error: message });
}

/** A list of at most `max` items (and at least `min`). */
export function list<T extends z.ZodType>(item: T, min = 0, max = Number.MAX_SAFE_INTEGER) {
  let schema = z.array(item);
  if (min > 0)
    schema = schema.min(min, {
      error: min === 1 ? 'must have at least 1 item' : `must have at least ${min} items`,
    });
  if (max < Number.MAX_SAFE_INTEGER)
    schema = schema.max(max, { error: `must have at most ${max} items` });
  return schema;
}

/** Labels (or a selector's matchLabels): valid keys, valid values. */
export const labels = () =>
  z.record(z.string(), z.string()).superRefine((map, ctx) => {
    for (const [key, value] of Object.entries(map)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `invalid key ${JSON.stringify(key)}: ${keyProblem}`,
        });
        continue;
      }
      const valueProblem = labelValueProblem(value);
      if (valueProblem !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `invalid value ${JSON.stringify(value)}: ${valueProblem}`,
        });
      }
    }
  });

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/** Annotations: valid keys, any string values, 256 KiB in total. */
export const annotations = () =>
  z.record(z.string(), z.string()).superRefine((map, ctx) => {
    let size = 0;
    for (const [key, value] of Object.entries(map)) {
      size += key.length + value.length;
      const keyProblem = qualifiedNameProblem(key.toLowerCase());
      if (keyProblem !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `invalid key ${JSON.stringify(key)}: ${keyProblem}`,
        });
      }
    }
    if (size > ANNOTATIONS_MAX_BYTES) {
      ctx.addIssue({ code: 'custom', message: 'may not be more than 256 KiB in total' });
    }
  });

/** A metav1 LabelSelector: matchLabels and matchExpressions. */
export const labelSelector = () =>
  z.looseObject({
    matchLabels: labels().optional(),
    matchExpressions: z
      .array(
        z
          .looseObject({
            key: z.string().refine((k) => qualifiedNameProblem(k) === undefined, {
              error: 'must be a valid label key',
            }),
            operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist']),
            values: z.array(z.string()).optional(),
          })
          .superRefine((e, ctx) => {
            const needsValues = e.operator === 'In' || e.operator === 'NotIn';
            const count = e.values?.length ?? 0;
            if (needsValues && count === 0) {
              ctx.addIssue({
                code: 'custom',
                path: ['values'],
                message: `must be specified when operator is ${e.operator}`,
              });
            }
            if (!needsValues && count > 0) {
              ctx.addIssue({
                code: 'custom',
                path: ['values'],
                message: `may not be specified when operator is ${e.operator}`,
              });
            }
          }),
      )
      .optional(),
  });

export type LabelSelector = z.output<ReturnType<typeof labelSelector>>;

/** A core ObjectReference (EndpointSlice targetRef): every field optional. */
export const objectReference = () =>
  z.looseObject({
    kind: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    uid: z.string().optional(),
    apiVersion: z.string().optional(),
    resourceVersion: z.string().optional(),
    fieldPath: z.string().optional(),
  });

/** Adds an issue for every item whose key repeats an earlier one (a listType=map). */
export function uniqueBy<T>(
  items: readonly T[] | undefined,
  keyOf: (item: T) => string | undefined,
  ctx: z.RefinementCtx,
  path: (string | number)[],
  what: (key: string) => string,
): void {
  if (items === undefined) return;
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (key === undefined) return;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [...path, i], message: what(key) });
    seen.add(key);
  });
}
