// RequestMirror: which mirrors get a copy of this request. A mirror with a
// fraction below 1 draws one random number; the copy is the request as it
// is forwarded (after header edits and rewrites), and its response is ignored.

import type { FilterStep } from '../filters.ts';
import type { ServiceBackend } from '../router.ts';

export const mirrorStep: FilterStep<'requestMirror'> = (mirrors, _request, decision, context) => {
  let chosen: ServiceBackend[] | undefined;
  for (const mirror of mirrors) {
    if (mirror.fraction <= 0) continue;
    if (mirror.fraction < 1 && (context.random ?? Math.random)() >= mirror.fraction) continue;
    chosen ??= [];
    chosen.push(mirror.backend);
  }
  if (chosen !== undefined) decision.mirrors = chosen;
  return false;
};
