// Endpoint slots: where a selection's endpoints live in the slot maps.
//
// A selection (a Service port's cluster-wide or node-local endpoints) owns a
// range of slot numbers in one shard map; its DNAT rule picks one of the
// first N slots with `numgen random mod N offset O`, so the used slots must
// be O..O+N-1 with no hole. Changes move as few endpoints as they can: an
// endpoint that stays keeps its slot, a newcomer fills a hole, and the last
// slots move down into holes that are left. Fewer moved slots are fewer map
// elements rewritten per sync.
//
// Ranges are handed out with a bump pointer per shard, in powers of two, and
// kept while the selection fits; a range given up is not reused until the
// next full sync rebuilds every range from zero (an hourly compaction, free
// since the full sync rewrites everything anyway).

import { slotMap } from './layout.ts';
import type { L4Proto, SlotRange } from './model.ts';

/** The endpoints (ids) by slot after a change: stable where it can be, dense always. */
export function assignSlots(previous: readonly string[], next: readonly string[]): string[] {
  const wanted = new Set(next);
  const slots: (string | undefined)[] = previous.map((id) => (wanted.has(id) ? id : undefined));
  const kept = new Set(slots.filter((id): id is string => id !== undefined));
  const newcomers = next.filter((id) => !kept.has(id));
  let n = 0;
  for (let i = 0; i < slots.length && n < newcomers.length; i++) {
    if (slots[i] === undefined) slots[i] = newcomers[n++];
  }
  while (n < newcomers.length) slots.push(newcomers[n++]);
  // Close the remaining holes from the end.
  let hole = slots.indexOf(undefined);
  while (hole !== -1) {
    let last = slots.length - 1;
    while (last > hole && slots[last] === undefined) last--;
    if (last === hole) {
      slots.length = hole;
      break;
    }
    slots[hole] = slots[last];
    slots.length = last;
    hole = slots.indexOf(undefined, hole + 1);
  }
  return slots as string[];
}

/** FNV-1a: a stable shard for a selection, the same in every process. */
export function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export function capacityFor(count: number): number {
  let capacity = 1;
  while (capacity < count) capacity *= 2;
  return capacity;
}

/**
 * The range for a selection of `endpoints` (ids, in the order wanted for a
 * new range). Reuses `previous` when it still fits; otherwise takes a new
 * range, advancing `nextOffset` (the caller's copy).
 */
export function placeSlots(
  id: string,
  proto: L4Proto,
  endpoints: readonly string[],
  previous: SlotRange | undefined,
  nextOffset: Record<string, number>,
  shards: number,
): SlotRange {
  const shard = shardOf(id, shards);
  const map = slotMap(proto, shard);
  if (previous !== undefined && previous.map === map && endpoints.length <= previous.capacity) {
    return { ...previous, endpoints: assignSlots(previous.endpoints, endpoints) };
  }
  const capacity = capacityFor(endpoints.length);
  const offset = nextOffset[map] ?? 0;
  nextOffset[map] = offset + capacity;
  return { id, map, proto, shard, offset, capacity, endpoints };
}
