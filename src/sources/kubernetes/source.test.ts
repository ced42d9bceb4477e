// How the source splits its work into reflectors, and the options it refuses.

import { describe, expect, it } from 'vitest';
import { isPierError } from '../../errors.ts';
import { Kinds } from '../../model/object.ts';
import { createLogger } from '../../observe/logger.ts';
import { createMemoryStore } from '../../store/memory.ts';
import { KubernetesErrors } from './errors.ts';
import { createKubernetesSource, planReflectors } from './source.ts';

describe('planReflectors', () => {
  it('one reflector per kind when reading every namespace', () => {
    const plans = planReflectors([Kinds.Service, Kinds.Node], []);
    expect(plans.map((p) => p.scope)).toEqual([{ kind: Kinds.Service }, { kind: Kinds.Node }]);
  });

  it('per namespace for namespaced kinds, by name for Namespaces, once for other cluster-scoped kinds', () => {
    const plans = planReflectors(
      [Kinds.Service, Kinds.Namespace, Kinds.Node, Kinds.Pod],
      ['a', 'b'],
      { [Kinds.Pod]: 'spec.nodeName=n1' },
    );
    expect(plans.map((p) => [p.scope, p.fieldSelector])).toEqual([
      [{ kind: Kinds.Service, namespace: 'a' }, undefined],
      [{ kind: Kinds.Service, namespace: 'b' }, undefined],
      [{ kind: Kinds.Namespace, name: 'a' }, 'metadata.name=a'],
      [{ kind: Kinds.Namespace, name: 'b' }, 'metadata.name=b'],
      [{ kind: Kinds.Node }, undefined],
      [{ kind: Kinds.Pod, namespace: 'a' }, 'spec.nodeName=n1'],
      [{ kind: Kinds.Pod, namespace: 'b' }, 'spec.nodeName=n1'],
    ]);
  });
});

describe('createKubernetesSource options', () => {
  const base = () => ({
    store: createMemoryStore(),
    logger: createLogger({ level: 'silent', format: 'json' }),
  });
  it.each([
    [
      'a kind it does not read',
      { kinds: ['apps/Deployment'] },
      'kinds',
      KubernetesErrors.codes.BAD_OPTION,
    ],
    [
      'a namespace that is not a DNS label',
      { namespaces: ['Shop'] },
      'namespaces',
      KubernetesErrors.codes.BAD_OPTION,
    ],
    [
      'a renew period too long for the lease',
      { leaseMs: 3000, renewMs: 2500 },
      'kubernetes.renewSeconds',
      KubernetesErrors.codes.BAD_OPTION,
    ],
  ])('refuses %s', (_what, options, option, code) => {
    try {
      createKubernetesSource({ ...base(), ...options });
      expect.unreachable();
    } catch (error) {
      expect(isPierError(error, code)).toBe(true);
      expect((error as Error).message).toContain(option);
    }
  });

  it('is stopped until started, and starts nothing without a configuration', async () => {
    const source = createKubernetesSource({
      ...base(),
      kubeconfig: '/nonexistent/kubeconfig',
    });
    expect(source.status()).toMatchObject({ role: 'stopped', synced: false, resources: [] });
    expect(source.ready()).toBe(false);
    await expect(source.start()).rejects.toMatchObject({ code: KubernetesErrors.codes.BAD_CONFIG });
    await source.close();
  });
});
