// The manifests source: a file or folder of Kubernetes YAML kept in the Store.
//
// Record, then sync: file-system events only mark the source dirty; one
// debounced sync reads every file, plans against what this source wrote
// before, and applies only the difference. A file with a bad document keeps
// its last good objects in force until it is fixed; a deleted file's objects
// are deleted.

import { type FSWatcher, watch as watchFs } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { describeRef, Kinds, type KubeObject, refOf } from '../../model/object.ts';
import type { Store } from '../../store.ts';
import { type FileManifests, findDuplicates, listManifestFiles, loadManifestFile } from './load.ts';
import { type DocumentProblem, describeLocation } from './parse.ts';
import { planManifests } from './plan.ts';

/** Marks objects this source owns, so it deletes only its own. */
export const SOURCE_ANNOTATION = 'pier.dev/source';
export const SOURCE_VALUE = 'manifests';

export interface ManifestsSourceOptions {
  path: string;
  store: Store;
  logger: Logger;
  /** Re-sync when files change (default true). */
  watch?: boolean;
  /** Quiet time after the last file event before a sync (default 50 ms). */
  debounceMs?: number;
}

export interface SyncReport {
  files: number;
  objects: number;
  applied: number;
  deleted: number;
  problems: DocumentProblem[];
  skipped: string[];
}

export interface ManifestsSource {
  /** Reads everything and applies the difference now. Never throws for bad manifests. */
  sync(): Promise<SyncReport>;
  /** First sync, then watching (when enabled). */
  start(): Promise<SyncReport>;
  /** The problems of the last sync (empty when every file was good). */
  problems(): readonly DocumentProblem[];
  close(): Promise<void>;
}

function formatProblem(p: DocumentProblem): string {
  return p.line === 0 ? `${p.file}: ${p.message}` : `${describeLocation(p)}: ${p.message}`;
}

export function createManifestsSource(options: ManifestsSourceOptions): ManifestsSource {
  const root = resolve(options.path);
  const { store, logger } = options;
  const debounceMs = options.debounceMs ?? 50;
  const lastGood = new Map<string, KubeObject[]>();
  let lastProblems: DocumentProblem[] = [];
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<SyncReport> | undefined;
  let again = false;
  let closed = false;

  async function ownedObjects(): Promise<KubeObject[]> {
    const owned: KubeObject[] = [];
    for (const kind of Object.values(Kinds)) {
      const { items } = await store.list(kind);
      for (const item of items) {
        if (item.metadata.annotations?.[SOURCE_ANNOTATION] === SOURCE_VALUE) owned.push(item);
      }
    }
    return owned;
  }

  function mark(object: KubeObject): KubeObject {
    return {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: { ...object.metadata.annotations, [SOURCE_ANNOTATION]: SOURCE_VALUE },
      },
    };
  }

  async function readAll(): Promise<{ files: FileManifests[]; problems: DocumentProblem[] }> {
    let paths: string[];
    try {
      paths = await listManifestFiles(root);
    } catch (error) {
      // The folder itself is gone or unreadable: keep everything as it was.
      const problem = {
        file: root,
        index: 0,
        line: 0,
        message: `cannot read: ${(error as Error).message}`,
      };
      return {
        files: [...lastGood].map(([file, objects]) => ({
          file,
          objects,
          problems: [],
          skipped: [],
        })),
        problems: [problem],
      };
    }
    const files = await Promise.all(paths.map((p) => loadManifestFile(root, p)));
    return { files, problems: [] };
  }

  async function syncOnce(): Promise<SyncReport> {
    const { files, problems } = await readAll();
    const chosen: FileManifests[] = [];
    const present = new Set<string>();
    const skipped: string[] = [];
    for (const file of files) {
      present.add(file.file);
      skipped.push(...file.skipped);
      if (file.problems.length > 0) {
        problems.push(...file.problems);
        const previous = lastGood.get(file.file);
        if (previous !== undefined) chosen.push({ ...file, objects: previous, problems: [] });
        continue;
      }
      chosen.push(file);
    }
    const duplicates = findDuplicates(chosen);
    problems.push(...duplicates);
    const desired = new Map<string, KubeObject>();
    for (const file of chosen) {
      if (file.problems.length === 0 && !duplicates.some((d) => d.file === file.file)) {
        lastGood.set(file.file, file.objects);
      }
      for (const object of file.objects) {
        const key = describeRef(refOf(object));
        if (!desired.has(key)) desired.set(key, mark(object));
      }
    }
    for (const file of [...lastGood.keys()]) if (!present.has(file)) lastGood.delete(file);

    const plan = planManifests([...desired.values()], await ownedObjects());
    for (const object of plan.apply) await store.apply(object);
    for (const object of plan.delete) await store.delete(refOf(object));

    lastProblems = problems;
    for (const p of problems)
      logger.error(
        { code: 'PIER_MANIFESTS_INVALID', file: p.file, document: p.index, path: p.path },
        formatProblem(p),
      );
    if (skipped.length > 0)
      logger.debug({ skipped }, 'manifests: skipped objects of kinds Pier does not use');
    const report = {
      files: files.length,
      objects: desired.size,
      applied: plan.apply.length,
      deleted: plan.delete.length,
      problems,
      skipped,
    };
    if (report.applied > 0 || report.deleted > 0) {
      logger.info(
        {
          path: root,
          files: report.files,
          objects: report.objects,
          applied: report.applied,
          deleted: report.deleted,
        },
        'manifests synced',
      );
    }
    return report;
  }

  // One sync at a time; events during a sync cause exactly one more.
  function sync(): Promise<SyncReport> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = syncOnce().finally(() => {
      running = undefined;
      if (again && !closed) {
        again = false;
        void sync().catch((error) =>
          logger.error(
            { err: error, code: 'PIER_MANIFESTS_SYNC' },
            'manifests sync failed; will retry on the next change',
          ),
        );
      }
    });
    return running;
  }

  function schedule(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      void sync().catch((error) =>
        logger.error(
          { err: error, code: 'PIER_MANIFESTS_SYNC' },
          'manifests sync failed; will retry on the next change',
        ),
      );
    }, debounceMs);
  }

  async function startWatching(): Promise<void> {
    const info = await import('node:fs/promises').then((fs) => fs.stat(root));
    const dir = info.isFile() ? dirname(root) : root;
    const only = info.isFile() ? basename(root) : undefined;
    watcher = watchFs(dir, { recursive: !info.isFile(), persistent: false }, (_event, name) => {
      if (only === undefined || name === only) schedule();
    });
    watcher.on('error', (error) =>
      logger.warn(
        { err: error, path: root },
        'manifests: file watch failed; changes are no longer picked up',
      ),
    );
  }

  return {
    sync,
    async start() {
      const report = await sync();
      if (options.watch ?? true) await startWatching();
      return report;
    },
    problems: () => lastProblems,
    async close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
      await running?.catch(() => undefined);
    },
  };
}
