// The record-then-sync writer on the memory Store: exactly the cluster's
// objects, only changed ones written, others' objects left alone, stale views
// repaired, a failing Store outlasted with the latest state only.

import { afterEach, describe, expect, it } from 'vitest';
import { Kinds, type KubeObject } from '../../model/object.ts';
import { StoreErrors } from '../../store/errors.ts';
import { createMemoryStore } from '../../store/memory.ts';
import type { Store } from '../../store.ts';
import { SOURCE_ANNOTATION } from '../manifests/source.ts';
import { type Prepared, prepareObject } from './prepare-object.ts';
import { apiResourceOf } from './resources.ts';
import { createStoreWriter, type StoreWriter } from './store-writer.ts';

const services = apiResourceOf(Kinds.Service)!;

function svc(namespace: string, name: string, port = 80): Prepared {
  return prepareObject(
    { metadata: { namespace, name }, spec: { ports: [{ port }] } },
    services,
    'v1',
  );
}
const invalid = (namespace: string, name: string) => svc(namespace, name, 0);

interface Logged {
  level: 'info' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

function recorder() {
  const lines: Logged[] = [];
  return {
    lines,
    logger: {
      info: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: 'info', fields, message }),
      warn: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: 'warn', fields, message }),
    },
  };
}

const writers: StoreWriter[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close()));
});

function writer(store: Store) {
  const log = recorder();
  const w = createStoreWriter({ store, logger: log.logger, backoff: { initialMs: 10, maxMs: 40 } });
  writers.push(w);
  return { w, lines: log.lines };
}

const names = async (store: Store, namespace?: string) =>
  (await store.list(Kinds.Service, namespace === undefined ? {} : { namespace })).items.map(
    (o) => `${o.metadata.namespace}/${o.metadata.name}`,
  );
const portOf = (o: KubeObject | undefined) =>
  (o as unknown as { spec: { ports: { port: number }[] } } | undefined)?.spec.ports[0]?.port;

describe('store writer', () => {
  it('writes a list, then nothing for the same list again', async () => {
    const store = createMemoryStore();
    const { w } = writer(store);
    const sink = w.scope({ kind: Kinds.Service });
    sink.replace([svc('a', 'one'), svc('b', 'two')]);
    await w.idle();
    expect(await names(store)).toEqual(['a/one', 'b/two']);
    const revision = await store.revision();
    sink.replace([svc('a', 'one'), svc('b', 'two')]);
    await w.idle();
    expect(await store.revision()).toBe(revision);
    expect(w.stats()).toMatchObject({ applied: 2, deleted: 0 });
  });

  it('deletes on relist what is gone, within its scope, and only what it wrote', async () => {
    const store = createMemoryStore();
    const theirs = { ...(svc('a', 'manual') as { object: KubeObject }).object };
    theirs.metadata = { ...theirs.metadata, annotations: { [SOURCE_ANNOTATION]: 'manifests' } };
    await store.apply(theirs);
    const { w } = writer(store);
    const inA = w.scope({ kind: Kinds.Service, namespace: 'a' });
    const inB = w.scope({ kind: Kinds.Service, namespace: 'b' });
    inA.replace([svc('a', 'one'), svc('a', 'two')]);
    inB.replace([svc('b', 'three')]);
    await w.idle();
    inA.replace([svc('a', 'two')]);
    await w.idle();
    expect(await names(store)).toEqual(['a/manual', 'a/two', 'b/three']);
  });

  it('keeps the last valid version when an update is invalid, and deletes on a delete', async () => {
    const store = createMemoryStore();
    const { w } = writer(store);
    const sink = w.scope({ kind: Kinds.Service });
    sink.replace([svc('a', 'web', 80), invalid('a', 'never-valid')]);
    await w.idle();
    sink.upsert(invalid('a', 'web'));
    sink.replace([invalid('a', 'web'), invalid('a', 'never-valid')]);
    await w.idle();
    expect(portOf(await store.get({ kind: Kinds.Service, namespace: 'a', name: 'web' }))).toBe(80);
    expect(await names(store)).toEqual(['a/web']);
    sink.remove({ kind: Kinds.Service, namespace: 'a', name: 'web' });
    await w.idle();
    expect(await names(store)).toEqual([]);
  });

  it("leaves another source's object of the same name alone and says so once", async () => {
    const store = createMemoryStore();
    const theirs = { ...(svc('a', 'web', 7) as { object: KubeObject }).object };
    theirs.metadata = { ...theirs.metadata, annotations: { [SOURCE_ANNOTATION]: 'manifests' } };
    await store.apply(theirs);
    const { w, lines } = writer(store);
    const sink = w.scope({ kind: Kinds.Service });
    sink.replace([svc('a', 'web', 80)]);
    sink.upsert(svc('a', 'web', 81));
    await w.idle();
    expect(portOf(await store.get({ kind: Kinds.Service, namespace: 'a', name: 'web' }))).toBe(7);
    const owned = lines.filter((l) => l.fields.code === 'PIER_KUBERNETES_OWNED_ELSEWHERE');
    expect(owned).toHaveLength(1);
    expect(owned[0]!.message).toContain('belongs to the manifests source');
    expect(w.stats().foreign).toBe(1);
  });

  it('repairs a stale view: a write behind its back is re-read and overwritten', async () => {
    const store = createMemoryStore();
    const { w } = writer(store);
    const sink = w.scope({ kind: Kinds.Service });
    sink.replace([svc('a', 'web', 80)]);
    await w.idle();
    // Another process of this source (a deposed leader) writes after us.
    await store.apply((svc('a', 'web', 99) as { object: KubeObject }).object);
    sink.upsert(svc('a', 'web', 81));
    await w.idle();
    expect(portOf(await store.get({ kind: Kinds.Service, namespace: 'a', name: 'web' }))).toBe(81);
    expect(w.stats().conflicts).toBe(1);
  });

  it('outlasts a failing Store, writing only the latest state once it is back', async () => {
    const real = createMemoryStore();
    let broken = true;
    const flaky: Store = {
      ...real,
      name: 'flaky',
      list: (kind, o) =>
        broken ? Promise.reject(StoreErrors.UNAVAILABLE('flaky', 'down')) : real.list(kind, o),
      apply: (object, o) =>
        broken ? Promise.reject(StoreErrors.UNAVAILABLE('flaky', 'down')) : real.apply(object, o),
      get: (ref) => real.get(ref),
      delete: (ref, o) => real.delete(ref, o),
    };
    const { w, lines } = writer(flaky);
    const sink = w.scope({ kind: Kinds.Service });
    sink.replace([svc('a', 'web', 80)]);
    for (const port of [81, 82, 83, 84]) sink.upsert(svc('a', 'web', port));
    await new Promise((r) => setTimeout(r, 150));
    expect(w.isIdle()).toBe(false);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    broken = false;
    await w.idle();
    expect(portOf(await real.get({ kind: Kinds.Service, namespace: 'a', name: 'web' }))).toBe(84);
    expect(w.stats().applied).toBe(1);
    expect(lines.some((l) => l.level === 'info' && l.message.includes('writable again'))).toBe(
      true,
    );
  });

  it('writes nothing after close', async () => {
    const store = createMemoryStore();
    const { w } = writer(store);
    const sink = w.scope({ kind: Kinds.Service });
    await w.close();
    sink.replace([svc('a', 'web')]);
    await new Promise((r) => setTimeout(r, 30));
    expect(await names(store)).toEqual([]);
  });
});
