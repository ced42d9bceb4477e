import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../model/object.ts';
import { planManifests } from './plan.ts';

const svc = (name: string, port: number, rv?: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', ...(rv ? { resourceVersion: rv, uid: 'u' } : {}) },
    spec: { ports: [{ port }] },
  }) as KubeObject;

describe('planManifests', () => {
  it.each([
    {
      case: 'nothing stored: apply all',
      desired: [svc('a', 80)],
      current: [],
      apply: ['a'],
      del: [],
    },
    {
      case: 'unchanged (server fields differ): nothing',
      desired: [svc('a', 80)],
      current: [svc('a', 80, '7')],
      apply: [],
      del: [],
    },
    {
      case: 'changed: apply',
      desired: [svc('a', 81)],
      current: [svc('a', 80, '7')],
      apply: ['a'],
      del: [],
    },
    {
      case: 'gone from the files: delete',
      desired: [],
      current: [svc('a', 80, '7')],
      apply: [],
      del: ['a'],
    },
    {
      case: 'mixed',
      desired: [svc('a', 80), svc('c', 80)],
      current: [svc('a', 80, '1'), svc('b', 80, '2')],
      apply: ['c'],
      del: ['b'],
    },
  ])('$case', ({ desired, current, apply, del }) => {
    const plan = planManifests(desired, current);
    expect(plan.apply.map((o) => o.metadata.name)).toEqual(apply);
    expect(plan.delete.map((o) => o.metadata.name)).toEqual(del);
  });
});
