// Golden nft text for a few cases, and what an incremental plan touches.
// The real nft accepts these scripts: test/service-proxy.test.ts applies
// them in a network namespace.

import { describe, expect, it } from 'vitest';
import { servicePortsByService } from '../service-ports.ts';
import { service, slice } from '../testing/objects.ts';
import { buildRuleset, emptyRuleset } from './build.ts';
import type { LayoutOptions } from './model.ts';
import { plan } from './plan.ts';

const options: LayoutOptions = {
  table: 'pier_services',
  clusterCidr: '10.244.0.0/16',
  masqueradeBit: 14,
  shards: 4,
};
const at = { nodeName: 'node-1' };
const web = service('web', { clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] });
const empty = service('empty', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] });
const webSlice = slice('web', ['10.244.2.3 node-2', '10.244.3.3 node-3'], [{ port: 8080 }]);

describe('a full plan', () => {
  it('replaces the whole table in one transaction', () => {
    const desired = buildRuleset(
      emptyRuleset(options),
      servicePortsByService([web, empty], [webSlice], at),
    );
    expect(plan(desired, undefined).script).toBe(`table ip pier_services {}
delete table ip pier_services
table ip pier_services {
	comment "pier service proxy"
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
	}
	map service-nodeports {
		type inet_proto . inet_service : verdict
	}
	map no-endpoint-services {
		type ipv4_addr . inet_proto . inet_service : verdict
	}
	map no-endpoint-nodeports {
		type inet_proto . inet_service : verdict
	}
	set cluster-ips {
		type ipv4_addr
	}
	set hairpin {
		type ipv4_addr . ipv4_addr
	}
	map endpoints-tcp-01 {
		typeof numgen random mod 1 : ip daddr . tcp dport
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}
	chain filter-input {
		type filter hook input priority filter - 10; policy accept;
		ct state new jump nodeport-endpoints-check
		ct state new jump endpoints-check
	}
	chain filter-forward {
		type filter hook forward priority filter - 10; policy accept;
		ct state new jump endpoints-check
		ct state new jump cluster-ips-check
	}
	chain filter-output {
		type filter hook output priority filter - 10; policy accept;
		ct state new jump endpoints-check
		ct state new jump cluster-ips-check
	}
	chain services {
		ip saddr != 10.244.0.0/16 ip daddr @cluster-ips jump mark-for-masquerade
		ip daddr . meta l4proto . th dport vmap @service-ips
		fib daddr type local meta l4proto . th dport vmap @service-nodeports
	}
	chain endpoints-check {
		ip daddr . meta l4proto . th dport vmap @no-endpoint-services
	}
	chain nodeport-endpoints-check {
		fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports
	}
	chain cluster-ips-check {
		ip daddr @cluster-ips reject
	}
	chain reject-chain {
		meta l4proto tcp reject with tcp reset
		reject
	}
	chain mark-for-masquerade {
		meta mark set meta mark | 0x00004000
	}
	chain masquerading {
		ct status dnat ip saddr . ip daddr @hairpin jump mark-for-masquerade
		meta mark & 0x00004000 == 0 return
		meta mark set meta mark ^ 0x00004000
		masquerade fully-random
	}
	chain sync-generation {
		counter comment "pier service proxy generation 1"
	}
	chain svc-default/web/tcp/80 {
		meta l4proto tcp dnat ip to numgen random mod 2 map @endpoints-tcp-01
	}
}
add element ip pier_services no-endpoint-services { 10.96.0.11 . tcp . 80 : goto reject-chain }
add element ip pier_services endpoints-tcp-01 { 0 : 10.244.2.3 . 8080, 1 : 10.244.3.3 . 8080 }
add element ip pier_services service-ips { 10.96.0.10 . tcp . 80 : goto svc-default/web/tcp/80 }
add element ip pier_services cluster-ips { 10.96.0.11, 10.96.0.10 }
`);
  });
});

