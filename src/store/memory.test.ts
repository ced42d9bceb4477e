import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../model/object.ts';
import { StoreErrors } from './errors.ts';
import { createInformer, type InformerBatch } from './informer.ts';
import { createMemoryStore } from './memory.ts';
import { runStoreCases } from './store.case.ts';

runStoreCases('memory', ({ changeLogLength }) => createMemoryStore({ changeLogLength }));

const node = (name: string, zone = 'a'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { zone } } }) as KubeObject;

describe('memory store', () => {
  it.each([0, -1, 1.5, Number.NaN])('rejects changeLogLength %s', (length) => {
    expect(() => createMemoryStore({ changeLogLength: length })).toThrow(
      expect.objectContaining({ code: StoreErrors.codes.INVALID_ARGUMENT }),
    );
  });

  it('keeps a log of exactly changeLogLength changes', async () => {
    const store = createMemoryStore({ changeLogLength: 3 });
    for (let i = 1; i <= 6; i++) await store.apply(node(`n${i}`));
    const first = async (from: number) => {
      for await (const e of store.watch(from)) return e.type === 'relist' ? 'relist' : e.revision;
    };
    expect([await first(2), await first(3), await first(4)]).toEqual(['relist', 4, 5]);
    await store.close();
  });

  it('gives the informer a diff, not a flush, when it relists', async () => {
    const store = createMemoryStore({ changeLogLength: 2 });
    await store.apply(node('keep'));
    await store.apply(node('change'));
    await store.apply(node('drop'));
    const warnings: string[] = [];
    const informer = createInformer(store, {
      kinds: ['Node'],
      logger: { warn: (_fields, message) => warnings.push(message) },
    });
    const batches: InformerBatch[] = [];
    informer.subscribe((b) => batches.push(b));
    informer.start();
    await informer.waitForSync();
    // Synchronous writes: the informer's watch cannot run in between, so it
    // is more than two changes behind when it next reads and must relist.
    void store.apply(node('change', 'b'));
    void store.delete({ kind: 'Node', name: 'drop' });
    void store.apply(node('new'));
    void store.apply(node('new2'));
    const head = await store.revision();
    while (informer.revision() !== head) await new Promise((r) => setTimeout(r, 5));
    await informer.stop();
    expect(warnings).toContain('informer relisting');
    const resync = batches.slice(1).filter((b) => b.resync);
    expect(resync).toHaveLength(1);
    expect(
      resync[0]!.changes
        .map((c) => `${c.type} ${c.object.metadata.name} ${c.object.metadata.labels?.zone}`)
        .sort(),
    ).toEqual(['added new a', 'added new2 a', 'deleted drop a', 'modified change b']);
    await store.close();
  });
});
