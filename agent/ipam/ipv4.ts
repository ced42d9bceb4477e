// IPv4 addresses and prefixes as unsigned 32-bit numbers: the arithmetic
// IPAM needs (split a network into node subnets, walk a subnet's hosts)
// without string juggling. Pure; every parser returns undefined on bad
// input so callers word their own errors.

export interface Cidr {
  /** The network address (host bits zero), as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

export function parseIp(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatIp(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** The netmask of a prefix length as a number: 24 -> 0xffffff00. */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * `10.244.0.0/16` -> {base, prefix}. With `strict`, host bits must be zero
 * (a network, not an address in it); otherwise they are cleared.
 */
export function parseCidr(text: string, strict = true): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^(3[0-2]|[12]?[0-9])$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const base = (ip & maskOf(prefix)) >>> 0;
  if (strict && base !== ip) return undefined;
  return { base, prefix };
}

/** `10.244.1.5/24` -> the address and its prefix length (host bits kept). */
export function parseIpWithPrefix(text: string): { ip: number; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const cidr = parseCidr(text, false);
  return ip === undefined || cidr === undefined ? undefined : { ip, prefix: cidr.prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

export function sizeOf(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** The last address of the prefix (its broadcast address). */
export function lastOf(cidr: Cidr): number {
  return cidr.base + sizeOf(cidr) - 1;
}

export function contains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.base && ip <= lastOf(cidr);
}

/** Whether `inner` lies wholly within `outer`. */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.base);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastOf(b) && b.base <= lastOf(a);
}

export function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.base === b.base && a.prefix === b.prefix;
}
