// The ejection state machine as a table: a timeline of `t outcome` steps,
// each with the expected state after it (in = in rotation, ejected until T).

import { describe, expect, it } from 'vitest';
import {
  type AttemptOutcome,
  defaultOutlierPolicy,
  ejectionBudget,
  expireEjection,
  newOutlierState,
  type OutlierPolicy,
  outcomeOfStatus,
  recordOutcome,
  validateOutlierPolicy,
} from './outlier-detector.ts';

const policy: OutlierPolicy = {
  consecutiveFailures: 3,
  consecutiveConnectFailures: 2,
  baseEjectionMs: 1000,
  maxEjectionMs: 2500,
  maxEjectionPercent: 50,
};

const short: Record<string, AttemptOutcome | 'tick'> = {
  ok: 'success',
  '5xx': 'failure',
  conn: 'connect-failure',
  tick: 'tick',
};

/** Runs `t:what` steps ("0:5xx 1:5xx ..."); returns the state after each, as `in` or `out<T`. */
function run(timeline: string, mayEject = true): string[] {
  const state = newOutlierState();
  return timeline.split(' ').map((step) => {
    const [t, what] = step.split(':');
    const now = Number(t);
    const outcome = short[what!];
    if (outcome === undefined) throw new Error(`unknown step ${step}`);
    expireEjection(state, now);
    if (outcome !== 'tick') recordOutcome(state, outcome, now, policy, mayEject);
    return state.ejectedUntil === 0 ? 'in' : `out<${state.ejectedUntil}`;
  });
}

describe('outlier ejection', () => {
  it.each([
    // consecutive failures eject on the third
    { timeline: '0:5xx 1:5xx 2:5xx', states: 'in in out<1002' },
    // a success in between resets the count
    { timeline: '0:5xx 1:5xx 2:ok 3:5xx 4:5xx', states: 'in in in in in' },
    // connect failures eject on the second
    { timeline: '0:conn 1:conn', states: 'in out<1001' },
    // a 5xx between connect failures resets the connect count, not the total
    { timeline: '0:conn 1:5xx 2:conn', states: 'in in out<1002' },
    // back after the deadline, in rotation again
    { timeline: '0:conn 1:conn 500:tick 1001:tick', states: 'in out<1001 out<1001 in' },
    // failures while ejected (requests in flight) do not extend it
    {
      timeline: '0:conn 1:conn 2:5xx 3:5xx 4:5xx',
      states: 'in out<1001 out<1001 out<1001 out<1001',
    },
    // the second ejection right after returning lasts twice as long
    { timeline: '0:conn 1:conn 1001:conn 1002:conn', states: 'in out<1001 in out<3002' },
    // the third is capped by maxEjectionMs
    {
      timeline: '0:conn 1:conn 1001:conn 1002:conn 3002:conn 3003:conn',
      states: 'in out<1001 in out<3002 in out<5503',
    },
    // healthy for two base intervals after returning: the multiplier decays back
    {
      timeline: '0:conn 1:conn 1001:conn 1002:conn 3002:ok 6000:conn 6001:conn',
      states: 'in out<1001 in out<3002 in in out<7001',
    },
  ])('$timeline -> $states', ({ timeline, states }) => {
    expect(run(timeline).join(' ')).toBe(states);
  });

  it('does not eject when the percentage cap has no room', () => {
    expect(run('0:conn 1:conn 2:conn', false).join(' ')).toBe('in in in');
  });

  it.each([
    { hosts: 1, percent: 50, budget: 0 },
    { hosts: 2, percent: 50, budget: 1 },
    { hosts: 3, percent: 50, budget: 1 },
    { hosts: 10, percent: 50, budget: 5 },
    { hosts: 10, percent: 10, budget: 1 },
    { hosts: 10, percent: 0, budget: 0 },
    { hosts: 4, percent: 100, budget: 4 },
  ])('$hosts hosts at $percent% -> $budget may be ejected', ({ hosts, percent, budget }) => {
    expect(ejectionBudget(hosts, { ...defaultOutlierPolicy, maxEjectionPercent: percent })).toBe(
      budget,
    );
  });

  it.each([
    [200, 'success'],
    [404, 'success'],
    [499, 'success'],
    [500, 'failure'],
    [503, 'failure'],
    [599, 'failure'],
  ])('status %i is a %s', (status, outcome) => {
    expect(outcomeOfStatus(status)).toBe(outcome);
  });

  it('validates policies', () => {
    expect(validateOutlierPolicy(defaultOutlierPolicy)).toBeUndefined();
    expect(validateOutlierPolicy({ ...defaultOutlierPolicy, consecutiveFailures: 0 })).toMatch(
      /consecutiveFailures/,
    );
    expect(validateOutlierPolicy({ ...defaultOutlierPolicy, baseEjectionMs: -1 })).toMatch(
      /baseEjectionMs/,
    );
    expect(validateOutlierPolicy({ ...defaultOutlierPolicy, maxEjectionPercent: 101 })).toMatch(
      /maxEjectionPercent/,
    );
  });
});
