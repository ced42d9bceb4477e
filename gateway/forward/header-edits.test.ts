import { describe, expect, it } from 'vitest';
import { compileHeaderEdits, type HeaderEdits } from './header-edits.ts';

describe('compileHeaderEdits', () => {
  it.each([
    { case: 'nothing', edits: [] as HeaderEdits[], drop: [], append: [] },
    {
      case: 'set',
      edits: [{ set: [{ name: 'X-Env', value: 'prod' }] }],
      drop: ['x-env'],
      append: ['X-Env', 'prod'],
    },
    {
      case: 'add',
      edits: [{ add: [{ name: 'X-Tag', value: 'a' }] }],
      drop: [],
      append: ['X-Tag', 'a'],
    },
    { case: 'remove', edits: [{ remove: ['Cookie'] }], drop: ['cookie'], append: [] },
    {
      case: 'set then add (next filter)',
      edits: [{ set: [{ name: 'x-a', value: '1' }] }, { add: [{ name: 'X-A', value: '2' }] }],
      drop: ['x-a'],
      append: ['x-a', '1', 'x-a', '2'],
    },
    {
      case: 'add then set',
      edits: [{ add: [{ name: 'x-a', value: '1' }] }, { set: [{ name: 'x-a', value: '2' }] }],
      drop: ['x-a'],
      append: ['x-a', '2'],
    },
    {
      case: 'add then remove',
      edits: [{ add: [{ name: 'x-a', value: '1' }] }, { remove: ['x-a'] }],
      drop: ['x-a'],
      append: [],
    },
    {
      case: 'remove then add',
      edits: [{ remove: ['x-a'] }, { add: [{ name: 'x-a', value: '1' }] }],
      drop: ['x-a'],
      append: ['x-a', '1'],
    },
  ])('$case', ({ edits, drop, append }) => {
    const compiled = compileHeaderEdits(edits);
    expect([...compiled.drop]).toEqual(drop);
    expect(compiled.append).toEqual(append);
    expect(compiled.empty).toBe(drop.length === 0 && append.length === 0);
  });

  it.each([
    [{ set: [{ name: 'bad name', value: 'x' }] }, /not a valid HTTP token/],
    [{ add: [{ name: 'x-a', value: 'a\r\nInjected: 1' }] }, /control character/],
    [{ remove: [''] }, /not a valid HTTP token/],
  ])('rejects %j', (edits, message) => {
    expect(() => compileHeaderEdits(edits)).toThrow(message);
  });
});
