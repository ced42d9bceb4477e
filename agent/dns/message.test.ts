// The codec against an independent one (dns-packet): what one writes the
// other reads, and malformed input is refused with MalformedMessage.

import packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, MalformedMessage, type Message } from './message.ts';
import { RRType } from './wire.ts';
import { formatRecord, parseRecord } from './zone-file.ts';

const lines = [
  'foo.bar.svc.cluster.local. 5 IN A 10.96.0.10',
  'foo.bar.svc.cluster.local. 5 IN AAAA fd00:96::10',
  'ext.bar.svc.cluster.local. 5 IN CNAME db.example.com.',
  '10.0.96.10.in-addr.arpa. 5 IN PTR foo.bar.svc.cluster.local.',
  '_http._tcp.foo.bar.svc.cluster.local. 5 IN SRV 0 100 80 foo.bar.svc.cluster.local.',
  'dns-version.cluster.local. 5 IN TXT "1.1.0" "two words" "q\\"uote"',
  'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5',
  'cluster.local. 5 IN NS ns.dns.cluster.local.',
  'example.com. 300 IN MX 10 mail.example.com.',
  'example.com. 300 IN TYPE99 \\# 3 616263',
];

describe('zone-file notation', () => {
  it.each(lines)('round-trips %s', (line) => {
    expect(formatRecord(parseRecord(line))).toBe(line);
  });
  it('refuses a line that is not a record', () => {
    expect(() => parseRecord('foo. IN A 1.2.3.4')).toThrow(SyntaxError);
    expect(() => parseRecord('foo. 5 IN FROB x')).toThrow(SyntaxError);
  });
});

describe('message codec', () => {
  const message: Message = {
    id: 4242,
    flags: 0x8580,
    questions: [{ name: 'foo.bar.svc.cluster.local.', type: RRType.A, class: 1 }],
    answers: lines.slice(0, 6).map(parseRecord),
    authorities: [parseRecord(lines[6]!)],
    additionals: lines.slice(7).map(parseRecord),
  };

  it('encodes what dns-packet decodes, and compresses names', () => {
    const wire = encodeMessage(message);
    const theirs = packet.decode(wire);
    expect(theirs.id).toBe(4242);
    expect(theirs.flag_aa).toBe(true);
    expect(theirs.answers?.map((a) => [a.name, a.type])).toEqual([
      ['foo.bar.svc.cluster.local', 'A'],
      ['foo.bar.svc.cluster.local', 'AAAA'],
      ['ext.bar.svc.cluster.local', 'CNAME'],
      ['10.0.96.10.in-addr.arpa', 'PTR'],
      ['_http._tcp.foo.bar.svc.cluster.local', 'SRV'],
      ['dns-version.cluster.local', 'TXT'],
    ]);
    const srv = theirs.answers?.[4] as { data: { target: string; port: number } };
    expect(srv.data).toMatchObject({ target: 'foo.bar.svc.cluster.local', port: 80 });
    // Uncompressed, the owner names alone would take more than the whole message.
    expect(wire.length).toBeLessThan(400);
  });

  it('decodes its own encoding to the same records, with TTL offsets', () => {
    const wire = encodeMessage(message);
    const back = decodeMessage(wire);
    expect(back.answers.map(formatRecord)).toEqual(lines.slice(0, 6));
    expect(back.authorities.map(formatRecord)).toEqual([lines[6]]);
    expect(back.additionals.map(formatRecord)).toEqual(lines.slice(7));
    for (const r of [...back.answers, ...back.authorities, ...back.additionals]) {
      expect(wire.readUInt32BE(r.ttlOffset)).toBe(r.ttl);
    }
  });

  it('decodes what dns-packet encodes', () => {
    const wire = packet.encode({
      type: 'response',
      id: 7,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'Example.COM' }],
      answers: [
        { type: 'CNAME', name: 'Example.COM', ttl: 60, data: 'www.example.com' },
        { type: 'A', name: 'www.example.com', ttl: 60, data: '93.184.216.34' },
      ],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 4096, options: [] } as unknown as packet.Answer,
      ],
    });
    const m = decodeMessage(wire);
    expect(m.questions).toEqual([{ name: 'Example.COM.', type: 1, class: 1 }]);
    expect(m.answers.map(formatRecord)).toEqual([
      'Example.COM. 60 IN CNAME www.example.com.',
      'www.example.com. 60 IN A 93.184.216.34',
    ]);
    expect(m.additionals[0]).toMatchObject({ type: RRType.OPT, class: 4096 });
  });

  it('escapes label bytes that would change the name', () => {
    const wire = Buffer.from([
      0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x2e, 0x62, 1, 0xff, 0, 0, 1, 0, 1,
    ]);
    expect(decodeMessage(wire).questions[0]!.name).toBe('a\\.b.\\255.');
    const again = encodeMessage({
      ...decodeMessage(wire),
      answers: [],
      authorities: [],
      additionals: [],
    });
    expect(again.equals(wire)).toBe(true);
  });

  it.each([
    ['shorter than a header', Buffer.from([1, 2, 3])],
    ['a question past the end', Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x61])],
    ['a pointer loop', Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])],
    [
      'a forward pointer',
      Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0]),
    ],
    [
      'an A record of 3 bytes',
      Buffer.from([
        0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 3, 1, 2, 3,
      ]),
    ],
    [
      'an extended label type',
      Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1]),
    ],
  ])('refuses %s', (_what, wire) => {
    expect(() => decodeMessage(wire)).toThrow(MalformedMessage);
  });

  it('refuses to encode bad data', () => {
    expect(() =>
      encodeMessage({ ...message, answers: [parseRecord('a. 5 IN A fd00::1')] }),
    ).toThrow(RangeError);
    expect(() =>
      encodeMessage({
        ...message,
        answers: [{ ...parseRecord('a. 5 IN A 1.2.3.4'), name: `${'x'.repeat(64)}.` }],
      }),
    ).toThrow(RangeError);
  });
});
