import { describe, expect, it } from 'vitest';
import { parseFieldsParameter } from '../../../../src/api/rest/wagtail/parse-fields.js';
import { selectFields, type FieldCatalogue } from '../../../../src/api/rest/wagtail/select-fields.js';

const field = (name: string, negated = false, sub: ReturnType<typeof parseFieldsParameter> | null = null) => ({ name, negated, sub });

describe('parseFieldsParameter (Wagtail grammar)', () => {
  it('parses names, negations, * and _ and nested selections', () => {
    expect(parseFieldsParameter('title,body')).toEqual([field('title'), field('body')]);
    expect(parseFieldsParameter('-title')).toEqual([field('title', true)]);
    expect(parseFieldsParameter('*,-body')).toEqual([field('*'), field('body', true)]);
    expect(parseFieldsParameter('_,title')).toEqual([field('_'), field('title')]);
    expect(parseFieldsParameter('parent(title,id)')).toEqual([field('parent', false, [field('title'), field('id')])]);
    expect(parseFieldsParameter('')).toEqual([]);
  });

  it.each([
    ['title,*', "'*' must be in the first position"],
    ['-*', "'*' cannot be negated"],
    ['*,title', "additional fields with '*' doesn't make sense"],
    ['_,-title', "negated fields with '_' doesn't make sense"],
    ['title, body', 'unexpected whitespace at position 6'],
    ['title,', "unexpected char ',' at position 6"],
    ['title,,body', "unexpected char ',' at position 6"],
    ['foo()', "unexpected char ')' at position 4"],
    ['foo(bar', 'unexpected end of input (did you miss out a close bracket?)'],
    ['title)', "unexpected char ')' at position 5"],
    ['-title(id)', "unexpected char '(' at position 6"],
    ['ti-tle', "unexpected char '-' at position 2"],
    ['ti.tle', "unexpected char '.' at position 2"],
    ['*(a)', "unexpected char '(' at position 1"],
  ])('rejects %j with Wagtail\'s message', (input, message) => {
    expect(() => parseFieldsParameter(input)).toThrow(message);
  });
});

describe('selectFields', () => {
  const catalogue: FieldCatalogue = {
    all: ['id', 'title', 'body', 'type', 'slug', 'parent'],
    defaults: ['id', 'type', 'title'],
    relations: new Map([['parent', { all: ['id', 'title', 'type'], defaults: ['id', 'title'], relations: new Map() }]]),
  };
  const names = (param?: string) => selectFields(param, catalogue).order;

  it('starts from the defaults, all fields (*) or none (_)', () => {
    expect(names()).toEqual(['id', 'title', 'type']);
    expect(names('*')).toEqual(['id', 'title', 'body', 'type', 'slug', 'parent']);
    expect(names('_,slug')).toEqual(['slug']);
    expect(names('body,-type')).toEqual(['id', 'title', 'body']);
  });

  it('outputs in catalogue order, not request order', () => {
    expect(names('_,slug,id')).toEqual(['id', 'slug']);
  });

  it('reports unknown fields sorted, negated ones too', () => {
    expect(() => names('abc,-123,title')).toThrow('unknown fields: 123, abc');
  });

  it('selects nested fields of relations only', () => {
    expect(selectFields('parent(type)', catalogue).nested.get('parent')?.order).toEqual(['id', 'title', 'type']);
    expect(() => names('title(foo)')).toThrow("'title' does not support nested fields");
    expect(() => names('parent(nope)')).toThrow('unknown fields: nope');
  });

  it('prefixes grammar errors with "fields error:"', () => {
    expect(() => names('title,*')).toThrow("fields error: '*' must be in the first position");
  });
});
