import { describe, expect, it } from 'vitest';
import { BLOCKS_DIR, PAGE_TYPES_DIR } from '../../../src/app.js';
import { BlockRegistry } from '../../../src/blocks/block-registry.js';
import type { StoredBlock } from '../../../src/blocks/clean-value.js';
import type { PageDoc } from '../../../src/content/page-document.js';
import { PageTypeRegistry, type PageType } from '../../../src/content/page-types.js';
import { comparePages } from '../../../src/history/diff/compare-pages.js';

const registry = BlockRegistry.load(BLOCKS_DIR);
const pageTypes = PageTypeRegistry.load(PAGE_TYPES_DIR, registry);
const lesson = pageTypes.get('lesson') as PageType;

// Readable stand-ins for block UUIDs: the diff never looks at their shape.
const heading = (id: string, text: string): StoredBlock => ({ type: 'heading', value: text, id });
const lessonPage = (body: StoredBlock[], members: Partial<PageDoc> = {}): PageDoc => ({
  id: 7, type: 'lesson', parent: 1, title: 'Tensors', slug: 'tensors', seo_title: '', search_description: '', show_in_menus: false,
  intro: 'Make tensors and compute on the GPU.', environment: 'pytorch-2.4-cuda', body, ...members,
});
const compare = (from: PageDoc, to: PageDoc, type: PageType | undefined = lesson) => comparePages({ registry, type, from, to });
const headings = (...ids: string[]) => ids.map((id) => heading(id, `Section ${id}`));
/** The shape of a block diff that tests of ordering care about. */
const outline = (body: { id: string; op: string; moved: boolean; fromIndex?: number; toIndex?: number }[]) =>
  body.map((b) => [b.id, b.op, b.moved, b.fromIndex ?? null, b.toIndex ?? null]);

