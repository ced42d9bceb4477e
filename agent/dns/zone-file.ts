// Records in zone-file notation (RFC 1035 section 5, as dig prints them):
// `foo.bar.svc.cluster.local. 5 IN A 10.96.0.10`. The notation of the DNS
// tests' tables (convention 7), of `pier dns` debugging output and of the
// zone file the benchmark gives knotd.

import type { MxData, ResourceRecord, SoaData, SrvData } from './message.ts';
import { RRClass, typeName, typeNumber } from './wire.ts';

const classNames: Record<number, string> = { [RRClass.IN]: 'IN', [RRClass.CH]: 'CH' };

export function formatRecord(r: ResourceRecord): string {
  const klass = classNames[r.class] ?? `CLASS${r.class}`;
  return `${r.name} ${r.ttl} ${klass} ${typeName(r.type)} ${formatData(r)}`;
}

function formatData(r: ResourceRecord): string {
  const d = r.data;
  if (typeof d === 'string') return d;
  if (d instanceof Uint8Array)
    return `\\# ${d.length}${d.length ? ` ${Buffer.from(d).toString('hex')}` : ''}`;
  if (Array.isArray(d)) return (d as readonly string[]).map(quote).join(' ');
  if ('target' in d) {
    const s = d as SrvData;
    return `${s.priority} ${s.weight} ${s.port} ${s.target}`;
  }
  if ('mname' in d) {
    const s = d as SoaData;
    return `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
  }
  const m = d as MxData;
  return `${m.preference} ${m.exchange}`;
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || c >= 0x7f) out += `\\${String(c).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Parses one line as formatRecord writes it (no $ORIGIN, no relative names, no parentheses). */
export function parseRecord(line: string): ResourceRecord {
  const tokens = tokenize(line);
  const [name, ttlText, klass, typeText, ...rdata] = tokens;
  const type = typeText === undefined ? undefined : typeNumber(typeText);
  if (name === undefined || type === undefined || !/^\d+$/.test(ttlText ?? '') || klass !== 'IN') {
    throw new SyntaxError(`not a zone-file record "<name> <ttl> IN <type> <data>": ${line}`);
  }
  const base = { name: name.toLowerCase(), type, class: RRClass.IN, ttl: Number(ttlText) };
  const num = (i: number) => {
    const v = Number(rdata[i]);
    if (!Number.isInteger(v))
      throw new SyntaxError(`expected a number at "${rdata[i]}" in: ${line}`);
    return v;
  };
  switch (typeName(type)) {
    case 'A':
    case 'AAAA':
    case 'NS':
    case 'CNAME':
    case 'PTR':
      return { ...base, data: rdata[0] ?? '' };
    case 'TXT':
      return { ...base, data: rdata };
    case 'SRV':
      return {
        ...base,
        data: { priority: num(0), weight: num(1), port: num(2), target: rdata[3] ?? '' },
      };
    case 'MX':
      return { ...base, data: { preference: num(0), exchange: rdata[1] ?? '' } };
    case 'SOA':
      return {
        ...base,
        data: {
          mname: rdata[0] ?? '',
          rname: rdata[1] ?? '',
          serial: num(2),
          refresh: num(3),
          retry: num(4),
          expire: num(5),
          minimum: num(6),
        },
      };
    default:
      if (rdata[0] !== '\\#')
        throw new SyntaxError(`write ${typeText} data as \\# <length> <hex>: ${line}`);
      return { ...base, data: Uint8Array.from(Buffer.from(rdata.slice(2).join(''), 'hex')) };
  }
}

/** Whitespace-separated tokens; a double-quoted token keeps its spaces and unescapes `\"`, `\\`, `\DDD`. */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i]!)) {
      i++;
      continue;
    }
    if (line[i] === '"') {
      let s = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') {
          const digits = /^\d{3}/.exec(line.slice(i + 1, i + 4));
          if (digits) {
            s += String.fromCharCode(Number(digits[0]));
            i += 4;
          } else {
            s += line[i + 1] ?? '';
            i += 2;
          }
        } else s += line[i++];
      }
      i++;
      tokens.push(s);
    } else {
      const start = i;
      while (i < line.length && !/\s/.test(line[i]!)) i++;
      tokens.push(line.slice(start, i));
    }
  }
  return tokens;
}
