// DNS wire-format constants and the hot-path query parser.
//
// A query is parsed in place: header, the one question (its name lowercased
// into a reusable scratch buffer to form the lookup key) and the EDNS OPT
// record, with every read bounds-checked so a malformed packet yields a
// FORMERR decision, never an exception. Nothing here allocates beyond the
// Query object and its key string.

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
} as const;

export const RRClass = { IN: 1, CH: 3, NONE: 254, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended (EDNS) rcode 16: upper 8 bits travel in the OPT record. */
  BADVERS: 16,
} as const;

/** Header flag bits (the 16-bit word at offset 2). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

export const HEADER_SIZE = 12;
/** Largest UDP payload answered to a client without EDNS (RFC 1035). */
export const CLASSIC_UDP_SIZE = 512;
/** Our EDNS buffer size: the DNS Flag Day 2020 value, which avoids IP fragmentation. */
export const EDNS_UDP_SIZE = 1232;
/** Bytes of the OPT record we append: root name, type, class, ttl, rdlength 0. */
export const OPT_RECORD_SIZE = 11;
const MAX_NAME_WIRE = 255;

const typeNames = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));
const typeNumbers = new Map<string, number>(Object.entries(RRType).map(([k, v]) => [k, v]));

/** `A`, `SRV`, or RFC 3597's `TYPE65` for types without a name here. */
export function typeName(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

export function typeNumber(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = typeNumbers.get(upper);
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : undefined;
}

export type Transport = 'udp' | 'tcp';

/** A parsed query. The name starts at HEADER_SIZE in `msg` and ends before `nameEnd`. */
export interface Query {
  msg: Buffer;
  id: number;
  /** The request's header flags word. */
  flags: number;
  /** Offset just past the question name. */
  nameEnd: number;
  qtype: number;
  qclass: number;
  /** The question name in wire form, ASCII-lowercased, as a latin1 string: the lookup key. */
  key: string;
  /** Number of labels in the name (root: 0). */
  labels: number;
  /** EDNS: the client's UDP payload size, or 0 when the query had no OPT record. */
  udpSize: number;
  /** The EDNS DO bit. */
  dnssecOk: boolean;
  transport: Transport;
  /** Client address, for access control and rate limiting. */
  client: string;
  /** Set by the access stage: may this client have names outside the cluster zone resolved? */
  recursion: boolean;
}

/** Parse outcomes other than a Query: answer with this rcode, or drop the packet. */
export const DROP = -1;

const scratch = Buffer.allocUnsafe(MAX_NAME_WIRE);

/**
 * Parses a query. Returns the Query, DROP when no answer may be sent (too
 * short to carry an ID, or itself a response), or an rcode to answer with:
 * FORMERR, NOTIMP (opcode), BADVERS (EDNS version). `partial` then carries
 * what could be read, so the error answer echoes the question when possible.
 */
export function parseQuery(
  msg: Buffer,
  transport: Transport,
  client: string,
  partial?: { query: Query | undefined },
): Query | number {
  if (partial) partial.query = undefined;
  if (msg.length < HEADER_SIZE) return DROP;
  const flags = msg.readUInt16BE(2);
  if ((flags & Flag.QR) !== 0) return DROP;
  if (((flags >> 11) & 0xf) !== 0) return Rcode.NOTIMP;
  if (msg.readUInt16BE(4) !== 1) return Rcode.FORMERR;

  // The question name: labels only (a compression pointer could only point
  // into the header), lowercased into the scratch buffer.
  let off = HEADER_SIZE;
  let labels = 0;
  for (;;) {
    if (off >= msg.length) return Rcode.FORMERR;
    const len = msg[off]!;
    if (len === 0) break;
    if (len > 63) return Rcode.FORMERR;
    if (off + 1 + len - HEADER_SIZE >= MAX_NAME_WIRE) return Rcode.FORMERR;
    scratch[off - HEADER_SIZE] = len;
    for (let i = off + 1, end = off + 1 + len; i < end; i++) {
      if (i >= msg.length) return Rcode.FORMERR;
      const c = msg[i]!;
      scratch[i - HEADER_SIZE] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
    off += len + 1;
    labels++;
  }
  scratch[off - HEADER_SIZE] = 0;
  const nameEnd = off + 1;
  if (nameEnd + 4 > msg.length) return Rcode.FORMERR;
  const query: Query = {
    msg,
    id: msg.readUInt16BE(0),
    flags,
    nameEnd,
    qtype: msg.readUInt16BE(nameEnd),
    qclass: msg.readUInt16BE(nameEnd + 2),
    key: scratch.toString('latin1', 0, nameEnd - HEADER_SIZE),
    labels,
    udpSize: 0,
    dnssecOk: false,
    transport,
    client,
    recursion: false,
  };
  if (partial) partial.query = query;

  // The remaining sections: a query carries nothing but, perhaps, one OPT
  // record in the additional section; walk them all to find it.
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  off = nameEnd + 4;
  let sawOpt = false;
  for (let i = 0, n = an + ns + ar; i < n; i++) {
    const owner = off;
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) return Rcode.FORMERR;
    const type = msg.readUInt16BE(off);
    const rdlength = msg.readUInt16BE(off + 8);
    const rdata = off + 10;
    if (rdata + rdlength > msg.length) return Rcode.FORMERR;
    if (type === RRType.OPT) {
      // RFC 6891: only in the additional section, only once, owned by the root.
      if (i < an + ns || sawOpt || msg[owner] !== 0) return Rcode.FORMERR;
      sawOpt = true;
      query.udpSize = Math.max(CLASSIC_UDP_SIZE, msg.readUInt16BE(off + 2));
      const version = msg[off + 5]!;
      query.dnssecOk = (msg[off + 6]! & 0x80) !== 0;
      if (version !== 0) return Rcode.BADVERS;
    }
    off = rdata + rdlength;
  }
  if (query.qtype === RRType.OPT || query.qtype === 0) return Rcode.FORMERR;
  return query;
}

/** Offset just past a (possibly compressed) name at `off`, or -1 when malformed. */
export function skipName(msg: Uint8Array, off: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= msg.length) return -1;
    const len = msg[off]!;
    if (len === 0) return off + 1;
    const kind = len & 0xc0;
    if (kind === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if (kind !== 0) return -1;
    off += len + 1;
  }
  return -1;
}

