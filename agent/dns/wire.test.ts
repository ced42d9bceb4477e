// The hot-path parser and reply patching, byte by byte.

import packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { finish } from './reply.ts';
import {
  DROP,
  keyIsUnder,
  keyToName,
  nameKey,
  parseQuery,
  type Query,
  Rcode,
  splitLabels,
} from './wire.ts';

const query = (name: string, extra: Partial<packet.Packet> = {}) =>
  packet.encode({
    type: 'query',
    id: 0x1234,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: 'A', name }],
    ...extra,
  });

const withOpcode = (msg: Buffer, opcode: number) => {
  const copy = Buffer.from(msg);
  copy[2] = (copy[2]! & 0x87) | (opcode << 3);
  return copy;
};

describe('parseQuery', () => {
  it('reads the question into a lowercase wire key', () => {
    const q = parseQuery(query('Foo.BAR.svc'), 'udp', '127.0.0.1') as Query;
    expect(q).toMatchObject({ id: 0x1234, qtype: 1, qclass: 1, labels: 3, udpSize: 0 });
    expect(q.key).toBe('\x03foo\x03bar\x03svc\x00');
    expect(keyToName(q.key)).toBe('foo.bar.svc.');
    expect(q.nameEnd).toBe(12 + 13);
  });

  it('reads EDNS: buffer size (at least 512), DO bit', () => {
    const msg = query('a.b', {
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 4096,
          flags: packet.DNSSEC_OK,
          options: [],
        } as unknown as packet.Answer,
      ],
    });
    expect(parseQuery(msg, 'udp', '::1')).toMatchObject({ udpSize: 4096, dnssecOk: true });
    const small = query('a.b', {
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 100 } as unknown as packet.Answer],
    });
    expect(parseQuery(small, 'udp', '::1')).toMatchObject({ udpSize: 512 });
  });

  it.each([
    ['shorter than a header', Buffer.from([1, 2, 3]), DROP],
    [
      'a response',
      packet.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'a' }] }),
      DROP,
    ],
    ['opcode STATUS', withOpcode(query('a'), 2), Rcode.NOTIMP],
    ['opcode NOTIFY', withOpcode(query('a'), 4), Rcode.NOTIMP],
    ['no question', packet.encode({ type: 'query', id: 1, questions: [] }), Rcode.FORMERR],
    [
      'two questions',
      packet.encode({
        type: 'query',
        id: 1,
        questions: [
          { type: 'A', name: 'a' },
          { type: 'A', name: 'b' },
        ],
      }),
      Rcode.FORMERR,
    ],
    ['a truncated name', query('abc.def').subarray(0, 16), Rcode.FORMERR],
    ['a missing type', query('abc').subarray(0, 18), Rcode.FORMERR],
    [
      'a pointer in the question',
      Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]),
      Rcode.FORMERR,
    ],
    [
      'a label of 64 bytes',
      Buffer.from([
        0,
        1,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        64,
        ...new Array(64).fill(97),
        0,
        0,
        1,
        0,
        1,
      ]),
      Rcode.FORMERR,
    ],
    [
      'EDNS version 1',
      query('a', {
        additionals: [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            ednsVersion: 1,
          } as unknown as packet.Answer,
        ],
      }),
      Rcode.BADVERS,
    ],
    [
      'two OPT records',
      query('a', {
        additionals: [
          { type: 'OPT', name: '.', udpPayloadSize: 1232 } as unknown as packet.Answer,
          { type: 'OPT', name: '.', udpPayloadSize: 1232 } as unknown as packet.Answer,
        ],
      }),
      Rcode.FORMERR,
    ],
    [
      'an OPT record cut short',
      query('a', {
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as unknown as packet.Answer],
      }).subarray(0, 25),
      Rcode.FORMERR,
    ],
    [
      'type OPT asked',
      packet.encode({ type: 'query', id: 1, questions: [{ type: 'OPT', name: 'a' }] }),
      Rcode.FORMERR,
    ],
  ])('refuses %s', (_what, msg, outcome) => {
    expect(parseQuery(Buffer.from(msg), 'udp', '127.0.0.1')).toBe(outcome);
  });

  it('refuses a name longer than 255 bytes', () => {
    const labels = new Array(5).fill(0).flatMap(() => [63, ...new Array(63).fill(97)]);
    const msg = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
    expect(parseQuery(msg, 'udp', '127.0.0.1')).toBe(Rcode.FORMERR);
  });
});

