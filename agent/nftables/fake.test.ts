import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeNftables, type FakeNftables } from './fake.ts';
import { nftablesCases } from './nftables.case.ts';

let fake: FakeNftables;
beforeEach(() => {
  fake = createFakeNftables();
});

nftablesCases('fake', () => fake);

describe('the fake beyond the shared cases', () => {
  it('merges a second block into an existing table, as nft does (why scripts delete first)', async () => {
    await fake.apply('table ip t {\n  chain c {\n  }\n}\n');
    await fake.apply('table ip t {\n  chain d {\n  }\n}\n');
    expect(await fake.listTable('ip', 't')).toBe(
      'table ip t {\n\tchain c {\n\t}\n\tchain d {\n\t}\n}\n',
    );
  });

  it('fails on request, changing nothing, and keeps the scripts it applied', async () => {
    fake.failNext('busy');
    await expect(fake.apply('table ip t {}\n')).rejects.toThrow('busy');
    expect(await fake.tables()).toEqual([]);
    await fake.apply('table ip t {}\n');
    expect(fake.scripts).toEqual(['table ip t {}\n']);
  });
});
