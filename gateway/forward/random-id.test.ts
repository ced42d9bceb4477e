import { describe, expect, it } from 'vitest';
import { randomHex } from './random-id.ts';

describe('randomHex', () => {
  it('gives 2 lowercase hex characters per byte', () => {
    for (const bytes of [1, 8, 12, 16, 64]) {
      expect(randomHex(bytes)).toMatch(new RegExp(`^[0-9a-f]{${2 * bytes}}$`));
    }
  });

  it('does not repeat across refills of its pool', () => {
    // 8 KiB pool / 16 bytes = 512 ids per fill: 3000 ids cross several refills.
    const ids = new Set<string>();
    for (let i = 0; i < 3000; i++) ids.add(randomHex(16));
    expect(ids.size).toBe(3000);
  });

  it('uses every hex digit', () => {
    const seen = new Set(randomHex(64));
    expect(seen.size).toBe(16);
  });
});
