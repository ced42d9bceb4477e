// The cluster zone. A hot query is one map lookup by wire key and type and
// a patched copy of the preencoded response (reply.ts); the first query for
// a name resolves it (resolve.ts) and encodes the response once. When the
// zone changes, the responses of exactly the names whose answers changed
// are forgotten (invalidate), so no answer outlives the objects it came
// from and the rest stay hot. An answer is only kept when it depends on its
// own name alone (SRV additionals are in the same Service's fragment);
// answers that follow a CNAME are encoded per query.
//
// ExternalName targets outside the zone are resolved through the recursor
// for clients allowed to recurse, and appended after the CNAME; others get
// the CNAME alone, as from any authoritative server.

import { encodeMessage, type ResourceRecord } from '../message.ts';
import type { Recursor } from '../recursor.ts';
import { finish } from '../reply.ts';
import { resolve, type ZoneAnswer } from '../resolve.ts';
import type { Handler, Reply, Stage } from '../stage.ts';
import {
  Flag,
  keyIsUnder,
  keyToName,
  nameKey,
  type Query,
  Rcode,
  RRClass,
  RRType,
} from '../wire.ts';
import type { Zone } from '../zone.ts';

/** Preencoded responses kept per zone before the table starts over. */
const MAX_RESPONSES = 200_000;
const IN_ADDR_ARPA = nameKey('in-addr.arpa.');
const IP6_ARPA = nameKey('ip6.arpa.');

export interface KubernetesStage extends Stage {
  /** Serves another zone object from now on. */
  setZone(zone: Zone): void;
  /** Forgets the responses of names whose answers changed (zone-sync.ts), or all. */
  invalidate(names: Iterable<string> | 'all'): void;
  zone(): Zone;
}

export function createKubernetesStage(
  initial: Zone,
  recursor: Recursor | undefined,
): KubernetesStage {
  let zone = initial;
  let responses = new Map<string, Map<number, Buffer>>();
  let stored = 0;
  // Names that cannot be the zone's go on without being resolved: the hot
  // path of forwarded names costs one suffix test, not a resolve().
  let originKey = nameKey(zone.origin);
  const mayBeOurs = (key: string) =>
    keyIsUnder(key, originKey) || keyIsUnder(key, IN_ADDR_ARPA) || keyIsUnder(key, IP6_ARPA);

  const encode = (
    q: Query,
    answer: ZoneAnswer,
    extra?: { answer: ResourceRecord[]; authority: ResourceRecord[]; rcode: number },
  ) =>
    encodeMessage({
      id: 0,
      flags: Flag.QR | (extra ? 0 : Flag.AA) | (extra ? extra.rcode : answer.rcode),
      questions: [{ name: keyToName(q.key), type: q.qtype, class: RRClass.IN }],
      answers: extra ? [...answer.answer, ...extra.answer] : answer.answer,
      authorities: extra ? extra.authority : answer.authority,
      additionals: answer.additional,
    });

  const chase = async (q: Query, answer: ZoneAnswer, target: string): Promise<Reply> => {
    const upstream = await recursor!.lookup(nameKey(target), q.qtype);
    if (upstream === undefined) return finish(q, encode(q, answer), q.recursion);
    const rcode = upstream.flags & 0x0f;
    return finish(
      q,
      encode(q, answer, {
        answer: upstream.answers,
        authority:
          rcode === Rcode.NOERROR && upstream.answers.length > 0 ? [] : upstream.authorities,
        rcode,
      }),
      q.recursion,
    );
  };

  return {
    name: 'kubernetes',
    setZone(next) {
      zone = next;
      originKey = nameKey(zone.origin);
      responses = new Map();
      stored = 0;
    },
    invalidate(names) {
      if (names === 'all') {
        responses = new Map();
        stored = 0;
        return;
      }
      for (const name of names) {
        const key = nameKey(name);
        const types = responses.get(key);
        if (types !== undefined) {
          stored -= types.size;
          responses.delete(key);
        }
      }
    },
    zone() {
      return zone;
    },
    wrap(next: Handler): Handler {
      return (q) => {
        const cached = responses.get(q.key)?.get(q.qtype);
        if (cached !== undefined) return finish(q, cached, q.recursion);
        if (!mayBeOurs(q.key)) return next(q);
        const answer = resolve({ name: keyToName(q.key), type: q.qtype }, zone);
        if (answer === undefined) return next(q);
        // An answer that follows a CNAME depends on another name (and, outside
        // the zone, on upstream TTLs and on the client): encoded per query, never kept.
        const followsCname = answer.answer[0]?.type === RRType.CNAME && q.qtype !== RRType.CNAME;
        if (followsCname || answer.chase !== undefined) {
          if (answer.chase !== undefined && q.recursion && recursor !== undefined) {
            return chase(q, answer, answer.chase);
          }
          return finish(q, encode(q, answer), q.recursion);
        }
        const base = encode(q, answer);
        if (stored >= MAX_RESPONSES) {
          responses = new Map();
          stored = 0;
        }
        let types = responses.get(q.key);
        if (types === undefined) {
          types = new Map();
          responses.set(q.key, types);
        }
        types.set(q.qtype, base);
        stored++;
        return finish(q, base, q.recursion);
      };
    },
  };
}
