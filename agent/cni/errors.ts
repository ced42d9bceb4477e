// CNI errors: the spec's well-known codes and the error JSON a plugin
// prints. Codes 100 and up are Pier's own (the spec leaves them to plugins).

export const CniCodes = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENVIRONMENT: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
  LIMITED_CONNECTIVITY: 51,
  /** ADD: the interface already exists in the container. */
  INTERFACE_EXISTS: 100,
  /** CHECK: what ADD set up is missing or changed. */
  CHECK_FAILED: 101,
  /** ADD: the kernel refused a change (details carry iproute2's words). */
  SETUP_FAILED: 102,
  /** ADD: the node's subnet has no free address. */
  NO_ADDRESS: 103,
  /** Any verb: the agent failed in a way it did not expect (a bug; details say where). */
  INTERNAL: 199,
} as const;

export type CniCode = (typeof CniCodes)[keyof typeof CniCodes];

export class CniError extends Error {
  readonly code: CniCode;
  readonly details: string | undefined;

  constructor(code: CniCode, msg: string, details?: string) {
    super(msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }
}

export function isCniError(error: unknown): error is CniError {
  return error instanceof CniError;
}

/** The spec's error object, as printed on stdout with a non-zero exit. */
export function errorJson(cniVersion: string, error: CniError): string {
  const body: Record<string, unknown> = { cniVersion, code: error.code, msg: error.message };
  if (error.details !== undefined && error.details !== '') body.details = error.details;
  return JSON.stringify(body);
}