describe('comparePages: matching and ordering', () => {
  it('reports identical revisions as all unchanged, nothing moved, no field changes', () => {
    const doc = lessonPage(headings('a', 'b', 'c'));
    const result = compare(doc, structuredClone(doc));
    expect(result).toEqual({
      stats: { added: 0, removed: 0, moved: 0, changed: 0, unchanged: 3 },
      fields: [],
      body: [
        { field: 'body', id: 'a', type: 'heading', op: 'unchanged', moved: false, fromIndex: 0, toIndex: 0 },
        { field: 'body', id: 'b', type: 'heading', op: 'unchanged', moved: false, fromIndex: 1, toIndex: 1 },
        { field: 'body', id: 'c', type: 'heading', op: 'unchanged', moved: false, fromIndex: 2, toIndex: 2 },
      ],
    });
  });

  it('flags as moved only the blocks outside the longest common subsequence of ids', () => {
    const result = compare(lessonPage(headings('a', 'b', 'c', 'd', 'e')), lessonPage(headings('a', 'd', 'b', 'c', 'e')));
    expect(result.fields).toEqual([]);
    expect(outline(result.body)).toEqual([
      ['a', 'unchanged', false, 0, 0],
      ['d', 'unchanged', true, 3, 1],
      ['b', 'unchanged', false, 1, 2],
      ['c', 'unchanged', false, 2, 3],
      ['e', 'unchanged', false, 4, 4],
    ]);
    expect(result.body.every((b) => b.changes === undefined && b.value === undefined)).toBe(true);
    expect(result.stats).toEqual({ added: 0, removed: 0, moved: 1, changed: 0, unchanged: 5 });
  });

  it('moves the first block to the end as one move, not four', () => {
    const result = compare(lessonPage(headings('a', 'b', 'c', 'd', 'e')), lessonPage(headings('b', 'c', 'd', 'e', 'a')));
    expect(result.body.filter((b) => b.moved).map((b) => b.id)).toEqual(['a']);
    expect(result.stats.moved).toBe(1);
  });

  it('matches by id, not position: a block inserted at the top shifts nothing', () => {
    const result = compare(lessonPage(headings('a', 'b')), lessonPage([heading('n', 'New'), ...headings('a', 'b')]));
    expect(result.body).toEqual([
      { field: 'body', id: 'n', type: 'heading', op: 'added', moved: false, toIndex: 0, value: 'New' },
      { field: 'body', id: 'a', type: 'heading', op: 'unchanged', moved: false, fromIndex: 0, toIndex: 1 },
      { field: 'body', id: 'b', type: 'heading', op: 'unchanged', moved: false, fromIndex: 1, toIndex: 2 },
    ]);
  });

  it('puts removed blocks where they were: after the block that preceded them, in their old order', () => {
    const result = compare(lessonPage(headings('a', 'b', 'c', 'd', 'e')), lessonPage([...headings('d', 'a'), heading('n', 'New')]));
    // b and c followed a; e followed d; d left the LCS (a, d would need d after a).
    expect(outline(result.body)).toEqual([
      ['d', 'unchanged', true, 3, 0],
      ['e', 'removed', false, 4, null],
      ['a', 'unchanged', false, 0, 1],
      ['b', 'removed', false, 1, null],
      ['c', 'removed', false, 2, null],
      ['n', 'added', false, null, 2],
    ]);
    expect(result.body[1]).toEqual({ field: 'body', id: 'e', type: 'heading', op: 'removed', moved: false, fromIndex: 4, value: 'Section e' });
    expect(result.stats).toEqual({ added: 1, removed: 3, moved: 1, changed: 0, unchanged: 2 });
  });

  it('puts a removed first block first', () => {
    const result = compare(lessonPage(headings('a', 'b')), lessonPage([heading('n', 'New'), ...headings('b')]));
    expect(outline(result.body)).toEqual([['a', 'removed', false, 0, null], ['n', 'added', false, null, 0], ['b', 'unchanged', false, 1, 1]]);
  });

  it('reports a moved and edited block as changed and moved', () => {
    const result = compare(lessonPage(headings('a', 'b', 'c')), lessonPage([heading('c', 'Section c, revised'), ...headings('a', 'b')]));
    expect(result.body[0]).toEqual({
      field: 'body', id: 'c', type: 'heading', op: 'changed', moved: true, fromIndex: 2, toIndex: 0,
      changes: [{ path: [], kind: 'text', segments: [{ op: 'eq', text: 'Section c' }, { op: 'ins', text: ', revised' }] }],
    });
    expect(result.stats).toEqual({ added: 0, removed: 0, moved: 1, changed: 1, unchanged: 2 });
  });

  it('counts every op over a realistic revision', () => {
    const from = lessonPage([
      heading('h1', '텐서란 무엇인가'),
      { type: 'paragraph', value: '<p><b>텐서</b>는 다차원 배열입니다.</p>', id: 'p1' },
      { type: 'jupyter', value: { code: 'import torch\nprint(torch.ones(2))', kernel: 'python3' }, id: 'j1' },
      { type: 'image', value: 12, id: 'i1' },
      { type: 'embed', value: 'https://www.youtube.com/watch?v=aircAruvnKk', id: 'e1' },
    ]);
    const to = lessonPage([
      heading('h1', '텐서란 무엇인가'),
      { type: 'jupyter', value: { code: 'import torch\nprint(torch.ones(2))', kernel: 'python3' }, id: 'j1' },
      { type: 'paragraph', value: '<p><b>텐서</b>는 고차원 배열입니다.</p>', id: 'p1' },
      { type: 'image', value: 13, id: 'i1' },
      { type: 'text', value: '다음 강에서는 자동 미분을 다룹니다.', id: 't1' },
    ]);
    const result = compare(from, to);
    expect(outline(result.body)).toEqual([
      ['h1', 'unchanged', false, 0, 0],
      ['j1', 'unchanged', true, 2, 1],
      ['p1', 'changed', false, 1, 2],
      ['i1', 'changed', false, 3, 3],
      ['e1', 'removed', false, 4, null],
      ['t1', 'added', false, null, 4],
    ]);
    expect(result.body[3]!.changes).toEqual([{ path: [], kind: 'scalar', before: 12, after: 13 }]);
    expect(result.stats).toEqual({ added: 1, removed: 1, moved: 1, changed: 2, unchanged: 2 });
  });
});

