import { describe, expect, it } from 'vitest';
import { BLOCKS_DIR, PAGE_TYPES_DIR } from '../../../src/app.js';
import { createAjv } from '../../../src/blocks/ajv.js';
import { BlockRegistry } from '../../../src/blocks/block-registry.js';
import type { PageDoc } from '../../../src/content/page-document.js';
import { PageTypeRegistry } from '../../../src/content/page-types.js';
import type { PageCompare } from '../../../src/generated/schema-types.js';
import { comparePages } from '../../../src/history/diff/compare-pages.js';
import pageCompareSchema from '../../../schemas/api/page-compare.json' with { type: 'json' };

const registry = BlockRegistry.load(BLOCKS_DIR);
const lesson = PageTypeRegistry.load(PAGE_TYPES_DIR, registry).get('lesson');
const validate = createAjv().compile(pageCompareSchema);

const page = (body: unknown[], members: Partial<PageDoc> = {}): PageDoc => ({
  id: 7, type: 'lesson', parent: null, title: 'Tensors', slug: 'tensors', seo_title: '', search_description: '', show_in_menus: false,
  intro: 'Make tensors.', environment: 'pytorch-2.4-cuda', body, ...members,
});
const revision = (n: number) => ({ revision: n, commit: String(n).repeat(40), author: 'editor', created_at: '2025-01-02T03:04:05Z' });

describe('schemas/api/page-compare.json', () => {
  it('describes a compare response with every kind of change', () => {
    const quiz = (texts: string[]) => ({ question: '<p>Q?</p>', choices: texts.map((text, i) => ({ type: 'item', value: { text, correct: i === 0 }, id: `c${i}` })) });
    const from = page([
      { type: 'heading', value: 'Intro', id: 'h' },
      { type: 'paragraph', value: '<p>Tensors are arrays.</p>', id: 'p' },
      { type: 'jupyter', value: { code: 'x = 1', kernel: 'python3' }, id: 'j' },
      { type: 'quiz', value: quiz(['A', 'B']), id: 'q' },
      { type: 'image', value: 3, id: 'i' },
      { type: 'poll', value: { any: 'thing' }, id: 'u' },
      { type: 'text', value: 'gone', id: 'r' },
    ]);
    const to = page([
      { type: 'paragraph', value: '<p>Intro</p>', id: 'h' },
      { type: 'jupyter', value: { code: 'x = 2', kernel: 'python3' }, id: 'j' },
      { type: 'paragraph', value: '<p>Tensors are <b>arrays</b>.</p>', id: 'p' },
      { type: 'quiz', value: quiz(['A', 'B', 'C']), id: 'q' },
      { type: 'image', value: 4, id: 'i' },
      { type: 'poll', value: 'other', id: 'u' },
      { type: 'text', value: 'new', id: 'n' },
    ], { title: 'Tensors 101', slug: 'tensors-101' });
    const response: PageCompare = { page: 7, from: revision(1), to: revision(2), ...comparePages({ registry, type: lesson, from, to }) };
    expect(new Set(JSON.stringify(response).match(/"kind":"\w+"/g))).toEqual(new Set(
      ['text', 'richtext', 'code', 'scalar', 'list', 'typeChange', 'replace'].map((k) => `"kind":"${k}"`),
    ));
    const valid = validate(JSON.parse(JSON.stringify(response)));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });
});
