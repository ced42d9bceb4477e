// Retry decisions as a table: policy, what failed, how -> retry or not.

import { describe, expect, it } from 'vitest';
import { compileRetryPolicy, type RetryQuestion, retryDelay, shouldRetry } from './retry.ts';

const base: RetryQuestion = {
  attempts: 1,
  failure: 'reset',
  status: 0,
  method: 'GET',
  responseStarted: false,
  bodyReplayable: true,
};

const routePolicy = compileRetryPolicy({ attempts: 2, codes: [502, 503] });
const noPolicy = compileRetryPolicy(undefined);

describe('shouldRetry', () => {
  it.each([
    { case: 'GET reset', policy: routePolicy, q: {}, retry: true },
    { case: 'GET 503', policy: routePolicy, q: { failure: 'status', status: 503 }, retry: true },
    {
      case: 'GET 500 (not in codes)',
      policy: routePolicy,
      q: { failure: 'status', status: 500 },
      retry: false,
    },
    { case: 'GET timeout', policy: routePolicy, q: { failure: 'timeout' }, retry: true },
    { case: 'second retry allowed', policy: routePolicy, q: { attempts: 2 }, retry: true },
    { case: 'attempts used up', policy: routePolicy, q: { attempts: 3 }, retry: false },
    {
      case: 'POST reset: not idempotent',
      policy: routePolicy,
      q: { method: 'POST' },
      retry: false,
    },
    {
      case: 'POST connect failure: never sent',
      policy: routePolicy,
      q: { method: 'POST', failure: 'connect' },
      retry: true,
    },
    {
      case: 'PUT 502: idempotent',
      policy: routePolicy,
      q: { method: 'PUT', failure: 'status', status: 502 },
      retry: true,
    },
    {
      case: 'response already started',
      policy: routePolicy,
      q: { responseStarted: true },
      retry: false,
    },
    {
      case: 'body consumed, not buffered',
      policy: routePolicy,
      q: { bodyReplayable: false },
      retry: false,
    },
    {
      case: 'protocol errors are not retried',
      policy: routePolicy,
      q: { failure: 'protocol' },
      retry: false,
    },
    {
      case: 'POST allowed by policy',
      policy: compileRetryPolicy({ codes: [503], nonIdempotent: true }),
      q: { method: 'POST', failure: 'status', status: 503 },
      retry: true,
    },
    {
      case: 'no route policy: connect failure once',
      policy: noPolicy,
      q: { failure: 'connect' },
      retry: true,
    },
    {
      case: 'no route policy: not twice',
      policy: noPolicy,
      q: { failure: 'connect', attempts: 2 },
      retry: false,
    },
    { case: 'no route policy: no reset retries', policy: noPolicy, q: {}, retry: false },
    {
      case: 'no route policy: no status retries',
      policy: noPolicy,
      q: { failure: 'status', status: 503 },
      retry: false,
    },
    {
      case: 'connect failures off',
      policy: compileRetryPolicy({ connectFailure: false }),
      q: { failure: 'connect' },
      retry: false,
    },
    {
      case: 'attempts 0',
      policy: compileRetryPolicy({ attempts: 0 }),
      q: { failure: 'connect' },
      retry: false,
    },
  ] as { case: string; policy: typeof routePolicy; q: Partial<RetryQuestion>; retry: boolean }[])(
    '$case -> $retry',
    ({ policy, q, retry }) => {
      expect(shouldRetry(policy, { ...base, ...q })).toBe(retry);
    },
  );

  it.each([
    [{ attempts: -1 }, /attempts/],
    [{ attempts: 1.5 }, /attempts/],
    [{ codes: [200] }, /retry code 200/],
    [{ backoffMs: -5 }, /backoff/],
  ])('rejects %j', (policy, message) => {
    expect(() => compileRetryPolicy(policy)).toThrow(message);
  });

  it.each([
    { backoffMs: 100, retry: 1, random: 0, delay: 100 },
    { backoffMs: 100, retry: 2, random: 0, delay: 200 },
    { backoffMs: 100, retry: 3, random: 0.5, delay: 500 },
    { backoffMs: 100, retry: 9, random: 0, delay: 1000 },
    { backoffMs: 0, retry: 3, random: 0.9, delay: 0 },
  ])(
    'backoff $backoffMs retry $retry random $random -> $delay ms',
    ({ backoffMs, retry, random, delay }) => {
      expect(retryDelay(compileRetryPolicy({ backoffMs }), retry, () => random)).toBe(delay);
    },
  );
});
