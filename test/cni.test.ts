// pier-cni against the CNI 1.1.0 spec, on one simulated node (a network
// namespace with a real agent): every verb, every result version, the
// spec's error codes for bad requests, rollback of a failed ADD, idempotent
// DEL, and a conflist chaining Debian's reference portmap plugin after
// pier-cni, run as a runtime runs them.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNetnsScope,
  eventually,
  type NetnsScope,
  netnsRequirementsMissing,
} from './support/netns.ts';
import { type Cluster, createCluster, type SimNode } from './support/netns-cluster.ts';
import { startProbe } from './support/netns-probe-client.ts';
import { type CniRuntime, createCniRuntime, PIER_BIN_DIR } from './support/netns-runtime.ts';

const PORTMAP = '/usr/lib/cni/portmap';
const missing = netnsRequirementsMissing({
  tools: ['redis-server', 'redis-cli', 'iptables'],
  files: [PORTMAP],
});
if (missing !== undefined && process.env.CI !== 'true')
  console.warn(`CNI tests skipped: ${missing}`);

describe.skipIf(missing !== undefined && process.env.CI !== 'true')('pier-cni on one node', () => {
  let scope: NetnsScope;
  let cluster: Cluster;
  let node: SimNode;
  /** A 1.1.0 list with pier-cni alone. */
  let plain: CniRuntime;
  let pods = 0;

  const runtimeFor = (cniVersion: string, chain: Record<string, unknown>[] = []) =>
    createCniRuntime({
      scope,
      node: node.short,
      conflist: {
        cniVersion,
        name: 'pier',
        plugins: [{ type: 'pier-cni', agentSocket: node.socket }, ...chain],
      },
      cniPath: [PIER_BIN_DIR, '/usr/lib/cni'],
      env: { PIER_CNI_COMPILE_CACHE: join(scope.dir, 'compile-cache') },
    });
  const newPod = async () => {
    const short = `p${++pods}`;
    await scope.create(short);
    return { short, netns: scope.path(short), containerId: `ctr-${short}` };
  };
  const hostVeths = async () =>
    (
      JSON.parse(await scope.run(node.short, ['ip', '-j', '-d', 'link', 'show'])) as {
        ifname: string;
        master?: string;
        flags: string[];
        linkinfo?: { info_kind?: string; info_slave_data?: { hairpin?: boolean } };
      }[]
    )
      .filter((l) => l.ifname.startsWith('pier') && l.linkinfo?.info_kind === 'veth')
      .map((l) => ({
        ifname: l.ifname,
        master: l.master,
        up: l.flags.includes('UP'),
        hairpin: l.linkinfo?.info_slave_data?.hairpin,
      }));
  const records = () => {
    const dir = join(node.dir, 'data/ipam');
    try {
      return readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f));
    } catch {
      return [];
    }
  };
  const podLinks = async (short: string) =>
    (JSON.parse(await scope.run(short, ['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map(
      (l) => l.ifname,
    );

  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`CNI tests need ${missing}`);
    scope = createNetnsScope('c');
    cluster = await createCluster({ scope, nodes: 1, backend: 'host-gw', storeCluster: 'cni' });
    node = cluster.nodes[0] as SimNode;
    plain = runtimeFor('1.1.0');
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await scope?.cleanup();
  }, 60_000);

  it('answers VERSION by itself, in the asked version', async () => {
    const run = await plain.raw('pier-cni', { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      cniVersion: '0.4.0',
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
  });

  it('fails ADD with code 11 while the agent is down, and does nothing', async () => {
    const pod = await newPod();
    const outcome = await plain.add({ containerId: pod.containerId, netns: pod.netns });
    expect(outcome.ok).toBe(false);
    expect(outcome.output).toMatchObject({
      cniVersion: '1.1.0',
      code: 11,
      msg: expect.stringContaining('not running'),
    });
    const status = await plain.status();
    expect(status.output).toMatchObject({ code: 50 });
    expect(await podLinks(pod.short)).toEqual(['lo']);
    expect(await hostVeths()).toEqual([]);
    expect(records()).toEqual([]);
  });

  it('starts the agent with a root-only socket', async () => {
    await node.start();
    expect(statSync(node.socket).mode & 0o777).toBe(0o600);
    expect((await plain.status()).ok).toBe(true);
  });

  // The result formats: 1.0.0 dropped ips[].version, 1.1.0 added interfaces[].mtu.
  it.each([
    ['0.3.0', true, false],
    ['0.3.1', true, false],
    ['0.4.0', true, false],
    ['1.0.0', false, false],
    ['1.1.0', false, true],
  ])('ADD %s answers in that version and sets the pod up', async (version, ipVersion, mtu) => {
    const runtime = runtimeFor(version);
    const pod = await newPod();
    const outcome = await runtime.add({
      containerId: pod.containerId,
      netns: pod.netns,
      args: { K8S_POD_NAMESPACE: 'shop' },
    });
    expect(outcome.ok, JSON.stringify(outcome.output)).toBe(true);
    const result = outcome.output as {
      cniVersion: string;
      interfaces: { name: string; mac: string; mtu?: number; sandbox?: string }[];
      ips: { version?: string; address: string; gateway: string; interface: number }[];
      routes: { dst: string; gw: string }[];
      dns: { nameservers: string[]; search: string[]; options: string[] };
    };
    const gateway = node.subnet().replace(/\.0\/24$/, '.1');
    expect(result.cniVersion).toBe(version);
    expect(result.interfaces).toHaveLength(2);
    expect(result.interfaces[0]?.sandbox).toBeUndefined();
    expect(result.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: pod.netns });
    expect('mtu' in (result.interfaces[1] ?? {})).toBe(mtu);
    expect(result.ips).toHaveLength(1);
    expect('version' in (result.ips[0] ?? {})).toBe(ipVersion);
    expect(result.ips[0]).toMatchObject({ gateway, interface: 1 });
    expect(result.routes).toEqual([{ dst: '0.0.0.0/0', gw: gateway }]);
    expect(result.dns).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });

    // The host end: on cni0, up, hairpin on, named as the result says.
    const host = (await hostVeths()).find((l) => l.ifname === result.interfaces[0]?.name);
    expect(host).toEqual({
      ifname: result.interfaces[0]?.name,
      master: 'cni0',
      up: true,
      hairpin: true,
    });
    // The pod end: its address, lo up, default route via the bridge, MAC as reported.
    const addr = JSON.parse(await scope.run(pod.short, ['ip', '-j', '-4', 'addr', 'show'])) as {
      ifname: string;
      address: string;
      flags: string[];
      addr_info: { local: string; prefixlen: number }[];
    }[];
    expect(addr.find((l) => l.ifname === 'lo')?.flags).toContain('UP');
    const eth0 = addr.find((l) => l.ifname === 'eth0');
    expect(`${eth0?.addr_info[0]?.local}/${eth0?.addr_info[0]?.prefixlen}`).toBe(
      result.ips[0]?.address,
    );
    const link = JSON.parse(await scope.run(pod.short, ['ip', '-j', 'link', 'show', 'eth0'])) as {
      address: string;
    }[];
    expect(link[0]?.address).toBe(result.interfaces[1]?.mac);
    expect(await scope.run(pod.short, ['ip', 'route', 'show', 'default'])).toContain(
      `default via ${gateway} dev eth0`,
    );

    // DEL answers first; the veth and the address go right after.
    const del = await runtime.del({ containerId: pod.containerId, netns: pod.netns });
    expect(del.ok, JSON.stringify(del.output)).toBe(true);
    await eventually(async () => {
      expect(await podLinks(pod.short)).toEqual(['lo']);
      expect(records()).toEqual([]);
    });
  });

  it('works first in a conflist before the reference portmap plugin', async () => {
    const chained = runtimeFor('1.0.0', [
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ]);
    const pod = await newPod();
    const attachment = {
      containerId: pod.containerId,
      netns: pod.netns,
      capabilities: { portMappings: [{ hostPort: 8080, containerPort: 9000, protocol: 'tcp' }] },
    };
    const added = await chained.add(attachment);
    expect(
      added.ok,
      JSON.stringify(added.output) + added.runs.map((r) => r.stdout + r.stderr).join(''),
    ).toBe(true);
    expect(added.runs.map((r) => [r.plugin, r.exitCode])).toEqual([
      ['pier-cni', 0],
      ['portmap', 0],
    ]);
    const ip = ((added.output as { ips: { address: string }[] }).ips[0]?.address ?? '').split(
      '/',
    )[0];

    const server = await startProbe(scope, pod.short);
    const client = await startProbe(scope, cluster.underlay);
    try {
      await server.listen(9000);
      // From outside the node, to the node's hostPort: portmap's DNAT to the pod.
      const viaHostPort = await client.connect(node.ip, 8080);
      expect(viaHostPort).toMatchObject({ seenBy: { remote: cluster.externalIp, local: ip } });
      // CHECK runs down the chain; pier-cni's part must pass. (Debian's portmap 1.1.1 then
      // fails its own CHECK on a pod without IPv6, looking for an ip6tables chain it never made.)
      const checked = await chained.check(attachment);
      expect(checked.runs[0], checked.runs.map((r) => r.stdout + r.stderr).join('')).toMatchObject({
        plugin: 'pier-cni',
        exitCode: 0,
        stdout: '',
      });
      const removed = await chained.del(attachment);
      expect(removed.runs.map((r) => [r.plugin, r.exitCode])).toEqual([
        ['portmap', 0],
        ['pier-cni', 0],
      ]);
      expect((await client.connect(node.ip, 8080, 1000)) as object).toHaveProperty('error');
    } finally {
      server.stop();
      client.stop();
    }
    await eventually(() => expect(records()).toEqual([]));
  });

  it('fails ADD of an existing attachment with code 100 and leaves the existing one alone', async () => {
    const pod = await newPod();
    const first = await plain.add({ containerId: pod.containerId, netns: pod.netns });
    expect(first.ok).toBe(true);
    const before = { veths: await hostVeths(), records: records() };
    const again = await plain.add({ containerId: pod.containerId, netns: pod.netns });
    expect(again.output).toMatchObject({
      code: 100,
      msg: expect.stringContaining('already attached'),
    });
    expect({ veths: await hostVeths(), records: records() }).toEqual(before);
    expect((await plain.check({ containerId: pod.containerId, netns: pod.netns })).ok).toBe(true);
    expect((await plain.del({ containerId: pod.containerId, netns: pod.netns })).ok).toBe(true);
    await eventually(() => expect(records()).toEqual([]));
  });

  it('fails ADD when the pod already has the interface, leaving no veth, address or allocation', async () => {
    const pod = await newPod();
    await scope.ip(pod.short, ['link add eth0 type veth peer name other0']);
    const before = { veths: await hostVeths(), records: records() };
    const outcome = await plain.add({ containerId: pod.containerId, netns: pod.netns });
    expect(outcome.output).toMatchObject({
      code: 100,
      msg: `interface eth0 already exists in ${pod.netns}`,
    });
    expect({ veths: await hostVeths(), records: records() }).toEqual(before);
  });

  it('fails ADD with code 3 for a namespace that does not exist, doing nothing', async () => {
    const before = { veths: await hostVeths(), records: records() };
    const outcome = await plain.add({ containerId: 'ctr-gone', netns: scope.path('no-such-pod') });
    expect(outcome.output).toMatchObject({ code: 3 });
    expect({ veths: await hostVeths(), records: records() }).toEqual(before);
  });

  it('DELs idempotently: twice, after the namespace is gone, and without CNI_NETNS', async () => {
    const a = await newPod();
    const b = await newPod();
    expect((await plain.add({ containerId: a.containerId, netns: a.netns })).ok).toBe(true);
    expect((await plain.add({ containerId: b.containerId, netns: b.netns })).ok).toBe(true);
    expect(records()).toHaveLength(2);
    expect((await plain.del({ containerId: a.containerId, netns: a.netns })).ok).toBe(true);
    expect((await plain.del({ containerId: a.containerId, netns: a.netns })).ok).toBe(true);
    await scope.remove(b.short);
    expect((await plain.del({ containerId: b.containerId, netns: b.netns })).ok).toBe(true);
    const bare = await plain.raw(
      'pier-cni',
      {
        CNI_COMMAND: 'DEL',
        CNI_CONTAINERID: b.containerId,
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/usr/lib/cni',
      },
      JSON.stringify({
        cniVersion: '1.1.0',
        name: 'pier',
        type: 'pier-cni',
        agentSocket: node.socket,
      }),
    );
    expect([bare.exitCode, bare.stdout]).toEqual([0, '']);
    await eventually(async () => {
      expect(records()).toEqual([]);
      expect(await hostVeths()).toEqual([]);
    });
  });

  it('CHECK passes after ADD and fails with code 101 once the pod lost its address', async () => {
    const pod = await newPod();
    expect((await plain.add({ containerId: pod.containerId, netns: pod.netns })).ok).toBe(true);
    expect((await plain.check({ containerId: pod.containerId, netns: pod.netns })).ok).toBe(true);
    await scope.ip(pod.short, ['addr flush dev eth0']);
    const check = await plain.check({ containerId: pod.containerId, netns: pod.netns });
    expect(check.output).toMatchObject({
      code: 101,
      details: expect.stringContaining('does not hold'),
    });
    await plain.del({ containerId: pod.containerId, netns: pod.netns });
    await eventually(() => expect(records()).toEqual([]));
  });

  it('GC frees the addresses and veths of attachments the runtime no longer has', async () => {
    const keep = await newPod();
    const lost = await newPod();
    await plain.add({ containerId: keep.containerId, netns: keep.netns });
    await plain.add({ containerId: lost.containerId, netns: lost.netns });
    expect(records()).toHaveLength(2);
    const gc = await plain.gc([{ containerId: keep.containerId, ifname: 'eth0' }]);
    expect(gc.ok, JSON.stringify(gc.output)).toBe(true);
    expect(records()).toHaveLength(1);
    expect(records()[0]).toMatch(/\.\d+$/);
    expect(await podLinks(lost.short)).toEqual(['lo']);
    expect((await plain.check({ containerId: keep.containerId, netns: keep.netns })).ok).toBe(true);
    await plain.del({ containerId: keep.containerId, netns: keep.netns });
    await eventually(() => expect(records()).toEqual([]));
  });

  it('runs the same as the one-file plugin `pier cni install` writes', async () => {
    const binDir = join(scope.dir, 'cni-bin');
    const install = spawnSync(
      process.execPath,
      [join(PIER_BIN_DIR, 'pier.ts'), 'cni', 'install', '--bin-dir', binDir],
      {
        encoding: 'utf8',
      },
    );
    expect(install.status, install.stderr).toBe(0);
    expect(readFileSync(join(binDir, 'pier-cni'), 'utf8')).toMatch(
      /^#!\/.*node --no-rehash-snapshot\n'use strict';/,
    );
    const installed = createCniRuntime({
      scope,
      node: node.short,
      conflist: {
        cniVersion: '1.1.0',
        name: 'pier',
        plugins: [{ type: 'pier-cni', agentSocket: node.socket }],
      },
      cniPath: [binDir, '/usr/lib/cni'],
    });
    const pod = await newPod();
    const added = await installed.add({ containerId: pod.containerId, netns: pod.netns });
    expect(added.ok, JSON.stringify(added.output)).toBe(true);
    expect((await installed.check({ containerId: pod.containerId, netns: pod.netns })).ok).toBe(
      true,
    );
    expect((await installed.del({ containerId: pod.containerId, netns: pod.netns })).ok).toBe(true);
    await eventually(() => expect(records()).toEqual([]));
  });

  // Bad requests, as the runtime could send them: the spec's code for each.
  const config = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      cniVersion: '1.1.0',
      name: 'pier',
      type: 'pier-cni',
      agentSocket: node.socket,
      ...extra,
    });
  const env = (extra: Record<string, string | undefined> = {}) => {
    const base: Record<string, string | undefined> = {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'ctr-bad',
      CNI_NETNS: scope.path('p1'),
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      ...extra,
    };
    return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
  };
  it.each([
    ['no CNI_COMMAND', 4, () => env({ CNI_COMMAND: undefined }), () => config()],
    ['an unknown CNI_COMMAND', 4, () => env({ CNI_COMMAND: 'ATTACH' }), () => config()],
    ['no CNI_CONTAINERID', 4, () => env({ CNI_CONTAINERID: undefined }), () => config()],
    ['a bad CNI_CONTAINERID', 4, () => env({ CNI_CONTAINERID: '-x/y' }), () => config()],
    ['no CNI_NETNS on ADD', 4, () => env({ CNI_NETNS: undefined }), () => config()],
    ['a too long CNI_IFNAME', 4, () => env({ CNI_IFNAME: 'a-very-long-ifname' }), () => config()],
    ['no CNI_PATH', 4, () => env({ CNI_PATH: undefined }), () => config()],
    ['malformed CNI_ARGS', 4, () => env({ CNI_ARGS: 'K8S_POD_NAMESPACE' }), () => config()],
    ['stdin that is not JSON', 6, () => env(), () => '{"cniVersion": '],
    ['no name', 7, () => env(), () => config({ name: undefined })],
    ['no cniVersion', 7, () => env(), () => config({ cniVersion: undefined })],
    ['an unknown version', 1, () => env(), () => config({ cniVersion: '2.0.0' })],
    [
      'CHECK in 0.3.1',
      1,
      () => env({ CNI_COMMAND: 'CHECK' }),
      () => config({ cniVersion: '0.3.1', prevResult: {} }),
    ],
    ['GC in 1.0.0', 1, () => env({ CNI_COMMAND: 'GC' }), () => config({ cniVersion: '1.0.0' })],
    ['an ipam section', 2, () => env(), () => config({ ipam: { type: 'host-local' } })],
  ])('rejects %s with code %i and changes nothing', async (_case, code, makeEnv, makeStdin) => {
    const before = { veths: await hostVeths(), records: records() };
    const run = await plain.raw('pier-cni', makeEnv(), makeStdin());
    expect(run.exitCode).toBe(1);
    const error = JSON.parse(run.stdout) as { code: number; msg: string };
    expect(error.code).toBe(code);
    expect(error.msg.length).toBeGreaterThan(10);
    expect({ veths: await hostVeths(), records: records() }).toEqual(before);
  });
});
