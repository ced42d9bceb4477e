import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIp, parseCidr } from './ipv4.ts';
import { createPodIpam } from './pod-ipam.ts';

const root = mkdtempSync(join(tmpdir(), 'pier-pod-ipam-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

describe('pod addresses on disk', () => {
  it('hands out the subnet after the gateway, one file per address, host-local style', async () => {
    const dir = freshDir();
    const ipam = await createPodIpam({ dir, subnet: parseCidr('10.244.3.0/24')! });
    expect(formatIp(ipam.gateway)).toBe('10.244.3.1');
    const a = await ipam.allocate('ctr-a', 'eth0');
    const b = await ipam.allocate('ctr-b', 'eth0');
    expect([formatIp(a.ip), formatIp(b.ip), a.existing]).toEqual([
      '10.244.3.2',
      '10.244.3.3',
      false,
    ]);
    expect(readFileSync(join(dir, '10.244.3.2'), 'utf8')).toBe('ctr-a\r\neth0');
    expect(await ipam.allocate('ctr-a', 'eth0')).toEqual({ ip: a.ip, existing: true });
  });

  it('survives a restart: a new instance reads the same addresses and goes on after the last', async () => {
    const dir = freshDir();
    const subnet = parseCidr('10.244.3.0/24')!;
    const first = await createPodIpam({ dir, subnet });
    await first.allocate('ctr-a', 'eth0');
    await first.allocate('ctr-b', 'eth0');
    await first.release('ctr-a', 'eth0');
    const second = await createPodIpam({ dir, subnet });
    expect(second.list().map((r) => [formatIp(r.ip), r.containerId])).toEqual([
      ['10.244.3.3', 'ctr-b'],
    ]);
    // Round robin from the last reserved: a freed address is not reused at once.
    expect(formatIp((await second.allocate('ctr-c', 'eth0')).ip)).toBe('10.244.3.4');
  });

  it('gives concurrent ADDs different addresses, and says when the subnet is full', async () => {
    const ipam = await createPodIpam({ dir: freshDir(), subnet: parseCidr('10.244.3.0/28')! });
    const all = await Promise.all(
      Array.from({ length: 13 }, (_, i) => ipam.allocate(`c${i}`, 'eth0')),
    );
    expect(new Set(all.map((a) => a.ip)).size).toBe(13); // .2 to .14
    await expect(ipam.allocate('one-more', 'eth0')).rejects.toMatchObject({
      code: 'PIER_AGENT_SUBNET_FULL',
    });
  });

  it('skips an address file it did not make (another writer) rather than overwriting it', async () => {
    const dir = freshDir();
    const ipam = await createPodIpam({ dir, subnet: parseCidr('10.244.3.0/24')! });
    writeFileSync(join(dir, '10.244.3.2'), 'someone-else\r\neth0');
    expect(formatIp((await ipam.allocate('ctr-a', 'eth0')).ip)).toBe('10.244.3.3');
    expect(readFileSync(join(dir, '10.244.3.2'), 'utf8')).toBe('someone-else\r\neth0');
  });

  it('keeps a releasing address taken, also across a restart, until freed', async () => {
    const dir = freshDir();
    const subnet = parseCidr('10.244.3.0/30')!; // one pod address: .2
    const ipam = await createPodIpam({ dir, subnet });
    const a = await ipam.allocate('ctr-a', 'eth0');
    const marked = await ipam.markReleasing('ctr-a', 'eth0');
    expect(marked).toMatchObject({ ip: a.ip, releasing: true });
    expect(ipam.lookup('ctr-a', 'eth0')).toBeUndefined();
    await expect(ipam.allocate('ctr-b', 'eth0')).rejects.toMatchObject({
      code: 'PIER_AGENT_SUBNET_FULL',
    });
    const restarted = await createPodIpam({ dir, subnet });
    expect(restarted.list()).toEqual([
      { ip: a.ip, containerId: 'ctr-a', ifname: 'eth0', releasing: true },
    ]);
    await restarted.freeAddress(a.ip);
    expect(readdirSync(dir).filter((f) => f !== 'last_reserved_ip.0')).toEqual([]);
    expect((await restarted.allocate('ctr-b', 'eth0')).ip).toBe(a.ip);
  });

  it('GC frees what the runtime no longer has', async () => {
    const ipam = await createPodIpam({ dir: freshDir(), subnet: parseCidr('10.244.3.0/24')! });
    await ipam.allocate('keep', 'eth0');
    await ipam.allocate('gone', 'eth0');
    await ipam.allocate('keep', 'net1');
    const freed = await ipam.gc((c, i) => c === 'keep' && i === 'eth0');
    expect(freed.map((r) => `${r.containerId}/${r.ifname}`).sort()).toEqual([
      'gone/eth0',
      'keep/net1',
    ]);
    expect(ipam.list().map((r) => r.containerId)).toEqual(['keep']);
  });

  it('names the directory when the disk fails', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    await expect(
      createPodIpam({ dir: join(file, 'ipam'), subnet: parseCidr('10.244.3.0/24')! }),
    ).rejects.toMatchObject({
      code: 'PIER_AGENT_IPAM_DISK',
      message: expect.stringContaining(join(file, 'ipam')),
    });
  });
});
