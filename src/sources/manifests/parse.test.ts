import { describe, expect, it } from 'vitest';
import { parseManifests } from './parse.ts';

describe('parseManifests', () => {
  it('splits documents, skips empty ones and keeps their index and line', () => {
    const text = ['kind: A', '---', '# only a comment', '---', 'kind: B', ''].join('\n');
    const { documents, problems } = parseManifests('x.yaml', text);
    expect(problems).toEqual([]);
    expect(documents.map((d) => [d.index, d.line, (d.raw as { kind: string }).kind])).toEqual([
      [0, 1, 'A'],
      [2, 5, 'B'],
    ]);
  });

  it('expands kind: List and any *List with items, as kubectl does', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '  - { kind: Service, metadata: { name: a } }',
      '  - { kind: Service, metadata: { name: b } }',
      '---',
      'apiVersion: v1',
      'kind: ServiceList',
      'items: [{ kind: Service, metadata: { name: c } }]',
    ].join('\n');
    const { documents } = parseManifests('x.yaml', text);
    expect(documents.map((d) => [d.index, d.item])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
    ]);
  });

  it('reports a broken document with its index and line, and keeps the good ones', () => {
    const text = ['kind: A', '---', 'kind: [', '---', 'kind: C'].join('\n');
    const { documents, problems } = parseManifests('x.yaml', text);
    expect(documents.map((d) => (d.raw as { kind: string }).kind)).toEqual(['A', 'C']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'x.yaml', index: 1 });
    expect(problems[0]!.message).toMatch(/^invalid YAML/);
  });

  it('rejects documents that are not mappings and duplicate keys', () => {
    const { problems } = parseManifests('x.yaml', ['- 1', '---', 'a: 1\na: 2'].join('\n'));
    expect(problems.map((p) => p.index)).toEqual([0, 1]);
  });

  it('parses JSON, which is YAML', () => {
    const { documents } = parseManifests(
      'x.json',
      '{"kind": "Service", "metadata": {"name": "a"}}',
    );
    expect(documents).toHaveLength(1);
  });
});
