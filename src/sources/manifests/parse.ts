// Splits manifest text into Kubernetes objects the way kubectl reads it:
// multi-document YAML (`---`), JSON, and `kind: List` (or any `*List` with
// items) expanded into its items. Empty documents are skipped, as kubectl does.
//
// Pure: text in, documents and problems out. Validation of each object
// against the model happens in load.ts.

import { LineCounter, parseAllDocuments } from 'yaml';

export interface ParsedDocument {
  file: string;
  /** 0-based index of the YAML document in the file (`---` separated). */
  index: number;
  /** 1-based line where the document starts, for messages. */
  line: number;
  /** Position within a List's items, when the object came from one. */
  item?: number;
  raw: unknown;
}

export interface DocumentProblem {
  file: string;
  index: number;
  line: number;
  item?: number;
  /** Field path inside the document, e.g. `spec.ports[0].port`, when known. */
  path?: string;
  message: string;
}

export interface ParseResult {
  documents: ParsedDocument[];
  problems: DocumentProblem[];
}

/** Where a document is, in the words of an error message: `web.yaml#2 (line 14) items[1]`. */
export function describeLocation(at: {
  file: string;
  index: number;
  line: number;
  item?: number;
}): string {
  const item = at.item === undefined ? '' : ` items[${at.item}]`;
  return `${at.file}#${at.index} (line ${at.line})${item}`;
}

export function parseManifests(file: string, text: string): ParseResult {
  const documents: ParsedDocument[] = [];
  const problems: DocumentProblem[] = [];
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // A stream that is only comments or whitespace parses as an empty array.
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, index) => {
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    const line = lineCounter.linePos(start).line;
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const at = first.linePos?.[0];
      problems.push({
        file,
        index,
        line: at?.line ?? line,
        message: `invalid YAML: ${first.message.split('\n')[0]}`,
      });
      return;
    }
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push({ file, index, line, message: `invalid YAML: ${(error as Error).message}` });
      return;
    }
    if (raw === null || raw === undefined) return;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push({
        file,
        index,
        line,
        message: 'a document must be a Kubernetes object (a mapping)',
      });
      return;
    }
    const kind = (raw as { kind?: unknown }).kind;
    if (typeof kind === 'string' && kind.endsWith('List') && 'items' in raw) {
      const items = (raw as { items: unknown }).items;
      if (items === null) return;
      if (!Array.isArray(items)) {
        problems.push({
          file,
          index,
          line,
          path: 'items',
          message: `${kind}: items must be a list`,
        });
        return;
      }
      items.forEach((item, i) => {
        documents.push({ file, index, line, item: i, raw: item });
      });
      return;
    }
    documents.push({ file, index, line, raw });
  });
  return { documents, problems };
}
