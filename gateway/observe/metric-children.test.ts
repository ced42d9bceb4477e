import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { counterChild, histogramChild } from './metric-children.ts';

// Each case feeds the same values to a child here and to prom-client's own
// child on a twin metric: the exposition must be the same, also across
// reset() and remove() (the child must find prom-client's new entry).

function twins() {
  const fast = new Registry();
  const slow = new Registry();
  const make = (registers: Registry[]) => ({
    h: new Histogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['route', 'service'],
      registers,
    }),
    c: new Counter({ name: 'c_total', help: 'c', labelNames: ['route', 'code'], registers }),
  });
  return { fast, slow, f: make([fast]), s: make([slow]) };
}

const values = [0, 0.001, 0.005, 0.0051, 0.3, 2.5, 10, 11, 1e9, 0.02];

describe('metric children', () => {
  it('observe and inc as prom-client does, through resets and removals', async () => {
    const { fast, slow, f, s } = twins();
    const observe = histogramChild(f.h, ['r/1', 'ns/a:80']);
    const other = histogramChild(f.h, ['r/2', 'ns/b:80']);
    const inc = counterChild(f.c, ['r/1', '200']);
    const steps: Array<() => void> = [
      () => {
        for (const v of values) {
          observe(v);
          s.h.labels('r/1', 'ns/a:80').observe(v);
          inc();
          s.c.labels('r/1', '200').inc();
        }
        other(0.2);
        s.h.labels('r/2', 'ns/b:80').observe(0.2);
      },
      () => {
        f.h.reset();
        s.h.reset();
        f.c.reset();
        s.c.reset();
      },
      () => {
        f.h.remove('r/1', 'ns/a:80');
        s.h.remove('r/1', 'ns/a:80');
        f.c.remove('r/1', '200');
        s.c.remove('r/1', '200');
      },
    ];
    for (const round of [0, 1, 0, 0, 2, 0, 1, 0]) {
      steps[round]!();
      steps[0]!();
      expect(await fast.metrics()).toBe(await slow.metrics());
    }
    // Three rounds of the values since the last reset.
    expect(await fast.metrics()).toContain('h_seconds_count{route="r/1",service="ns/a:80"} 30');
  });
});
