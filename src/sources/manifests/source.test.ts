// The manifests source against the real memory Store and a real folder.
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Kinds } from '../../model/object.ts';
import { createMemoryStore } from '../../store/memory.ts';
import type { Store } from '../../store.ts';
import { createManifestsSource, type ManifestsSource } from './source.ts';

const service = (name: string, port = 80) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: demo }
spec:
  ports: [{ name: http, port: ${port} }]
`;

let dir: string;
let store: Store;
let source: ManifestsSource | undefined;
const logger = pino({ level: 'silent' });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pier-manifests-'));
  store = createMemoryStore();
});
afterEach(async () => {
  await source?.close();
  source = undefined;
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function names(): Promise<string[]> {
  const { items } = await store.list(Kinds.Service);
  return items
    .map(
      (s) =>
        `${s.metadata.name}:${(s as unknown as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port}`,
    )
    .sort();
}

describe('manifests source', () => {
  it('loads a folder (nested, multi-document) with defaults applied', async () => {
    await writeFile(join(dir, 'a.yaml'), `${service('a')}---\n${service('b')}`);
    await writeFile(join(dir, 'notes.txt'), 'not a manifest');
    source = createManifestsSource({ path: dir, store, logger, watch: false });
    const report = await source.start();
    expect(report).toMatchObject({ files: 1, objects: 2, applied: 2, deleted: 0, problems: [] });
    expect(await names()).toEqual(['a:80', 'b:80']);
    const a = await store.get({ kind: Kinds.Service, namespace: 'demo', name: 'a' });
    expect(a).toMatchObject({
      spec: { type: 'ClusterIP', ports: [{ protocol: 'TCP', targetPort: 80 }] },
    });
  });

  it('applies only what changed: adds, updates and deletes', async () => {
    await writeFile(join(dir, 'a.yaml'), `${service('a')}---\n${service('b')}`);
    source = createManifestsSource({ path: dir, store, logger, watch: false });
    await source.start();
    const before = await store.revision();
    const same = await source.sync();
    expect(same).toMatchObject({ applied: 0, deleted: 0 });
    expect(await store.revision()).toBe(before);

    await writeFile(join(dir, 'a.yaml'), `${service('a', 81)}---\n${service('c')}`);
    const changed = await source.sync();
    expect(changed).toMatchObject({ applied: 2, deleted: 1 });
    expect(await names()).toEqual(['a:81', 'c:80']);
  });

  it('keeps the last good state of a file with a bad document, and names file, document and field', async () => {
    await writeFile(join(dir, 'a.yaml'), `${service('a')}---\n${service('b')}`);
    source = createManifestsSource({ path: dir, store, logger, watch: false });
    await source.start();

    await writeFile(join(dir, 'a.yaml'), `${service('a', 81)}---\n${service('b', 70000)}`);
    const report = await source.sync();
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({
      file: 'a.yaml',
      index: 1,
      path: 'spec.ports[0].port',
    });
    expect(report.problems[0]!.message).toContain('Service demo/b');
    expect(await names()).toEqual(['a:80', 'b:80']);

    await writeFile(join(dir, 'a.yaml'), `${service('a', 81)}`);
    expect((await source.sync()).problems).toEqual([]);
    expect(await names()).toEqual(['a:81']);
  });

  it('a broken file never takes down the others, and a deleted file deletes its objects', async () => {
    await writeFile(join(dir, 'a.yaml'), service('a'));
    await writeFile(join(dir, 'b.yaml'), service('b'));
    source = createManifestsSource({ path: dir, store, logger, watch: false });
    await source.start();
    await writeFile(join(dir, 'a.yaml'), 'kind: [');
    await writeFile(join(dir, 'c.yaml'), service('c'));
    await unlink(join(dir, 'b.yaml'));
    const report = await source.sync();
    expect(report.problems.map((p) => p.file)).toEqual(['a.yaml']);
    expect(await names()).toEqual(['a:80', 'c:80']);
  });

  it('reports a duplicate object and keeps the first', async () => {
    await writeFile(join(dir, 'a.yaml'), service('a'));
    await writeFile(join(dir, 'b.yaml'), service('a', 90));
    source = createManifestsSource({ path: dir, store, logger, watch: false });
    const report = await source.start();
    expect(report.problems.map((p) => p.message)).toEqual([
      'Service demo/a is declared twice (also in a.yaml)',
    ]);
    expect(await names()).toEqual(['a:80']);
  });

  it('skips kinds Pier does not use, without an error', async () => {
    await writeFile(
      join(dir, 'a.yaml'),
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec: {}\n---\n${service('a')}`,
    );
    source = createManifestsSource({ path: dir, store, logger, watch: false });
    const report = await source.start();
    expect(report.problems).toEqual([]);
    expect(report.skipped).toHaveLength(1);
    expect(await names()).toEqual(['a:80']);
  });

  it('never deletes objects it did not write', async () => {
    await store.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'other', namespace: 'demo' },
      spec: { ports: [{ port: 1 }] },
    } as never);
    await writeFile(join(dir, 'a.yaml'), service('a'));
    source = createManifestsSource({ path: dir, store, logger, watch: false });
    await source.start();
    expect(await names()).toEqual(['a:80', 'other:1']);
  });

  it('watches: a saved file is in the Store shortly after', async () => {
    await writeFile(join(dir, 'a.yaml'), service('a'));
    source = createManifestsSource({ path: dir, store, logger, watch: true, debounceMs: 10 });
    await source.start();
    await writeFile(join(dir, 'b.yaml'), service('b'));
    const deadline = Date.now() + 5000;
    while ((await names()).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await names()).toEqual(['a:80', 'b:80']);
  });

  it('loads a single file too', async () => {
    await writeFile(join(dir, 'one.yaml'), service('a'));
    source = createManifestsSource({ path: join(dir, 'one.yaml'), store, logger, watch: false });
    expect(await source.start()).toMatchObject({ files: 1, applied: 1 });
  });
});
