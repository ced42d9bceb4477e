// Which client configuration the source uses, and what it says when there is none.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPierError } from '../../errors.ts';
import { KubernetesErrors } from './errors.ts';
import { loadKubeConfig } from './http-api.ts';

const dir = mkdtempSync(join(tmpdir(), 'pier-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, server: string, contexts = ['main']): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: c',
      '    cluster:',
      `      server: ${server}`,
      'users:',
      '  - name: u',
      '    user:',
      '      token: t',
      'contexts:',
      ...contexts.flatMap((c) => [
        `  - name: ${c}`,
        '    context:',
        '      cluster: c',
        '      user: u',
      ]),
      `current-context: ${contexts[0]}`,
      '',
    ].join('\n'),
  );
  return path;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isPierError(error) ? error.code : `not a PierError: ${String(error)}`;
  }
  return undefined;
}

const noPod = { HOME: dir } as Record<string, string | undefined>;

describe('loadKubeConfig', () => {
  it('uses the file it is given, and a context by name', () => {
    const path = kubeconfig('given', 'https://10.0.0.1:6443', ['main', 'other']);
    const { config, source } = loadKubeConfig({ kubeconfig: path, context: 'other', env: noPod });
    expect(source).toBe(path);
    expect(config.getCurrentContext()).toBe('other');
    expect(config.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
  });

  it('falls back to $KUBECONFIG (its first readable file)', () => {
    const path = kubeconfig('from-env', 'https://10.0.0.2:6443');
    const { source } = loadKubeConfig({
      env: { ...noPod, KUBECONFIG: `${join(dir, 'missing')}:${path}` },
    });
    expect(source).toBe(path);
  });

  it('says what it tried when there is nothing to use', () => {
    expect(code(() => loadKubeConfig({ env: noPod }))).toBe(KubernetesErrors.codes.NO_CONFIG);
    try {
      loadKubeConfig({ env: noPod });
    } catch (error) {
      expect((error as Error).message).toContain(join(dir, '.kube', 'config'));
      expect((error as Error).message).toContain('set kubernetes.kubeconfig');
    }
  });

  it.each([
    ['a missing file', () => ({ kubeconfig: join(dir, 'nope') })],
    [
      'malformed YAML',
      () => {
        const path = join(dir, 'bad');
        writeFileSync(path, 'clusters: [ {');
        return { kubeconfig: path };
      },
    ],
    [
      'an unknown context',
      () => ({ kubeconfig: kubeconfig('ctx', 'https://x:1'), context: 'nope' }),
    ],
    ['a cluster without a server URL', () => ({ kubeconfig: kubeconfig('noserver', '""') })],
    ['in-cluster outside a pod', () => ({ inCluster: true })],
  ])('refuses %s with BAD_CONFIG', (_what, options) => {
    expect(code(() => loadKubeConfig({ ...options(), env: noPod }))).toBe(
      KubernetesErrors.codes.BAD_CONFIG,
    );
  });
});
