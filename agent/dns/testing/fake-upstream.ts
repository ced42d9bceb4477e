// A fake upstream resolver for tests and the benchmark: a real DNS server
// on loopback (UDP and TCP), answering from zone-file lines with an
// independent codec (dns-packet), so the forwarder is tested against
// something it did not write. Knobs: drop everything (a dead upstream),
// delay, and the record of what was asked.
//
// Answers: the records at the name and type; a CNAME at the name; NODATA
// with the SOA when the name has other records; NXDOMAIN with the SOA
// otherwise. UDP answers larger than the client's size are truncated (TC).

import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import type { ResourceRecord, SoaData, SrvData } from '../message.ts';
import { typeName } from '../wire.ts';
import { parseRecord } from '../zone-file.ts';

export interface FakeUpstream {
  readonly address: string;
  readonly port: number;
  /** `name type` of every question received (lowercase name, no trailing dot), UDP and TCP. */
  readonly asked: string[];
  /** Stop answering (queries are read and ignored), or answer again. */
  setDown(down: boolean): void;
  setDelay(ms: number): void;
  /** Replace the records. */
  setRecords(lines: readonly string[]): void;
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  records: readonly string[];
  address?: string;
  port?: number;
}

const SOA_LINE = 'example. 60 IN SOA ns.example. admin.example. 1 3600 600 86400 30';

export async function startFakeUpstream(options: FakeUpstreamOptions): Promise<FakeUpstream> {
  const address = options.address ?? '127.0.0.1';
  let records: ResourceRecord[] = [];
  let soa = parseRecord(SOA_LINE);
  const setRecords = (lines: readonly string[]) => {
    records = lines.map(parseRecord);
    soa = records.find((r) => typeName(r.type) === 'SOA') ?? parseRecord(SOA_LINE);
  };
  setRecords(options.records);
  let down = false;
  let delay = 0;
  const asked: string[] = [];

  const answer = (query: Buffer, maxSize: number): Buffer | undefined => {
    let q: packet.Packet;
    try {
      q = packet.decode(query);
    } catch {
      return undefined;
    }
    const question = q.questions?.[0];
    if (!question) return undefined;
    const name = question.name.toLowerCase();
    asked.push(`${name} ${question.type}`);
    const at = records.filter((r) => r.name.replace(/\.$/, '') === name);
    const cname = at.filter((r) => typeName(r.type) === 'CNAME');
    const matching =
      (question.type as string) === 'ANY'
        ? at
        : at.filter((r) => typeName(r.type) === question.type);
    const answers = matching.length > 0 ? matching : cname;
    const negative = answers.length === 0;
    const nx = negative && at.length === 0 && name !== '';
    const opt = q.additionals?.find((a) => a.type === 'OPT');
    const encode = (truncated: boolean) =>
      packet.encode({
        type: 'response',
        id: q.id ?? 0,
        // dns-packet takes the rcode in the flags' low bits: 3 is NXDOMAIN.
        flags:
          ((q.flags ?? 0) & packet.RECURSION_DESIRED) |
          packet.RECURSION_AVAILABLE |
          (truncated ? packet.TRUNCATED_RESPONSE : 0) |
          (nx ? 3 : 0),
        questions: [question],
        answers: truncated ? [] : answers.map(toPacket),
        authorities: negative && !truncated ? [toPacket(soa)] : [],
        additionals: opt
          ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as unknown as packet.Answer]
          : [],
      } as packet.Packet);
    const full = encode(false);
    return full.length > maxSize ? encode(true) : full;
  };

  const createUdp = (): dgram.Socket => {
    const udp = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      if (down) return;
      let size = 512;
      try {
        const opt = packet.decode(msg).additionals?.find((a) => a.type === 'OPT') as
          | { udpPayloadSize?: number }
          | undefined;
        if (opt?.udpPayloadSize) size = Math.max(512, opt.udpPayloadSize);
      } catch {
        return;
      }
      const reply = answer(msg, size);
      if (!reply) return;
      setTimeout(() => udp.send(reply, rinfo.port, rinfo.address), delay);
    });
    return udp;
  };

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + msg.length);
        if (down) continue;
        const reply = answer(Buffer.from(msg), 0xffff);
        if (!reply) continue;
        const framed = Buffer.alloc(reply.length + 2);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        setTimeout(() => socket.write(framed), delay);
      }
    });
  });
  // UDP and TCP on one port number. A free UDP port may be taken for TCP
  // (another test's connection can hold it as its ephemeral port): then try
  // another one, unless the caller asked for that port.
  let udp: dgram.Socket | undefined;
  let port = 0;
  for (let attempt = 1; udp === undefined; attempt++) {
    const socket = createUdp();
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? 0, address, () => resolve());
    });
    port = socket.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, address, () => {
          tcp.removeListener('error', reject);
          resolve();
        });
      });
      udp = socket;
    } catch (error) {
      await new Promise<void>((r) => socket.close(() => r()));
      const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!taken || options.port !== undefined || attempt >= 20) throw error;
    }
  }
  const udpSocket = udp;

  return {
    address,
    port,
    asked,
    setDown: (d) => {
      down = d;
    },
    setDelay: (ms) => {
      delay = ms;
    },
    setRecords,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udpSocket.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

function toPacket(r: ResourceRecord): packet.Answer {
  const name = r.name.replace(/\.$/, '') || '.';
  const strip = (n: string) => n.replace(/\.$/, '') || '.';
  const type = typeName(r.type);
  let data: unknown = r.data;
  if (type === 'CNAME' || type === 'PTR' || type === 'NS') data = strip(r.data as string);
  if (type === 'SRV') data = { ...(r.data as SrvData), target: strip((r.data as SrvData).target) };
  if (type === 'SOA') {
    const s = r.data as SoaData;
    data = { ...s, mname: strip(s.mname), rname: strip(s.rname) };
  }
  if (type === 'TXT') data = (r.data as string[]).map((t) => Buffer.from(t, 'latin1'));
  return { type, name, ttl: r.ttl, class: 'IN', data } as packet.Answer;
}
