// Bodies for the integrity tests (gateway-forward-integrity,
// gateway-upload-integrity): windows of one random source, so each body is
// different and can be checked by its SHA-256 without keeping a copy.

import { createHash, randomBytes } from 'node:crypto';

export const MIB = 1024 * 1024;

const source = randomBytes(16 * MIB);

/** `size` bytes (at most 16 MiB), different for each seed. */
export function bodyFor(seed: number, size: number): Buffer {
  const start = (seed * 7919) % (source.length - size);
  return source.subarray(start, start + size);
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
