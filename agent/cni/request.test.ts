// Requests as a runtime sends them -> the typed request, or the spec's code.

import { describe, expect, it } from 'vitest';
import { CniError } from './errors.ts';
import { parseArgs, parseCniRequest } from './request.ts';

const env = (extra: Record<string, string | undefined> = {}) =>
  Object.fromEntries(
    Object.entries({
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'abc123',
      CNI_NETNS: '/var/run/netns/p1',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0',
      ...extra,
    }).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
const config = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: '1.1.0', name: 'pier', type: 'pier-cni', ...extra });

const codeOf = (e: Record<string, string>, stdin: string) => {
  try {
    parseCniRequest({ env: e, stdin });
    return 0;
  } catch (error) {
    if (error instanceof CniError) return error.code;
    throw error;
  }
};

describe('CNI requests', () => {
  it('reads an ADD', () => {
    expect(parseCniRequest({ env: env(), stdin: config() })).toMatchObject({
      command: 'ADD',
      cniVersion: '1.1.0',
      network: 'pier',
      containerId: 'abc123',
      ifname: 'eth0',
      netns: '/var/run/netns/p1',
      args: { K8S_POD_NAMESPACE: 'shop', K8S_POD_NAME: 'web-0', IgnoreUnknown: '1' },
    });
  });

  it('reads a DEL without CNI_NETNS, and a GC with both attachment keys libcni sends', () => {
    expect(
      parseCniRequest({ env: env({ CNI_COMMAND: 'DEL', CNI_NETNS: undefined }), stdin: config() })
        .netns,
    ).toBeUndefined();
    const gc = parseCniRequest({
      env: { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' },
      stdin: config({ 'cni.dev/attachments': [{ containerID: 'a', ifname: 'eth0' }] }),
    });
    expect(gc.validAttachments).toEqual([{ containerId: 'a', ifname: 'eth0' }]);
  });

  it.each([
    ['an unknown verb', env({ CNI_COMMAND: 'ATTACH' }), config(), 4],
    ['no CNI_CONTAINERID', env({ CNI_CONTAINERID: undefined }), config(), 4],
    ['a container id starting with a dash', env({ CNI_CONTAINERID: '-x' }), config(), 4],
    ['CNI_IFNAME "."', env({ CNI_IFNAME: '.' }), config(), 4],
    ['CNI_IFNAME with a slash', env({ CNI_IFNAME: 'eth/0' }), config(), 4],
    ['a 16-character CNI_IFNAME', env({ CNI_IFNAME: 'abcdefghijklmnop' }), config(), 4],
    ['a relative CNI_NETNS', env({ CNI_NETNS: 'netns/p1' }), config(), 4],
    ['no CNI_PATH', env({ CNI_PATH: undefined }), config(), 4],
    ['a CNI_ARGS pair without =', env({ CNI_ARGS: 'A=1;B' }), config(), 4],
    ['stdin that is not JSON', env(), 'cniVersion=1.1.0', 6],
    ['stdin that is a list', env(), '[]', 6],
    ['no cniVersion', env(), config({ cniVersion: undefined }), 7],
    ['no name', env(), config({ name: '' }), 7],
    ['no type', env(), config({ type: undefined }), 7],
    ['0.2.0', env(), config({ cniVersion: '0.2.0' }), 1],
    [
      'CHECK in 0.3.0',
      env({ CNI_COMMAND: 'CHECK' }),
      config({ cniVersion: '0.3.0', prevResult: {} }),
      1,
    ],
    ['STATUS in 1.0.0', env({ CNI_COMMAND: 'STATUS' }), config({ cniVersion: '1.0.0' }), 1],
    ['CHECK without prevResult', env({ CNI_COMMAND: 'CHECK' }), config(), 7],
    ['GC without the attachment list', env({ CNI_COMMAND: 'GC' }), config(), 7],
    ['an ipam section', env(), config({ ipam: { type: 'host-local' } }), 2],
  ])('rejects %s with code %i', (_case, e, stdin, code) => {
    expect(codeOf(e, stdin)).toBe(code);
  });

  it('reads CNI_ARGS as pairs, keeping = in values', () => {
    expect(parseArgs('A=1;;B=x=y')).toEqual({ A: '1', B: 'x=y' });
    expect(parseArgs(undefined)).toEqual({});
  });
});
