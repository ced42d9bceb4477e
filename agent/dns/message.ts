// A whole DNS message: decode (bounds-checked, compression-aware, keeping
// where each TTL sits so cached upstream answers can be aged in place) and
// encode (with name compression). Used off the hot path: to encode a zone
// answer once before it is cached, and to read upstream responses.

import { ipv4Bytes, ipv6Bytes, ipv6Text } from './addresses.ts';
import { HEADER_SIZE, keyToName, RRType, splitLabels } from './wire.ts';

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export interface MxData {
  preference: number;
  exchange: string;
}

/**
 * By type: A/AAAA an address; NS/CNAME/PTR a name; TXT its strings; SRV,
 * SOA, MX their fields; any other type (and OPT) its raw RDATA.
 */
export type RecordData = string | readonly string[] | SrvData | SoaData | MxData | Uint8Array;

export interface ResourceRecord {
  /** Presentation form, fully qualified: `foo.bar.svc.cluster.local.` */
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RecordData;
}

export interface DecodedRecord extends ResourceRecord {
  /** Offset of the TTL field in the decoded message. */
  ttlOffset: number;
}

export interface Message {
  id: number;
  /** The header flags word, rcode included. */
  flags: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

export interface DecodedMessage extends Message {
  answers: DecodedRecord[];
  authorities: DecodedRecord[];
  additionals: DecodedRecord[];
}

export class MalformedMessage extends Error {
  override name = 'MalformedMessage';
}

// ---------------------------------------------------------------- decode

/** Reads a possibly compressed name; pointers must point backwards, so it always ends. */
function readName(msg: Uint8Array, start: number): { name: string; end: number } {
  let off = start;
  let end = -1;
  let key = '';
  let wireLength = 1;
  let limit = start;
  for (;;) {
    if (off >= msg.length) throw new MalformedMessage('name runs past the end');
    const len = msg[off]!;
    if (len === 0) {
      if (end === -1) end = off + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (off + 1 >= msg.length) throw new MalformedMessage('pointer runs past the end');
      const target = ((len & 0x3f) << 8) | msg[off + 1]!;
      if (target >= limit)
        throw new MalformedMessage('compression pointer does not point backwards');
      if (end === -1) end = off + 2;
      off = target;
      limit = target;
      continue;
    }
    if (kind !== 0) throw new MalformedMessage('unknown label type');
    if (off + 1 + len > msg.length) throw new MalformedMessage('label runs past the end');
    wireLength += len + 1;
    if (wireLength > 255) throw new MalformedMessage('name longer than 255 bytes');
    key += String.fromCharCode(len);
    for (let i = off + 1; i <= off + len; i++) key += String.fromCharCode(msg[i]!);
    off += len + 1;
  }
  return { name: keyToName(`${key}\x00`), end };
}

function readRecord(msg: Buffer, off: number): { record: DecodedRecord; end: number } {
  const { name, end: nameEnd } = readName(msg, off);
  if (nameEnd + 10 > msg.length) throw new MalformedMessage('record header runs past the end');
  const type = msg.readUInt16BE(nameEnd);
  const klass = msg.readUInt16BE(nameEnd + 2);
  const ttl = msg.readUInt32BE(nameEnd + 4);
  const rdlength = msg.readUInt16BE(nameEnd + 8);
  const rdata = nameEnd + 10;
  const end = rdata + rdlength;
  if (end > msg.length) throw new MalformedMessage('RDATA runs past the end');
  const data = readData(msg, type, rdata, end);
  return { record: { name, type, class: klass, ttl, data, ttlOffset: nameEnd + 4 }, end };
}

function readData(msg: Buffer, type: number, start: number, end: number): RecordData {
  const length = end - start;
  const nameWithin = (at: number) => {
    const r = readName(msg, at);
    if (r.end > end) throw new MalformedMessage('name runs past its RDATA');
    return r;
  };
  switch (type) {
    case RRType.A:
      if (length !== 4) throw new MalformedMessage('A RDATA must be 4 bytes');
      return `${msg[start]}.${msg[start + 1]}.${msg[start + 2]}.${msg[start + 3]}`;
    case RRType.AAAA:
      if (length !== 16) throw new MalformedMessage('AAAA RDATA must be 16 bytes');
      return ipv6Text(msg.subarray(start, end));
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR: {
      const r = nameWithin(start);
      if (r.end !== end) throw new MalformedMessage('trailing bytes after a name');
      return r.name;
    }
    case RRType.MX: {
      if (length < 3) throw new MalformedMessage('MX RDATA too short');
      const r = nameWithin(start + 2);
      return { preference: msg.readUInt16BE(start), exchange: r.name };
    }
    case RRType.SRV: {
      if (length < 7) throw new MalformedMessage('SRV RDATA too short');
      const r = nameWithin(start + 6);
      return {
        priority: msg.readUInt16BE(start),
        weight: msg.readUInt16BE(start + 2),
        port: msg.readUInt16BE(start + 4),
        target: r.name,
      };
    }
    case RRType.SOA: {
      const m = nameWithin(start);
      const r = nameWithin(m.end);
      if (r.end + 20 !== end) throw new MalformedMessage('SOA RDATA has the wrong length');
      return {
        mname: m.name,
        rname: r.name,
        serial: msg.readUInt32BE(r.end),
        refresh: msg.readUInt32BE(r.end + 4),
        retry: msg.readUInt32BE(r.end + 8),
        expire: msg.readUInt32BE(r.end + 12),
        minimum: msg.readUInt32BE(r.end + 16),
      };
    }
    case RRType.TXT: {
      const strings: string[] = [];
      let off = start;
      while (off < end) {
        const len = msg[off]!;
        if (off + 1 + len > end) throw new MalformedMessage('TXT string runs past its RDATA');
        strings.push(msg.toString('latin1', off + 1, off + 1 + len));
        off += len + 1;
      }
      return strings;
    }
    default:
      return Uint8Array.prototype.slice.call(msg, start, end);
  }
}

/** Decodes a whole message; throws MalformedMessage on anything it cannot read. */
export function decodeMessage(msg: Buffer): DecodedMessage {
  if (msg.length < HEADER_SIZE) throw new MalformedMessage('shorter than a header');
  const counts = [
    msg.readUInt16BE(4),
    msg.readUInt16BE(6),
    msg.readUInt16BE(8),
    msg.readUInt16BE(10),
  ];
  let off = HEADER_SIZE;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const { name, end } = readName(msg, off);
    if (end + 4 > msg.length) throw new MalformedMessage('question runs past the end');
    questions.push({ name, type: msg.readUInt16BE(end), class: msg.readUInt16BE(end + 2) });
    off = end + 4;
  }
  const sections: DecodedRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const { record, end } = readRecord(msg, off);
      sections[s]!.push(record);
      off = end;
    }
  }
  return {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    questions,
    answers: sections[0]!,
    authorities: sections[1]!,
    additionals: sections[2]!,
  };
}

