// W3C Trace Context (https://www.w3.org/TR/trace-context/): a valid incoming
// traceparent is passed on unchanged; when it is absent or invalid, the
// gateway starts a trace, so every request has an id that its access-log
// line and the backends' logs share. Started traces are not sampled (flags
// 00): the gateway records no spans, and sampling is the tracer's decision.
//
// Ids come from a pooled crypto-random buffer, hex-encoded natively, so
// starting a trace costs two short strings and no syscall per request.

import { randomHex } from './random-id.ts';

function isLowerHex(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function isAllZero(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) !== 48) return false;
  return true;
}

/** Whether `value` is a traceparent this gateway passes on (version 00, or a later one it can read). */
export function isValidTraceparent(value: string): boolean {
  // version "-" trace-id(32) "-" parent-id(16) "-" flags(2) = 55 characters
  if (value.length < 55) return false;
  if (value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45)
    return false;
  if (!isLowerHex(value, 0, 2) || value.startsWith('ff')) return false;
  if (
    value.startsWith('00') ? value.length !== 55 : value.length > 55 && value.charCodeAt(55) !== 45
  ) {
    return false;
  }
  if (!isLowerHex(value, 3, 35) || isAllZero(value, 3, 35)) return false;
  if (!isLowerHex(value, 36, 52) || isAllZero(value, 36, 52)) return false;
  return isLowerHex(value, 53, 55);
}

/** A new traceparent: random trace id and parent id, not sampled. */
export function newTraceparent(): string {
  for (;;) {
    const trace = randomHex(16);
    const parent = randomHex(8);
    // All-zero ids are invalid; a 1 in 2^64 draw, but a draw nonetheless.
    if (isAllZero(trace, 0, 32) || isAllZero(parent, 0, 16)) continue;
    return `00-${trace}-${parent}-00`;
  }
}

/** The trace id of a valid traceparent (for access logs). */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}
