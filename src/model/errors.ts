// The model's error table (convention 9) and the error validateObject returns.
//
// A ModelError names the object as far as it could be read and lists every
// problem with the path the user wrote (`spec.ports[0].targetPort`), so a
// manifest with three mistakes is fixed in one round, not three.

import { errorTable, PierError } from '../errors.ts';

export interface ModelIssue {
  /** Where, in the manifest's own notation: `spec.rules[0].matches[1].path.value`; `` for the whole object. */
  path: string;
  message: string;
}

/** How many issues the message spells out; all of them are in `issues`. */
const MESSAGE_ISSUES = 3;

function describe(what: string, issues: readonly ModelIssue[]): string {
  const shown = issues
    .slice(0, MESSAGE_ISSUES)
    .map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
  const more =
    issues.length > MESSAGE_ISSUES ? ` (and ${issues.length - MESSAGE_ISSUES} more)` : '';
  return `${what}: ${shown.join('; ')}${more}`;
}

export const ModelErrors = errorTable('MODEL', {
  INVALID: (what: string, issues: readonly ModelIssue[]) => describe(what, issues),
  UNKNOWN_KIND: (what: string, detail: string) => `${what}: ${detail}`,
});

export type ModelErrorCode = (typeof ModelErrors.codes)[keyof typeof ModelErrors.codes];

/** What validateObject could read of the object's identity before it failed. */
export interface ModelErrorSubject {
  /** The kind as written (`Service`, `HTTPRoute`), or `` when there was none. */
  kind: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
}

export class ModelError extends PierError {
  readonly kind: string;
  readonly apiVersion: string | undefined;
  readonly namespace: string | undefined;
  /** The object's metadata.name (`name` is Error's own: the class name, as for every error). */
  readonly objectName: string | undefined;
  readonly issues: readonly ModelIssue[];
  /** How messages name the object: `Service default/web`, `GatewayClass pier`, `object`. */
  readonly subject: string;

  constructor(
    code: ModelErrorCode,
    subject: ModelErrorSubject,
    issues: readonly ModelIssue[],
    message: string,
  ) {
    super(code, message);
    this.name = 'ModelError';
    this.kind = subject.kind;
    this.apiVersion = subject.apiVersion;
    this.namespace = subject.namespace;
    this.objectName = subject.name;
    this.issues = issues;
    this.subject = describeSubject(subject);
  }
}

/** `Service default/web`, `GatewayClass pier`, `object` when nothing could be read. */
export function describeSubject(subject: ModelErrorSubject): string {
  const kind = subject.kind === '' ? 'object' : subject.kind;
  if (subject.name === undefined || subject.name === '') return kind;
  return subject.namespace === undefined
    ? `${kind} ${subject.name}`
    : `${kind} ${subject.namespace}/${subject.name}`;
}

export function invalidObject(
  subject: ModelErrorSubject,
  issues: readonly ModelIssue[],
): ModelError {
  const error = ModelErrors.INVALID(describeSubject(subject), issues);
  return new ModelError(
    ModelErrors.codes.INVALID as ModelErrorCode,
    subject,
    issues,
    error.message,
  );
}

export function unknownKind(subject: ModelErrorSubject, detail: string, path = 'kind'): ModelError {
  const error = ModelErrors.UNKNOWN_KIND(describeSubject(subject), detail);
  return new ModelError(
    ModelErrors.codes.UNKNOWN_KIND as ModelErrorCode,
    subject,
    [{ path, message: detail }],
    error.message,
  );
}