describe('names', () => {
  it('keys and names round-trip, escaping what would be ambiguous', () => {
    expect(nameKey('Foo.Bar.')).toBe('\x03foo\x03bar\x00');
    expect(nameKey('.')).toBe('\x00');
    expect(keyToName('\x03a.b\x01c\x00')).toBe('a\\.b.c.');
    expect(splitLabels('a\\.b.c.')).toEqual(['a.b', 'c']);
    expect(nameKey(keyToName('\x03a.b\x01c\x00'))).toBe('\x03a.b\x01c\x00');
  });
  it('tests suffixes at label boundaries only', () => {
    const zone = nameKey('cluster.local.');
    expect(keyIsUnder(nameKey('foo.cluster.local.'), zone)).toBe(true);
    expect(keyIsUnder(zone, zone)).toBe(true);
    expect(keyIsUnder(nameKey('xcluster.local.'), zone)).toBe(false);
    expect(keyIsUnder(nameKey('local.'), zone)).toBe(false);
    // A label whose bytes end like the suffix is not under it.
    expect(keyIsUnder('\x0ex\x07cluster\x05local\x00', zone)).toBe(false);
  });
});

describe('finish', () => {
  const base = packet.encode({
    type: 'response',
    id: 0,
    flags: packet.AUTHORITATIVE_ANSWER,
    questions: [{ type: 'A', name: 'foo.bar' }],
    answers: [{ type: 'A', name: 'foo.bar', ttl: 5, data: '10.0.0.1' }],
  });

  it("patches the client's ID, RD, CD and case in; RA as told", () => {
    const msg = packet.encode({
      type: 'query',
      id: 777,
      flags: packet.RECURSION_DESIRED | packet.CHECKING_DISABLED,
      questions: [{ type: 'A', name: 'FoO.bAr' }],
    });
    const q = parseQuery(msg, 'udp', '127.0.0.1') as Query;
    const reply = packet.decode(finish(q, base, true));
    expect(reply).toMatchObject({
      id: 777,
      flag_rd: true,
      flag_cd: true,
      flag_ra: true,
      flag_aa: true,
      flag_ad: false,
      questions: [{ name: 'FoO.bAr' }],
    });
    expect(packet.decode(finish(q, base, false)).flag_ra).toBe(false);
  });

  it('appends our own OPT record for EDNS clients, never theirs', () => {
    const msg = query('foo.bar', {
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 4096,
          flags: packet.DNSSEC_OK,
          options: [{ code: 65001, data: Buffer.from('secret') }],
        } as unknown as packet.Answer,
      ],
    });
    const reply = packet.decode(finish(parseQuery(msg, 'udp', '::1') as Query, base, true));
    const opt = reply.additionals?.[0] as unknown as {
      udpPayloadSize: number;
      options: unknown[];
      flags: number;
    };
    expect(opt).toMatchObject({ type: 'OPT', udpPayloadSize: 1232, options: [] });
    expect(opt.flags & packet.DNSSEC_OK).toBe(packet.DNSSEC_OK);
  });

  it('truncates what does not fit: 512 bytes without EDNS, never over TCP', () => {
    const many = packet.encode({
      type: 'response',
      id: 0,
      questions: [{ type: 'A', name: 'foo.bar' }],
      answers: Array.from({ length: 40 }, (_, i) => ({
        type: 'A' as const,
        name: 'foo.bar',
        ttl: 5,
        data: `10.0.0.${i}`,
      })),
    });
    expect(many.length).toBeGreaterThan(512);
    const udp = parseQuery(query('foo.bar'), 'udp', '127.0.0.1') as Query;
    const cut = packet.decode(finish(udp, many, true));
    expect(cut.flag_tc).toBe(true);
    expect(cut.answers).toEqual([]);
    expect(cut.questions).toEqual([{ name: 'foo.bar', type: 'A', class: 'IN' }]);
    const tcp = parseQuery(query('foo.bar'), 'tcp', '127.0.0.1') as Query;
    expect(packet.decode(finish(tcp, many, true)).answers).toHaveLength(40);
  });
});
