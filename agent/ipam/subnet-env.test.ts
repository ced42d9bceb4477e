import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatCidr, parseCidr } from './ipv4.ts';
import { parseSubnetEnv, readSubnetEnv, renderSubnetEnv, writeSubnetEnv } from './subnet-env.ts';

const dir = mkdtempSync(join(tmpdir(), 'pier-subnet-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = {
  network: parseCidr('10.244.0.0/16')!,
  subnet: parseCidr('10.244.3.0/24')!,
  mtu: 1450,
  ipMasq: true,
};

describe('subnet.env', () => {
  it('is written as flannel writes it, the gateway address in FLANNEL_SUBNET', () => {
    expect(renderSubnetEnv(env)).toBe(
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
    );
  });

  it('reads back what it wrote, and what flannel writes', async () => {
    const path = join(dir, 'run/flannel/subnet.env'); // its directory made as needed
    await writeSubnetEnv(path, env);
    expect(readFileSync(path, 'utf8')).toBe(renderSubnetEnv(env));
    const back = await readSubnetEnv(path);
    expect(
      back === undefined
        ? undefined
        : { ...back, network: formatCidr(back.network), subnet: formatCidr(back.subnet) },
    ).toEqual({
      network: '10.244.0.0/16',
      subnet: '10.244.3.0/24',
      mtu: 1450,
      ipMasq: true,
    });
    const flannel = parseSubnetEnv(
      '# written by flannel\nFLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=false\n',
    );
    expect(formatCidr(flannel.subnet)).toBe('10.244.7.0/24');
    expect(flannel.ipMasq).toBe(false);
  });

  it('is absent on a first start, and a broken one is named', async () => {
    expect(await readSubnetEnv(join(dir, 'none.env'))).toBeUndefined();
    const path = join(dir, 'broken.env');
    writeFileSync(path, 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=banana\nFLANNEL_MTU=1500\n');
    await expect(readSubnetEnv(path)).rejects.toMatchObject({ code: 'PIER_AGENT_BAD_SUBNET_ENV' });
    expect(() => parseSubnetEnv('JUNK')).toThrowError(/has no =/);
  });
});
