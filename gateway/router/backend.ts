// Weighted choice among a rule's backends. A weight-0 backendRef never
// reaches the table, so it is never chosen; an unresolved backend keeps its
// share and the glue answers its requests with its status (500).

import type { WeightedBackend } from '../router.ts';

/**
 * The backend for one request, given `random` in [0, 1); undefined when the
 * rule has no backend with weight > 0 (the glue answers 500).
 */
export function pickBackend(
  match: { backends: readonly WeightedBackend[]; totalWeight: number },
  random: number = Math.random(),
): WeightedBackend | undefined {
  const { backends, totalWeight } = match;
  if (totalWeight <= 0 || backends.length === 0) return undefined;
  let left = random * totalWeight;
  for (let i = 0; i < backends.length; i++) {
    const backend = backends[i]!;
    left -= backend.weight;
    if (left < 0) return backend;
  }
  return backends[backends.length - 1];
}
