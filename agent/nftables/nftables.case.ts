// The Nftables port's shared suite: the fake (fake.test.ts) and nft in a
// real namespace (test/cni-ports.test.ts) pass the same cases.

import { describe, expect, it } from 'vitest';
import { type Nftables, tableComment } from '../nftables.ts';

const TABLE = `table ip pier_case {}
delete table ip pier_case
table ip pier_case {
  comment "pier-agent v1"
  set nodes {
    type ipv4_addr
    elements = { 192.168.1.1, 192.168.1.2 }
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.244.0.0/16 ip daddr @nodes return
  }
}
`;

export function nftablesCases(name: string, fixture: () => Nftables) {
  describe(`Nftables port: ${name}`, () => {
    it('applies a table, lists it, and reads its comment', async () => {
      const nft = fixture();
      expect(await nft.listTable('ip', 'pier_case')).toBeUndefined();
      await nft.apply(TABLE);
      expect(await nft.tables()).toContainEqual({ family: 'ip', name: 'pier_case' });
      const listing = await nft.listTable('ip', 'pier_case');
      expect(listing).toContain('table ip pier_case');
      expect(listing).toContain('ip saddr 10.244.0.0/16 ip daddr @nodes return');
      expect(tableComment(listing ?? '')).toBe('pier-agent v1');
    });

    it('replaces a whole table idempotently', async () => {
      const nft = fixture();
      await nft.apply(TABLE);
      const once = await nft.listTable('ip', 'pier_case');
      await nft.apply(TABLE);
      expect(await nft.listTable('ip', 'pier_case')).toBe(once);
      await nft.apply(TABLE.replace('pier-agent v1', 'pier-agent v2'));
      expect(tableComment((await nft.listTable('ip', 'pier_case')) ?? '')).toBe('pier-agent v2');
    });

    it('changes nothing when a script is refused', async () => {
      const nft = fixture();
      await nft.apply(TABLE);
      const before = await nft.listTable('ip', 'pier_case');
      await expect(nft.apply('delete table ip pier_case\nthis is not nft\n')).rejects.toThrow();
      expect(await nft.listTable('ip', 'pier_case')).toBe(before);
    });
  });
}