describe('comparePages: page fields', () => {
  it('diffs the title and intro as words and the slug, environment and flags as scalars, in document order', () => {
    const from = lessonPage([], { title: '딥러닝 기초 1강', intro: 'Make tensors and compute on the GPU.' });
    const to = lessonPage([], {
      title: '딥러닝 기초 2강', slug: 'deep-learning-2', parent: 3, show_in_menus: true, seo_title: 'Deep learning 2',
      intro: 'Make tensors and compute on a GPU.', environment: 'pytorch-2.5-cuda',
    });
    expect(compare(from, to)).toEqual({
      stats: { added: 0, removed: 0, moved: 0, changed: 0, unchanged: 0 },
      body: [],
      fields: [
        { path: ['parent'], kind: 'scalar', before: 1, after: 3 },
        // Unicode word boundaries part the number from the syllable in "1강": whole tokens, never half a syllable.
        { path: ['title'], kind: 'text', segments: [{ op: 'eq', text: '딥러닝 기초 ' }, { op: 'del', text: '1' }, { op: 'ins', text: '2' }, { op: 'eq', text: '강' }] },
        { path: ['slug'], kind: 'scalar', before: 'tensors', after: 'deep-learning-2' },
        { path: ['seo_title'], kind: 'text', segments: [{ op: 'ins', text: 'Deep learning 2' }] },
        { path: ['show_in_menus'], kind: 'scalar', before: false, after: true },
        {
          path: ['intro'], kind: 'text',
          segments: [{ op: 'eq', text: 'Make tensors and compute on ' }, { op: 'del', text: 'the' }, { op: 'ins', text: 'a' }, { op: 'eq', text: ' GPU.' }],
        },
        { path: ['environment'], kind: 'scalar', before: 'pytorch-2.4-cuda', after: 'pytorch-2.5-cuda' },
      ],
    });
  });

  it('diffs a rich-text page field (a course intro) as rich text', () => {
    const index = pageTypes.get('lesson_index');
    const page = (intro: string): PageDoc => ({
      id: 2, type: 'lesson_index', parent: null, title: 'Deep learning', slug: 'deep-learning', seo_title: '', search_description: '', show_in_menus: true, intro,
    });
    expect(compare(page('<p>Ten <b>lessons</b>.</p>'), page('<p>Twelve <b>lessons</b>.</p>'), index).fields).toEqual([{
      path: ['intro'], kind: 'richtext', formattingChanged: false, before: '<p>Ten <b>lessons</b>.</p>', after: '<p>Twelve <b>lessons</b>.</p>',
      segments: [{ op: 'del', text: 'Ten' }, { op: 'ins', text: 'Twelve' }, { op: 'eq', text: ' lessons.' }],
    }]);
  });

  it('reports a field present on one side only as a replace with null', () => {
    const to = lessonPage([]);
    const from = lessonPage([]);
    delete from.intro;
    expect(compare(from, to).fields).toEqual([{ path: ['intro'], kind: 'replace', before: null, after: 'Make tensors and compute on the GPU.' }]);
  });

  it('lists the blocks of every stream field, field by field in declaration order', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lectern-types-'));
    try {
      writeFileSync(join(dir, 'handout.json'), JSON.stringify({
        $id: 'https://lectern.dev/schemas/page-types/handout.json', name: 'handout', label: 'Handout',
        fields: { body: { kind: 'stream', blocks: ['heading', 'text'] }, note: { kind: 'value', schema: { type: 'string' } }, sidebar: { kind: 'stream', blocks: ['heading'] } },
      }));
      const handout = PageTypeRegistry.load(dir, registry).get('handout');
      const page = (body: StoredBlock[], sidebar: StoredBlock[], note: string): PageDoc => ({
        id: 3, type: 'handout', parent: null, title: 'H', slug: 'h', seo_title: '', search_description: '', show_in_menus: false, body, note, sidebar,
      });
      const result = compare(page(headings('a'), headings('s1', 's2'), 'x'), page(headings('a', 'b'), headings('s2'), 'y'), handout);
      expect(result.body.map((b) => [b.field, b.id, b.op])).toEqual([
        ['body', 'a', 'unchanged'], ['body', 'b', 'added'], ['sidebar', 's1', 'removed'], ['sidebar', 's2', 'unchanged'],
      ]);
      expect(result.fields).toEqual([{ path: ['note'], kind: 'text', segments: [{ op: 'del', text: 'x' }, { op: 'ins', text: 'y' }] }]);
      expect(result.stats).toEqual({ added: 1, removed: 1, moved: 0, changed: 0, unchanged: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists a changed page type as a scalar', () => {
    const result = compare(lessonPage([]), { ...lessonPage([]), type: 'lesson_index' });
    expect(result.fields).toEqual([{ path: ['type'], kind: 'scalar', before: 'lesson', after: 'lesson_index' }]);
  });
});
