// The kernel relay (splice.c), when it is built: `npm ci` builds it
// (scripts/build-native.ts, which needs a C compiler), and the gateway
// runs without it, copying bodies through JavaScript as before. The
// gateway logs at start-up whether it is on, and why not.

import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { getSystemErrorName } from 'node:util';
import type { SpliceError, SpliceSide } from '../http1/body-splice.ts';

export interface SpliceRelay {
  cancel(): void;
  moved(): number;
}

/** result 0, or -errno; side 0 source, 1 destination, -1 cancelled. */
export type RelayDone = (result: number, moved: number, side: number) => void;

export interface SpliceAddon {
  relay(sourceFd: number, destinationFd: number, bytes: number, done: RelayDone): SpliceRelay;
}

/** Where the build puts the addon. */
export const SPLICE_ADDON_PATH = fileURLToPath(new URL('./build/splice.node', import.meta.url));

function load(): { addon: SpliceAddon | undefined; why: string } {
  if (process.platform !== 'linux') return { addon: undefined, why: 'splice(2) is Linux only' };
  try {
    const addon = createRequire(import.meta.url)(SPLICE_ADDON_PATH) as SpliceAddon;
    return { addon, why: 'on' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      addon: undefined,
      why:
        code === 'MODULE_NOT_FOUND'
          ? `${SPLICE_ADDON_PATH} is not built (npm run build:native)`
          : `${SPLICE_ADDON_PATH} did not load: ${(error as Error).message}`,
    };
  }
}

const loaded = load();

/** The addon; undefined when it is not built or did not load. */
export function spliceAddon(): SpliceAddon | undefined {
  return loaded.addon;
}

/** 'on', or why bodies are copied through JavaScript. */
export function spliceStatus(): string {
  return loaded.why;
}

/** -errno as a code name ('EPIPE'), for errors. */
function errnoName(result: number): string {
  try {
    return getSystemErrorName(result);
  } catch {
    return `errno ${-result}`;
  }
}

const SIDES: readonly SpliceSide[] = ['cancelled', 'source', 'destination'];

/** A relay's done(result < 0, side) as an error naming the errno and the side. */
export function relayError(result: number, side: number): SpliceError {
  const code = errnoName(result);
  const error = new Error(`request body splice failed: ${code}`) as SpliceError;
  error.code = code;
  error.side = SIDES[side + 1] ?? 'cancelled';
  return error;
}

/** A net.Socket's fd (its undocumented `_handle.fd`); undefined once it is closed. */
export function socketFd(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  return fd === undefined || fd < 0 ? undefined : fd;
}