describe('an incremental plan', () => {
  const first = buildRuleset(
    emptyRuleset(options),
    servicePortsByService([web, empty], [webSlice], at),
  );

  it('rewrites the moved slot only when an endpoint is replaced', () => {
    const next = buildRuleset(
      first,
      servicePortsByService(
        [web],
        [slice('web', ['10.244.2.3 node-2', '10.244.3.9 node-3'], [{ port: 8080 }])],
        at,
      ),
    );
    expect(plan(next, first).script).toBe(`delete element ip pier_services endpoints-tcp-01 { 1 }
add element ip pier_services endpoints-tcp-01 { 1 : 10.244.3.9 . 8080 }
`);
  });

  it('moves a Service from reject to its chain (and a new slot map) when its first endpoint appears', () => {
    const next = buildRuleset(
      first,
      servicePortsByService([empty], [slice('empty', ['10.244.1.4 node-1'], [{ port: 80 }])], at),
    );
    expect(
      plan(next, first).script,
    ).toBe(`add map ip pier_services endpoints-tcp-00 { typeof numgen random mod 1 : ip daddr . tcp dport; }
add chain ip pier_services svc-default/empty/tcp/80
delete element ip pier_services no-endpoint-services { 10.96.0.11 . tcp . 80 }
add rule ip pier_services svc-default/empty/tcp/80 meta l4proto tcp dnat ip to numgen random mod 1 map @endpoints-tcp-00
add element ip pier_services endpoints-tcp-00 { 0 : 10.244.1.4 . 80 }
add element ip pier_services service-ips { 10.96.0.11 . tcp . 80 : goto svc-default/empty/tcp/80 }
add element ip pier_services hairpin { 10.244.1.4 . 10.244.1.4 }
`);
  });

  it('removes a Service: elements out, chain flushed, then deleted, its slot map with it', () => {
    const next = buildRuleset(first, new Map([['default/web', undefined]]));
    expect(plan(next, first).script).toBe(`delete element ip pier_services endpoints-tcp-01 { 0, 1 }
delete element ip pier_services service-ips { 10.96.0.10 . tcp . 80 }
delete element ip pier_services cluster-ips { 10.96.0.10 }
flush chain ip pier_services svc-default/web/tcp/80
delete chain ip pier_services svc-default/web/tcp/80
delete map ip pier_services endpoints-tcp-01
`);
  });

  it('looks only at the Services that changed, among many', () => {
    const services = Array.from({ length: 500 }, (_, i) =>
      service(`s${i}`, {
        clusterIP: `10.96.${i >> 8}.${i & 255}`,
        ports: [{ port: 80, targetPort: 8080 }],
      }),
    );
    const slices = services.map((s, i) =>
      slice(s.metadata.name, [`10.244.${(i >> 8) + 2}.${i & 255} node-2`], [{ port: 8080 }]),
    );
    const all = buildRuleset(emptyRuleset(options), servicePortsByService(services, slices, at));
    const one = buildRuleset(
      all,
      servicePortsByService(
        [services[7]!],
        [slice('s7', ['10.244.9.9 node-3', '10.244.9.10 node-3'], [{ port: 8080 }])],
        at,
      ),
    );
    const result = plan(one, all);
    expect(result.full).toBe(false);
    expect(result.stats).toMatchObject({ services: 1, chainsChanged: 1, chainsAdded: 0 });
    expect(result.script).not.toMatch(/s8|s70/);
    // The other fragments are the very same objects: nothing was rebuilt.
    expect(one.fragments.get('default/s8')).toBe(all.fragments.get('default/s8'));
  });

  it('falls back to a full plan when the layout options change', () => {
    const other = buildRuleset(
      emptyRuleset({ ...options, masqueradeBit: 15 }),
      servicePortsByService([web], [webSlice], at),
    );
    const result = plan(other, first);
    expect(result.full).toBe(true);
    expect(result.script).toContain('meta mark set meta mark | 0x00008000');
  });
});
