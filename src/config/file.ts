// Reads a YAML config file into setting values, each with the file:line it
// came from. The file mirrors the schema: sections of settings.
//
//   admin:
//     address: 127.0.0.1:9901
//
// Unknown keys are errors, not ignored: a typo must not silently leave a
// default in place.

import {
  type Document,
  isMap,
  isNode,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import type { PierError } from '../errors.ts';
import { closest } from './closest.ts';
import { ConfigErrors } from './errors.ts';
import type { SettingsTable } from './settings.ts';

export interface FileValue {
  path: string;
  value: unknown;
  /** `pier.yaml:3` */
  where: string;
}

export interface FileReadResult {
  values: FileValue[];
  problems: PierError[];
}

/** Parses `text` (the content of `file`). Never throws on bad input: problems are returned. */
export function readConfigFile(file: string, text: string, table: SettingsTable): FileReadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? file : `${file}:${lines.linePos(offset).line}`;
  };
  const result: FileReadResult = { values: [], problems: [] };
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const { line, col } = lines.linePos(error.pos[0]);
      result.problems.push(
        ConfigErrors.FILE_SYNTAX(`${file}:${line}:${col}`, firstLine(error.message)),
      );
    }
    return result;
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return result; // empty file
  if (!isMap(root)) {
    result.problems.push(
      ConfigErrors.NOT_A_MAPPING(
        at(root),
        'the config file',
        `sections (${childrenOf('', table).join(', ')})`,
      ),
    );
    return result;
  }
  walk(root, '', doc, table, at, result);
  return result;
}

function walk(
  map: YAMLMap,
  group: string,
  doc: Document,
  table: SettingsTable,
  at: (node: Node | null | undefined) => string,
  result: FileReadResult,
): void {
  for (const pair of map.items) {
    const keyNode = isNode(pair.key) ? pair.key : null;
    const key = isScalar(keyNode)
      ? String(keyNode.value)
      : JSON.stringify(keyNode?.toJSON() ?? pair.key);
    const path = group === '' ? key : `${group}.${key}`;
    const valueNode = isNode(pair.value) ? pair.value : null;
    if (table.byPath.has(path)) {
      let value: unknown = null;
      try {
        value = valueNode === null ? null : valueNode.toJS(doc);
      } catch (error) {
        // An alias to an anchor that is not there: yaml reports it only when resolving.
        result.problems.push(
          ConfigErrors.FILE_SYNTAX(at(valueNode), firstLine((error as Error).message)),
        );
        continue;
      }
      result.values.push({ path, value, where: at(keyNode) });
    } else if (table.groups.has(path)) {
      if (valueNode === null || (isScalar(valueNode) && valueNode.value === null)) continue;
      if (isMap(valueNode)) walk(valueNode, path, doc, table, at, result);
      else {
        result.problems.push(
          ConfigErrors.NOT_A_MAPPING(
            at(keyNode),
            path,
            `settings (${childrenOf(path, table).join(', ')})`,
          ),
        );
      }
    } else {
      result.problems.push(ConfigErrors.UNKNOWN_KEY(at(keyNode), path, hintFor(key, group, table)));
    }
  }
}

/** The keys directly under `group` ('' for the top level). */
function childrenOf(group: string, table: SettingsTable): string[] {
  const prefix = group === '' ? '' : `${group}.`;
  const children = new Set<string>();
  for (const path of [...table.groups, ...table.byPath.keys()]) {
    if (path.startsWith(prefix) && path.length > prefix.length) {
      children.add(path.slice(prefix.length).split('.')[0]!);
    }
  }
  return [...children];
}

function hintFor(key: string, group: string, table: SettingsTable): string {
  const siblings = childrenOf(group, table);
  const typo = closest(key, siblings);
  if (typo !== undefined) return `; did you mean ${group === '' ? typo : `${group}.${typo}`}?`;
  // A setting placed in the wrong section: `address:` at the top level.
  const elsewhere = [...table.byPath.keys()].find((path) => path.endsWith(`.${key}`));
  if (elsewhere !== undefined) return `; did you mean ${elsewhere}?`;
  return group === ''
    ? `; the sections are ${siblings.join(', ')}`
    : `; ${group} has ${siblings.join(', ')}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}
