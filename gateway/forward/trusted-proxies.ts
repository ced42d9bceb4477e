// The trusted-proxy list: CIDRs (IPv4 and IPv6) whose X-Forwarded-For and
// Forwarded headers the gateway believes. A peer outside the list is the
// client, whatever it claims. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1,
// what a dual-stack listener reports) match the IPv4 ranges.
//
// Matching parses the address into 32-bit words and compares masked words:
// no strings are built, and an empty list answers without parsing at all.

export interface TrustedProxies {
  /** The CIDRs as given, for /debug and logs. */
  readonly cidrs: readonly string[];
  readonly empty: boolean;
  /** Whether `address` (an IP as sockets report it) lies in one of the ranges. */
  contains(address: string): boolean;
}

interface Range {
  /** 4 words: IPv4 as ::ffff:a.b.c.d. */
  words: Uint32Array;
  masks: Uint32Array;
}

const words = new Uint32Array(4);

/** Parses an IPv4 address into words[3] (words 0..2 = ::ffff:), returns false if invalid. */
function parseIPv4(text: string, start: number, out: Uint32Array): boolean {
  let value = 0;
  let octets = 0;
  let digits = 0;
  let octet = 0;
  for (let i = start; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255) return false;
      value = (value * 256 + octet) >>> 0;
      octets++;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return false; // no leading zeros
      octet = octet * 10 + (c - 48);
      digits++;
      if (digits > 3) return false;
    } else {
      return false;
    }
  }
  if (octets !== 4) return false;
  out[0] = 0;
  out[1] = 0;
  out[2] = 0xffff;
  out[3] = value;
  return true;
}

/** Parses an IP address (v4, v6, v4-mapped v6; zone ids not allowed) into 4 words. */
export function parseIp(text: string, out: Uint32Array = new Uint32Array(4)): boolean {
  if (text.indexOf(':') === -1) return parseIPv4(text, 0, out);
  // IPv6: up to 8 groups, one '::', an optional trailing dotted IPv4.
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
    if (text.length === 2) {
      out.fill(0);
      return true;
    }
  } else if (text.charCodeAt(0) === 58) {
    return false;
  }
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    const end = colon === -1 ? text.length : colon;
    const part = text.slice(i, end);
    if (part.includes('.')) {
      if (end !== text.length) return false;
      const v4 = new Uint32Array(4);
      if (!parseIPv4(part, 0, v4)) return false;
      groups.push(v4[3]! >>> 16, v4[3]! & 0xffff);
      i = end;
      break;
    }
    if (part.length === 0 || part.length > 4 || !/^[0-9a-fA-F]+$/.test(part)) return false;
    groups.push(Number.parseInt(part, 16));
    if (colon === -1) {
      i = text.length;
      break;
    }
    if (text.charCodeAt(colon + 1) === 58) {
      if (gap !== -1) return false;
      gap = groups.length;
      i = colon + 2;
      if (i === text.length) break;
    } else {
      i = colon + 1;
      if (i === text.length) return false;
    }
  }
  if (gap === -1 ? groups.length !== 8 : groups.length > 7) return false;
  const full = new Array<number>(8).fill(0);
  if (gap === -1) {
    for (let g = 0; g < 8; g++) full[g] = groups[g]!;
  } else {
    for (let g = 0; g < gap; g++) full[g] = groups[g]!;
    const tail = groups.length - gap;
    for (let g = 0; g < tail; g++) full[8 - tail + g] = groups[gap + g]!;
  }
  for (let w = 0; w < 4; w++) out[w] = ((full[2 * w]! << 16) | full[2 * w + 1]!) >>> 0;
  return true;
}

function parseCidr(cidr: string): Range {
  const slash = cidr.indexOf('/');
  const address = slash === -1 ? cidr : cidr.slice(0, slash);
  const rangeWords = new Uint32Array(4);
  if (!parseIp(address, rangeWords))
    throw new RangeError(`trusted proxy ${JSON.stringify(cidr)} is not an IP address or CIDR`);
  const v4 = !address.includes(':');
  const max = v4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : cidr.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) {
    throw new RangeError(
      `trusted proxy ${JSON.stringify(cidr)}: prefix length must be 0 to ${max}`,
    );
  }
  // IPv4 ranges live in the ::ffff:0:0/96 block.
  let bits = v4 ? 96 + prefix : prefix;
  const masks = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    const take = Math.max(0, Math.min(32, bits));
    masks[w] = take === 0 ? 0 : take === 32 ? 0xffffffff : (0xffffffff << (32 - take)) >>> 0;
    rangeWords[w] = (rangeWords[w]! & masks[w]!) >>> 0;
    bits -= 32;
  }
  return { words: rangeWords, masks };
}

/** Compiles a CIDR list; throws a RangeError naming the first bad entry. */
export function createTrustedProxies(cidrs: readonly string[] = []): TrustedProxies {
  const ranges = cidrs.map(parseCidr);
  const empty = ranges.length === 0;
  return {
    cidrs: Object.freeze([...cidrs]),
    empty,
    contains(address: string): boolean {
      if (empty) return false;
      if (!parseIp(address, words)) return false;
      for (const range of ranges) {
        if (
          (words[0]! & range.masks[0]!) >>> 0 === range.words[0] &&
          (words[1]! & range.masks[1]!) >>> 0 === range.words[1] &&
          (words[2]! & range.masks[2]!) >>> 0 === range.words[2] &&
          (words[3]! & range.masks[3]!) >>> 0 === range.words[3]
        ) {
          return true;
        }
      }
      return false;
    },
  };
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`: how headers and logs show a mapped address. */
export function unmapIPv4(address: string): string {
  return address.length > 7 && address.startsWith('::ffff:') && address.indexOf('.', 7) !== -1
    ? address.slice(7)
    : address;
}
