import { describe, expect, it } from 'vitest';
import { BLOCKS_DIR, PAGE_TYPES_DIR } from '../../src/app.js';
import { BlockRegistry } from '../../src/blocks/block-registry.js';
import { mergeDrafts } from '../../src/content/merge-drafts.js';
import type { PageDoc } from '../../src/content/page-document.js';
import { PageTypeRegistry } from '../../src/content/page-types.js';

const types = PageTypeRegistry.load(PAGE_TYPES_DIR, BlockRegistry.load(BLOCKS_DIR));
const lesson = types.get('lesson')!;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const para = (n: number, text = `p${n}`) => ({ type: 'paragraph', value: `<p>${text}</p>`, id: id(n) });
const base: PageDoc = {
  id: 1, type: 'lesson', parent: null, title: 'T', slug: 't', seo_title: '', search_description: '', show_in_menus: false,
  intro: 'intro', body: [para(1), para(2), para(3), para(4)],
};
const withBody = (body: unknown[], extra: Partial<PageDoc> = {}): PageDoc => ({ ...base, ...extra, body });
const bodyText = (doc: PageDoc | null) => (doc?.body as { value: string }[]).map((b) => b.value);

describe('mergeDrafts', () => {
  it('keeps both edits when they touch different blocks', () => {
    const ours = withBody([para(1, 'ours'), para(2), para(3), para(4)]);
    const theirs = withBody([para(1), para(2), para(3, 'theirs'), para(4)]);
    const r = mergeDrafts(lesson, base, ours, theirs);
    expect(r.conflicts).toEqual([]);
    expect(bodyText(r.doc)).toEqual(['<p>ours</p>', '<p>p2</p>', '<p>theirs</p>', '<p>p4</p>']);
  });

  it('keeps both edits when they touch different fields', () => {
    const r = mergeDrafts(lesson, base, { ...base, title: 'Ours' }, { ...base, intro: 'theirs' });
    expect(r.doc).toMatchObject({ title: 'Ours', intro: 'theirs' });
  });

  it('reports the same field or block changed on both sides, with its path', () => {
    const r = mergeDrafts(lesson, base, withBody([para(1), para(2, 'a'), para(3), para(4)], { title: 'A' }), withBody([para(1), para(2, 'b'), para(3), para(4)], { title: 'B' }));
    expect(r.doc).toBeNull();
    expect(r.conflicts).toEqual([
      { path: '/title', message: 'both edits change title' },
      { path: '/body/1', block_id: id(2), message: 'both edits change this paragraph block' },
    ]);
  });

  it('does not count an identical change on both sides as a conflict', () => {
    const same = withBody([para(1, 'x'), para(2), para(3), para(4)]);
    expect(mergeDrafts(lesson, base, same, same).doc).toEqual(same);
  });

  it('reports a change to a block the other side removed, either way round', () => {
    const removed = withBody([para(1), para(3), para(4)]);
    const changed = withBody([para(1), para(2, 'edited'), para(3), para(4)]);
    expect(mergeDrafts(lesson, base, removed, changed).conflicts[0]).toMatchObject({ block_id: id(2), message: expect.stringContaining('removed meanwhile') });
    expect(mergeDrafts(lesson, base, changed, removed).conflicts[0]).toMatchObject({ path: '/body/1', block_id: id(2), message: expect.stringContaining('changed meanwhile') });
  });

  it('puts blocks added on each side after the block they followed', () => {
    const ours = withBody([para(1), para(10, 'ours new'), para(2), para(3), para(4)]);
    const theirs = withBody([para(1), para(2), para(3), para(11, 'theirs new'), para(4)]);
    expect(bodyText(mergeDrafts(lesson, base, ours, theirs).doc)).toEqual(['<p>p1</p>', '<p>ours new</p>', '<p>p2</p>', '<p>p3</p>', '<p>theirs new</p>', '<p>p4</p>']);
    const first = withBody([para(12, 'first'), para(1), para(2), para(3), para(4)]);
    expect(bodyText(mergeDrafts(lesson, base, ours, first).doc)?.[0]).toBe('<p>first</p>');
  });

  it('applies a reorder from one side to the other side\'s content, and refuses two different reorders', () => {
    const reordered = withBody([para(4), para(1), para(2), para(3)]);
    const edited = withBody([para(1), para(2, 'edited'), para(3), para(4)]);
    expect(bodyText(mergeDrafts(lesson, base, edited, reordered).doc)).toEqual(['<p>p4</p>', '<p>p1</p>', '<p>edited</p>', '<p>p3</p>']);
    expect(bodyText(mergeDrafts(lesson, base, reordered, edited).doc)).toEqual(['<p>p4</p>', '<p>p1</p>', '<p>edited</p>', '<p>p3</p>']);
    const other = withBody([para(2), para(1), para(3), para(4)]);
    expect(mergeDrafts(lesson, base, reordered, other).conflicts).toEqual([{ path: '/body', message: 'both edits reorder the body blocks' }]);
  });

  it('applies a removal from one side to the other', () => {
    const removed = withBody([para(1), para(2), para(4)]);
    const edited = withBody([para(1, 'x'), para(2), para(3), para(4)]);
    expect(bodyText(mergeDrafts(lesson, base, edited, removed).doc)).toEqual(['<p>x</p>', '<p>p2</p>', '<p>p4</p>']);
  });
});
