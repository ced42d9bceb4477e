// Reads a manifests file or folder into objects, file by file.
//
// The unit of "last good state" is the file: a file with any bad document is
// reported and none of its new content is used, so a half-edited file can
// never delete or half-change what it declared before (see source.ts).

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describeRef, type KubeObject, kindKeyOf, refOf } from '../../model/object.ts';
import { isKnownKind, validateObject } from '../../model.ts';
import { type DocumentProblem, describeLocation, parseManifests } from './parse.ts';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface FileManifests {
  /** Path relative to the source root (the file name when the root is a file). */
  file: string;
  objects: KubeObject[];
  problems: DocumentProblem[];
  /** Objects of kinds Pier does not model (Deployments, ConfigMaps, ...): skipped, not errors. */
  skipped: string[];
}

/** Lists manifest files under root (recursively, sorted, hidden entries ignored), or root itself. */
export async function listManifestFiles(root: string): Promise<string[]> {
  const info = await stat(root);
  if (info.isFile()) return [root];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) out.push(path);
    }
  };
  await walk(root);
  return out;
}

export function loadManifestText(file: string, text: string): FileManifests {
  const { documents, problems } = parseManifests(file, text);
  const objects: KubeObject[] = [];
  const skipped: string[] = [];
  for (const doc of documents) {
    const raw = doc.raw as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
    if (
      typeof raw === 'object' &&
      raw !== null &&
      typeof raw.apiVersion === 'string' &&
      typeof raw.kind === 'string'
    ) {
      const key = kindKeyOf(raw as KubeObject);
      if (!isKnownKind(key)) {
        skipped.push(`${key} ${String(raw.metadata?.name ?? '?')} at ${describeLocation(doc)}`);
        continue;
      }
    }
    const result = validateObject(doc.raw);
    if (result.ok) {
      objects.push(result.object);
      continue;
    }
    const { error } = result;
    if (error.issues.length === 0) {
      problems.push({ ...doc, message: error.message });
    }
    for (const issue of error.issues) {
      problems.push({
        ...doc,
        path: issue.path,
        message: `${error.subject}: ${issue.path}: ${issue.message}`,
      });
    }
  }
  return { file, objects, problems, skipped };
}

export async function loadManifestFile(root: string, path: string): Promise<FileManifests> {
  const file = relative(root, path) || path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return {
      file,
      objects: [],
      problems: [{ file, index: 0, line: 0, message: `cannot read: ${(error as Error).message}` }],
      skipped: [],
    };
  }
  return loadManifestText(file, text);
}

/** Objects declared twice (in one file or across files) are problems of every file involved after the first. */
export function findDuplicates(files: FileManifests[]): DocumentProblem[] {
  const seen = new Map<string, string>();
  const problems: DocumentProblem[] = [];
  for (const f of files) {
    for (const object of f.objects) {
      const ref = refOf(object);
      const key = describeRef(ref);
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push({
          file: f.file,
          index: 0,
          line: 0,
          message: `${key} is declared twice (also in ${first})`,
        });
      } else {
        seen.set(key, f.file);
      }
    }
  }
  return problems;
}
