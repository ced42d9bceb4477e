import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './closest.ts';

describe('closest', () => {
  const commands = ['start', 'gateway', 'agent', 'dns', 'cni', 'version', 'config', 'help'];
  // typed -> suggested (undefined: nothing close enough)
  const cases: [string, string | undefined][] = [
    ['strat', 'start'],
    ['gatway', 'gateway'],
    ['versoin', 'version'],
    ['VERSION', 'version'],
    ['confg', 'config'],
    ['dsn', 'dns'],
    ['cin', 'cni'],
    ['deploy', undefined],
    ['x', undefined],
  ];
  it.each(cases)('%s -> %s', (typed, expected) => {
    expect(closest(typed, commands)).toBe(expected);
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
