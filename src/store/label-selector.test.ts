import { describe, expect, it } from 'vitest';
import { StoreErrors } from './errors.ts';
import { parseLabelSelector } from './label-selector.ts';

// labels in kubectl notation ('' for none)
const labels = (text: string) =>
  text === ''
    ? {}
    : Object.fromEntries(text.split(',').map((kv) => kv.split('=') as [string, string]));

describe('parseLabelSelector', () => {
  // selector, object labels, matches?
  it.each([
    ['', '', true],
    ['a=b', 'a=b', true],
    ['a=b', 'a=c', false],
    ['a=b', '', false],
    ['a==b', 'a=b', true],
    ['a!=b', 'a=c', true],
    ['a!=b', '', true],
    ['a!=b', 'a=b', false],
    ['a', 'a=', true],
    ['a', 'b=a', false],
    ['!a', 'b=1', true],
    ['!a', 'a=1', false],
    ['a=', 'a=', true],
    ['a=', 'a=x', false],
    ['a in (x,y)', 'a=y', true],
    ['a in (x,y)', 'a=z', false],
    ['a in (x,y)', '', false],
    ['a notin (x,y)', 'a=z', true],
    ['a notin (x,y)', '', true],
    ['a notin (x,y)', 'a=x', false],
    ['a in (x,)', 'a=', true],
    ['a>5', 'a=6', true],
    ['a>5', 'a=5', false],
    ['a>5', 'a=x', false],
    ['a<5', 'a=-1', true],
    ['a<5', '', false],
    ['a=b,c!=d,e', 'a=b,e=1', true],
    ['a=b,c!=d,e', 'a=b,c=d,e=1', false],
    ['a=b,c!=d,e', 'a=b', false],
    ['env in (prod, staging),  !canary', 'env=staging', true],
    ['app.kubernetes.io/name=web', 'app.kubernetes.io/name=web', true],
    ['x in (a),x notin (b)', 'x=a', true],
  ])('%j on {%s} -> %s', (selector, objectLabels, match) => {
    expect(parseLabelSelector(selector).matches(labels(objectLabels))).toBe(match);
  });

  it('treats missing labels as no labels', () => {
    expect(parseLabelSelector('!a').matches(undefined)).toBe(true);
    expect(parseLabelSelector('a').matches(undefined)).toBe(false);
  });

  it('does not match inherited properties', () => {
    expect(parseLabelSelector('toString').matches({})).toBe(false);
  });

  it('takes a map of required labels', () => {
    const s = parseLabelSelector({ app: 'web', tier: 'front' });
    expect(s.matches(labels('app=web,tier=front,x=y'))).toBe(true);
    expect(s.matches(labels('app=web'))).toBe(false);
    expect(s.toString()).toBe('app=web,tier=front');
  });

  it.each([
    ['a=b,  c in (x , y),!d,e notin (z),f>3', 'a=b,c in (x,y),!d,e notin (z),f>3'],
    ['a==b', 'a=b'],
  ])('prints %j as %j', (input, printed) => {
    expect(parseLabelSelector(input).toString()).toBe(printed);
  });

  it.each([
    ['a b', /expected an operator .* found "b"/],
    ['in (a)', /found "\("/],
    ['a in (b', /expected "," or "\)" at 7/],
    ['a in ()', /value set of "in" is empty/],
    ['a in b', /expected "\(" after "in"/],
    ['a,', /expected a label key at 2, found the end/],
    [',a', /expected a label key at 0/],
    ['!', /expected a label key after "!"/],
    ['!a=b', /expected "," at 2/],
    ['a=b=c', /expected "," at 3/],
    ['a>x', /expected an integer/],
    ['-a=b', /label key "-a" is invalid/],
    [`${'k'.repeat(64)}=v`, /is invalid/],
    ['Bad_Prefix/a=b', /invalid prefix/],
    ['a=-b', /label value "-b" is invalid/],
    [`a=${'v'.repeat(64)}`, /label value/],
  ])('rejects %j', (selector, reason) => {
    expect(() => parseLabelSelector(selector)).toThrow(
      expect.objectContaining({
        code: StoreErrors.codes.BAD_SELECTOR,
        message: expect.stringMatching(reason),
      }),
    );
  });

  it('rejects a map with a bad key or a non-string value', () => {
    expect(() => parseLabelSelector({ 'a b': 'c' })).toThrow(/label key "a b"/);
    expect(() => parseLabelSelector({ a: 1 as unknown as string })).toThrow(/not a string/);
  });
});
