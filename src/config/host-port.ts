// `host:port` as settings spell listen addresses: `127.0.0.1:9901`,
// `[::1]:9901`, `localhost:0` (0: any free port). No zod here, so servers can
// parse an address without loading the config schema.

import { isIP } from 'node:net';

export interface HostPort {
  /** Without brackets: `::1`, not `[::1]`. */
  host: string;
  port: number;
}

const hostname =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const numeric = /^[\d.]+$/;

/** The host and port, or undefined when `value` is not `host:port` with a port 0-65535. */
export function parseHostPort(value: string): HostPort | undefined {
  let host: string;
  let port: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1 || value[close + 1] !== ':') return undefined;
    host = value.slice(1, close);
    port = value.slice(close + 2);
    if (isIP(host) !== 6) return undefined;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon === -1) return undefined;
    host = value.slice(0, colon);
    port = value.slice(colon + 1);
    // An unbracketed IPv6 address is ambiguous (`::1:80`): it must be bracketed.
    if (numeric.test(host) ? isIP(host) !== 4 : !hostname.test(host)) return undefined;
  }
  if (!/^\d{1,5}$/.test(port)) return undefined;
  const n = Number(port);
  return n <= 65535 ? { host, port: n } : undefined;
}

/** `host:port`, bracketing IPv6 hosts. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