// ---------------------------------------------------------------- encode

class Writer {
  buf = Buffer.alloc(512);
  length = 0;
  /** Wire key of a name suffix -> offset where it was written. */
  readonly names = new Map<string, number>();

  ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.length);
    this.length += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** Writes a name; compresses against earlier names (case-insensitively) unless told not to. */
  name(name: string, compress: boolean): void {
    const labels = splitLabels(name).map((l) => Buffer.from(l, 'latin1'));
    let wire = 1;
    for (const l of labels) {
      if (l.length === 0 || l.length > 63)
        throw new RangeError(`label of ${l.length} bytes in "${name}"`);
      wire += l.length + 1;
    }
    if (wire > 255) throw new RangeError(`name "${name}" is longer than 255 bytes`);
    const keys: string[] = [];
    let key = '\x00';
    for (let i = labels.length - 1; i >= 0; i--) {
      key =
        String.fromCharCode(labels[i]!.length) + labels[i]!.toString('latin1').toLowerCase() + key;
      keys[i] = key;
    }
    for (let i = 0; i < labels.length; i++) {
      const seen = this.names.get(keys[i]!);
      if (compress && seen !== undefined) {
        this.u16(0xc000 | seen);
        return;
      }
      if (this.length < 0x4000 && seen === undefined) this.names.set(keys[i]!, this.length);
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }
}

function fail(record: ResourceRecord, what: string): never {
  throw new RangeError(`${record.name} type ${record.type}: ${what}`);
}

function writeData(w: Writer, r: ResourceRecord): void {
  const d = r.data;
  switch (r.type) {
    case RRType.A: {
      const b = typeof d === 'string' ? ipv4Bytes(d) : undefined;
      if (!b) fail(r, 'A data must be an IPv4 address');
      w.bytes(b);
      return;
    }
    case RRType.AAAA: {
      const b = typeof d === 'string' ? ipv6Bytes(d) : undefined;
      if (!b) fail(r, 'AAAA data must be an IPv6 address');
      w.bytes(b);
      return;
    }
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
      if (typeof d !== 'string') fail(r, 'data must be a name');
      w.name(d, true);
      return;
    case RRType.MX:
      if (typeof d !== 'object' || !('exchange' in d))
        fail(r, 'MX data must be {preference, exchange}');
      w.u16(d.preference);
      w.name(d.exchange, true);
      return;
    case RRType.SRV:
      if (typeof d !== 'object' || !('target' in d))
        fail(r, 'SRV data must be {priority, weight, port, target}');
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      // RFC 2782: the target is never compressed.
      w.name(d.target, false);
      return;
    case RRType.SOA:
      if (typeof d !== 'object' || !('mname' in d)) fail(r, 'SOA data must be its seven fields');
      w.name(d.mname, true);
      w.name(d.rname, true);
      for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) w.u32(v);
      return;
    case RRType.TXT:
      if (!Array.isArray(d)) fail(r, 'TXT data must be a list of strings');
      for (const s of d as readonly string[]) {
        const b = Buffer.from(s, 'latin1');
        if (b.length > 255) fail(r, 'a TXT string is longer than 255 bytes');
        w.u8(b.length);
        w.bytes(b);
      }
      return;
    default:
      if (!(d instanceof Uint8Array)) fail(r, 'data of this type must be raw bytes');
      w.bytes(d);
  }
}

function writeRecord(w: Writer, r: ResourceRecord): void {
  w.name(r.name, true);
  w.u16(r.type);
  w.u16(r.class);
  w.u32(r.ttl);
  const lengthAt = w.length;
  w.u16(0);
  writeData(w, r);
  w.buf.writeUInt16BE(w.length - lengthAt - 2, lengthAt);
}

/** Encodes a message; names compress against earlier ones. Throws RangeError on bad data. */
export function encodeMessage(m: Message): Buffer {
  const w = new Writer();
  w.u16(m.id);
  w.u16(m.flags);
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authorities.length);
  w.u16(m.additionals.length);
  for (const q of m.questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const r of m.answers) writeRecord(w, r);
  for (const r of m.authorities) writeRecord(w, r);
  for (const r of m.additionals) writeRecord(w, r);
  return Buffer.from(w.buf.subarray(0, w.length));
}
