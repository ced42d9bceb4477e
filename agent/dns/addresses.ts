// IP address forms DNS needs: wire bytes for A/AAAA, the reverse names of
// PTR records (dotted IPv4 and nibble-form IPv6), and the dashed form of pod
// records (`10-0-0-1`, `fd00--1`), in both directions.

import { isIPv4, isIPv6 } from 'node:net';

/** The 4 bytes of a dotted IPv4 address, or undefined when it is not one. */
export function ipv4Bytes(address: string): Uint8Array | undefined {
  if (!isIPv4(address)) return undefined;
  return Uint8Array.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address (any textual form, also with an embedded IPv4 tail). */
export function ipv6Bytes(address: string): Uint8Array | undefined {
  if (!isIPv6(address) || address.includes('%')) return undefined;
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = ipv4Bytes(last);
    if (!v4) return undefined;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const groups = (part: string | undefined) =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16));
  const halves = text.split('::');
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const zeros = 8 - head.length - tail.length;
  if (halves.length > 2 || zeros < 0 || (halves.length === 1 && zeros !== 0)) return undefined;
  const bytes = new Uint8Array(16);
  [...head, ...new Array<number>(zeros).fill(0), ...tail].forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

/** The RFC 5952 text of 16 IPv6 bytes: lowercase, longest zero run (of two or more) as `::`. */
export function ipv6Text(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** An address in canonical text (IPv6 per RFC 5952), or undefined when it is not an IP. */
export function canonicalIP(address: string): string | undefined {
  if (isIPv4(address))
    return ipv4Bytes(address) ? address.split('.').map(Number).join('.') : undefined;
  const v6 = ipv6Bytes(address);
  return v6 ? ipv6Text(v6) : undefined;
}

/** `10.0.0.1` -> `1.0.0.10.in-addr.arpa.`; IPv6 in nibble form under `ip6.arpa.`. */
export function reverseName(address: string): string | undefined {
  const v4 = ipv4Bytes(address);
  if (v4) return `${[...v4].reverse().join('.')}.in-addr.arpa.`;
  const v6 = ipv6Bytes(address);
  if (!v6) return undefined;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    nibbles.push((v6[i]! & 0xf).toString(16), (v6[i]! >> 4).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa.`;
}

/** `10.0.0.1` -> `10-0-0-1`; `fd00::1` -> `fd00--1` (the label of pod and headless-endpoint names). */
export function dashedIP(address: string): string | undefined {
  if (isIPv4(address)) return address.replaceAll('.', '-');
  const v6 = ipv6Bytes(address);
  return v6 ? ipv6Text(v6).replaceAll(':', '-') : undefined;
}

/** The address a dashed label names (`10-0-0-1` -> `10.0.0.1`), or undefined. */
export function undashIP(label: string): string | undefined {
  const v4 = label.replaceAll('-', '.');
  if (isIPv4(v4)) return v4;
  const v6 = label.replaceAll('-', ':');
  return isIPv6(v6) ? canonicalIP(v6) : undefined;
}
