// Turning a preencoded response into the reply to one query: a copy of the
// bytes with the query's ID, RD and CD bits, recursion-available bit and
// name (so the question, and every name compressed against it, echoes the
// client's case) patched in; an OPT record appended for EDNS clients; TTLs
// aged for cached upstream answers. A reply that does not fit the client's
// UDP size is replaced by an empty one with TC set, so the client retries
// over TCP.
//
// Preencoded responses (`base`) carry the question in lowercase, ID 0, no
// OPT record, and the rcode and AA bit they answer with.

import {
  CLASSIC_UDP_SIZE,
  EDNS_UDP_SIZE,
  Flag,
  HEADER_SIZE,
  OPT_RECORD_SIZE,
  type Query,
} from './wire.ts';

/** TTL aging for a cached upstream answer: offsets and original TTLs of its records. */
export interface TtlAging {
  offsets: Uint32Array;
  ttls: Uint32Array;
  /** Seconds to subtract from each TTL; a TTL never goes below `floor`. */
  elapsed: number;
  floor: number;
}

/** The largest reply a client takes over its transport. */
export function replyLimit(q: Query): number {
  if (q.transport === 'tcp') return 0xffff;
  return q.udpSize > 0 ? Math.min(q.udpSize, EDNS_UDP_SIZE) : CLASSIC_UDP_SIZE;
}

export function finish(
  q: Query,
  base: Buffer,
  recursionAvailable: boolean,
  aging?: TtlAging,
): Buffer {
  const edns = q.udpSize > 0;
  const length = base.length + (edns ? OPT_RECORD_SIZE : 0);
  if (length > replyLimit(q)) return truncated(q, base[2]!, base[3]! & 0x0f, recursionAvailable);
  const out = Buffer.allocUnsafe(length);
  base.copy(out, 0, 0, base.length);
  patchHeader(out, q, base[2]!, base[3]! & 0x0f, recursionAvailable);
  q.msg.copy(out, HEADER_SIZE, HEADER_SIZE, q.nameEnd);
  if (aging) {
    const { offsets, ttls, elapsed, floor } = aging;
    for (let i = 0; i < offsets.length; i++) {
      out.writeUInt32BE(Math.max(floor, ttls[i]! - elapsed), offsets[i]!);
    }
  }
  if (edns) {
    writeOpt(out, base.length, q, 0);
    out.writeUInt16BE(base.readUInt16BE(10) + 1, 10);
  }
  return out;
}

/** A reply without records: header, the question, and OPT for EDNS clients. */
export function errorReply(q: Query, rcode: number, recursionAvailable: boolean): Buffer {
  return questionOnly(q, Flag.QR >> 8, rcode, recursionAvailable);
}

/**
 * The reply to a packet whose question could not be read: the header alone,
 * with the request's ID, opcode and RD bit.
 */
export function headerOnlyReply(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  out[2] = 0x80 | (msg[2]! & 0x79);
  out[3] = rcode & 0x0f;
  return out;
}

function truncated(q: Query, byte2: number, rcode: number, recursionAvailable: boolean): Buffer {
  return questionOnly(q, byte2 | (Flag.TC >> 8), rcode, recursionAvailable);
}

function questionOnly(q: Query, byte2: number, rcode: number, recursionAvailable: boolean): Buffer {
  const edns = q.udpSize > 0;
  const questionEnd = q.nameEnd + 4;
  const out = Buffer.alloc(questionEnd + (edns ? OPT_RECORD_SIZE : 0));
  q.msg.copy(out, HEADER_SIZE, HEADER_SIZE, questionEnd);
  patchHeader(out, q, byte2, rcode & 0x0f, recursionAvailable);
  out.writeUInt16BE(1, 4);
  if (edns) {
    writeOpt(out, questionEnd, q, rcode >> 4);
    out.writeUInt16BE(1, 10);
  }
  return out;
}

function patchHeader(
  out: Buffer,
  q: Query,
  byte2: number,
  rcode: number,
  recursionAvailable: boolean,
): void {
  out.writeUInt16BE(q.id, 0);
  // QR, AA and TC from the response; opcode 0; RD copied from the query.
  out[2] = (byte2 & 0x86) | 0x80 | ((q.flags >> 8) & 0x01);
  // RA when this client may recurse; CD copied from the query; AD never (nothing is validated here).
  out[3] = (recursionAvailable ? 0x80 : 0) | (q.flags & Flag.CD) | rcode;
}

/** Our OPT record: our buffer size, the extended rcode bits, DO copied (RFC 3225), no options. */
function writeOpt(out: Buffer, at: number, q: Query, extendedRcode: number): void {
  out[at] = 0;
  out.writeUInt16BE(41, at + 1);
  out.writeUInt16BE(EDNS_UDP_SIZE, at + 3);
  out[at + 5] = extendedRcode;
  out[at + 6] = 0;
  out.writeUInt16BE(q.dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
}
