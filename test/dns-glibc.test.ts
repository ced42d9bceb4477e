// glibc's resolver as a pod sees cluster DNS: in a network namespace of its
// own, `pier dns` listening on the namespace's loopback, and the namespace's
// resolv.conf (bind-mounted by `ip netns exec` from /etc/netns/<name>/) as
// the CNI result's DNS block gives it: `search <ns>.svc.cluster.local
// svc.cluster.local cluster.local`, `options ndots:5`. From namespace bar,
// `foo` resolves; from namespace quux, `foo.bar` does. Nothing here touches
// the host's interfaces, routes or resolv.conf; namespaces and their
// /etc/netns files are removed afterwards, also on failure.

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { testCluster } from '../agent/dns/testing/objects.ts';
import { describeWith, toolsMissing } from '../agent/dns/testing/requirements.ts';
import { formatResolvConf, podDns } from '../agent/dns.ts';
import { createNetnsScope, type NetnsScope, netnsRequirementsMissing } from './support/netns.ts';

const ETC_NETNS = '/etc/netns';
const missing = netnsRequirementsMissing() ?? toolsMissing(['getent', 'dig'], true);

describeWith(missing, "glibc's resolver in a pod's network namespace", () => {
  let scope: NetnsScope;
  const madeEtcNetns = !existsSync(ETC_NETNS);
  const etcDirs: string[] = [];
  const removeEtc = () => {
    for (const dir of etcDirs) rmSync(dir, { recursive: true, force: true });
    if (madeEtcNetns && existsSync(ETC_NETNS) && readdirSync(ETC_NETNS).length === 0)
      rmdirSync(ETC_NETNS);
  };
  process.once('exit', removeEtc);

  /** A pod namespace of Kubernetes namespace `k8sNamespace`, with cluster DNS on its loopback. */
  const podNamespace = async (short: string, k8sNamespace: string): Promise<ChildProcess> => {
    const name = await scope.create(short);
    const dir = join(ETC_NETNS, name);
    etcDirs.push(dir);
    mkdirSync(dir, { recursive: true });
    const block = podDns(k8sNamespace, {
      domain: 'cluster.local',
      serverAddresses: ['127.0.0.1'],
      ndots: 5,
    });
    writeFileSync(join(dir, 'resolv.conf'), formatResolvConf(block));
    const server = scope.spawn(short, [
      process.execPath,
      'bin/pier.ts',
      'dns',
      '--dns.listen',
      '127.0.0.1:53',
      '--admin.address',
      '127.0.0.1:0',
      '--manifests.path',
      join(scope.dir, 'cluster.yaml'),
      '--no-manifests.watch',
      '--no-dns.forward.enabled',
    ]);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`pier dns did not start in ${name}: ${output}`)),
        20_000,
      );
      server.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('DNS is running')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pier dns exited with ${code} in ${name}: ${output}`));
      });
    });
    return server;
  };

  beforeAll(async () => {
    scope = createNetnsScope('dns');
    writeFileSync(
      join(scope.dir, 'cluster.yaml'),
      testCluster()
        .map((o) => stringify(o))
        .join('---\n'),
    );
    await podNamespace('bar', 'bar');
    await podNamespace('quux', 'quux');
  });
  afterAll(async () => {
    await scope?.cleanup();
    removeEtc();
  });

  it('the pod sees the resolv.conf the CNI result gives it', async () => {
    expect(await scope.run('bar', ['cat', '/etc/resolv.conf'])).toBe(
      'nameserver 127.0.0.1\nsearch bar.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    );
  });

  it('from namespace bar, `foo` resolves (the first search domain)', async () => {
    const out = await scope.run('bar', ['getent', 'hosts', 'foo']);
    expect(out.trim().split(/\s+/)).toEqual(['10.96.0.10', 'foo.bar.svc.cluster.local']);
  });

  it('from namespace quux, `foo.bar` resolves (the second), and its own `web`', async () => {
    const out = await scope.run('quux', ['getent', 'hosts', 'foo.bar']);
    expect(out.trim().split(/\s+/)).toEqual(['10.96.0.10', 'foo.bar.svc.cluster.local']);
    const web = await scope.run('quux', ['getent', 'hosts', 'web']);
    expect(web.trim().split(/\s+/)).toEqual(['10.96.1.1', 'web.quux.svc.cluster.local']);
  });

  it('fully qualified names, IPv6 first (as getent asks), reverse lookups, names that do not exist', async () => {
    const fqdn = await scope.run('quux', ['getent', 'hosts', 'foo.bar.svc.cluster.local']);
    expect(fqdn.trim().split(/\s+/)).toEqual(['10.96.0.10', 'foo.bar.svc.cluster.local']);
    const v6 = await scope.run('bar', ['getent', 'hosts', 'dual']);
    expect(v6.trim().split(/\s+/)).toEqual(['fd00:96::20', 'dual.bar.svc.cluster.local']);
    const ptr = await scope.run('quux', ['getent', 'hosts', '10.96.0.10']);
    expect(ptr.trim().split(/\s+/)).toEqual(['10.96.0.10', 'foo.bar.svc.cluster.local']);
    const nope = await scope.exec('bar', ['getent', 'hosts', 'nope']);
    expect(nope.code).toBe(2);
  });
});
