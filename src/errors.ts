// Pier's errors carry a stable code (`PIER_<COMPONENT>_<WHAT>`) and a message
// that tells the operator what to do. Each component keeps its table of
// codes in one place (convention 9); this is the shape they share.

export class PierError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PierError';
    this.code = code;
  }
}

/**
 * Builds a component's error table: `const StoreErrors = errorTable({ CONFLICT: ... })`,
 * then `throw StoreErrors.CONFLICT('Service default/web', 3, 4)`.
 */
export function errorTable<T extends Record<string, (...args: never[]) => string>>(
  component: string,
  messages: T,
): { [K in keyof T]: (...args: Parameters<T[K]>) => PierError } & {
  codes: { [K in keyof T]: string };
} {
  const table: Record<string, unknown> = {};
  const codes: Record<string, string> = {};
  for (const [key, message] of Object.entries(messages)) {
    const code = `PIER_${component}_${key}`;
    codes[key] = code;
    table[key] = (...args: never[]) => new PierError(code, message(...args));
  }
  table.codes = codes;
  return table as { [K in keyof T]: (...args: Parameters<T[K]>) => PierError } & {
    codes: { [K in keyof T]: string };
  };
}

export function isPierError(error: unknown, code?: string): error is PierError {
  return error instanceof PierError && (code === undefined || error.code === code);
}