/** The lowercase wire-form key of a presentation name (`foo.bar.` -> `\x03foo\x03bar\x00`). */
export function nameKey(name: string): string {
  let key = '';
  for (const label of splitLabels(name))
    key += String.fromCharCode(label.length) + label.toLowerCase();
  return `${key}\x00`;
}

/**
 * Presentation labels of a name, unescaping `\.` and `\DDD` (the form
 * `keyToName` writes). The root (`.` or ``) has none.
 */
export function splitLabels(name: string): string[] {
  const labels: string[] = [];
  let current = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\') {
      const digits = /^\d{3}/.exec(name.slice(i + 1, i + 4));
      if (digits) {
        current += String.fromCharCode(Number(digits[0]) & 0xff);
        i += 3;
      } else {
        current += name[i + 1] ?? '';
        i += 1;
      }
    } else if (c === '.') {
      if (current !== '') labels.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current !== '') labels.push(current);
  return labels;
}

/**
 * The presentation form of a wire key, fully qualified (`foo.bar.`); bytes
 * that are not letters, digits, `-`, `_` or `*` are escaped as dig does, so
 * a label holding a dot can never equal a name of two labels.
 */
export function keyToName(key: string): string {
  if (key.length <= 1) return '.';
  let name = '';
  let i = 0;
  while (i < key.length) {
    const len = key.charCodeAt(i);
    if (len === 0) break;
    for (let j = i + 1; j <= i + len && j < key.length; j++) {
      const c = key.charCodeAt(j);
      const plain =
        (c >= 0x61 && c <= 0x7a) ||
        (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x30 && c <= 0x39) ||
        c === 0x2d ||
        c === 0x5f ||
        c === 0x2a;
      if (plain) name += key[j];
      else if (c > 0x20 && c < 0x7f) name += `\\${key[j]}`;
      else name += `\\${String(c).padStart(3, '0')}`;
    }
    name += '.';
    i += len + 1;
  }
  return name;
}

/** True when the wire key ends with `suffix` (also a wire key) at a label boundary. */
export function keyIsUnder(key: string, suffix: string): boolean {
  const start = key.length - suffix.length;
  if (start < 0 || !key.endsWith(suffix)) return false;
  let i = 0;
  while (i < start) i += key.charCodeAt(i) + 1;
  return i === start;
}
