import { describe, expect, it } from 'vitest';
import { BLOCKS_DIR, PAGE_TYPES_DIR } from '../../../src/app.js';
import { BlockRegistry } from '../../../src/blocks/block-registry.js';
import type { PageDoc } from '../../../src/content/page-document.js';
import { PageTypeRegistry, type PageType } from '../../../src/content/page-types.js';
import { comparePages } from '../../../src/history/diff/compare-pages.js';

const registry = BlockRegistry.load(BLOCKS_DIR);
const lesson = PageTypeRegistry.load(PAGE_TYPES_DIR, registry).get('lesson') as PageType;

const lessonPage = (body: unknown): PageDoc => ({
  id: 7, type: 'lesson', parent: 1, title: 'Tensors', slug: 'tensors', seo_title: '', search_description: '', show_in_menus: false,
  intro: 'Make tensors.', environment: 'pytorch-2.4-cuda', body,
});
/** The one block diff of a one-block body whose value went from `before` to `after`. */
function diffOne(type: string, before: unknown, after: unknown, afterType = type) {
  const result = comparePages({
    registry, type: lesson, from: lessonPage([{ type, value: before, id: 'x' }]), to: lessonPage([{ type: afterType, value: after, id: 'x' }]),
  });
  expect(result.body).toHaveLength(1);
  return result.body[0]!;
}
const item = (id: string, value: unknown) => ({ type: 'item', value, id });

describe('block changes: text and rich text', () => {
  it('splits Korean text at word boundaries', () => {
    expect(diffOne('text', '텐서는 다차원 배열입니다', '텐서는 고차원 배열입니다')).toEqual({
      field: 'body', id: 'x', type: 'text', op: 'changed', moved: false, fromIndex: 0, toIndex: 0,
      changes: [{
        path: [], kind: 'text',
        segments: [{ op: 'eq', text: '텐서는 ' }, { op: 'del', text: '다차원' }, { op: 'ins', text: '고차원' }, { op: 'eq', text: ' 배열입니다' }],
      }],
    });
  });

  it('diffs an edit inside a paragraph as words over its visible text', () => {
    const before = '<p>Gradient descent takes <b>small</b> steps &amp; stops at a minimum.</p>';
    const after = '<p>Gradient descent takes <b>tiny</b> steps &amp; stops near a minimum.</p>';
    expect(diffOne('paragraph', before, after).changes).toEqual([{
      path: [], kind: 'richtext', formattingChanged: false, before, after,
      segments: [
        { op: 'eq', text: 'Gradient descent takes ' }, { op: 'del', text: 'small' }, { op: 'ins', text: 'tiny' },
        { op: 'eq', text: ' steps & stops ' }, { op: 'del', text: 'at' }, { op: 'ins', text: 'near' }, { op: 'eq', text: ' a minimum.' },
      ],
    }]);
  });

  it('reads a paragraph break as a line break', () => {
    const change = diffOne('paragraph', '<p>One. Two.</p>', '<p>One.</p><p>Two.</p>').changes![0]!;
    expect(change).toMatchObject({
      formattingChanged: false,
      segments: [{ op: 'eq', text: 'One.' }, { op: 'del', text: ' ' }, { op: 'ins', text: '\n' }, { op: 'eq', text: 'Two.' }],
    });
  });

  it('flags a formatting-only change, with the text all equal', () => {
    const before = '<p>텐서는 다차원 배열입니다.</p>';
    const after = '<p><b>텐서</b>는 <a href="https://pytorch.org/">다차원 배열</a>입니다.</p>';
    expect(diffOne('paragraph', before, after).changes).toEqual([{
      path: [], kind: 'richtext', formattingChanged: true, before, after, segments: [{ op: 'eq', text: '텐서는 다차원 배열입니다.' }],
    }]);
  });

  it('folds a space between two changed words into one replacement', () => {
    expect(diffOne('heading', 'The quick brown fox', 'The slow red fox').changes).toEqual([{
      path: [], kind: 'text', segments: [{ op: 'eq', text: 'The ' }, { op: 'del', text: 'quick brown' }, { op: 'ins', text: 'slow red' }, { op: 'eq', text: ' fox' }],
    }]);
  });
});

describe('block changes: code and object values', () => {
  it('diffs the code of a Jupyter cell by line, and its kernel as a scalar', () => {
    const before = { code: 'import torch\nx = torch.arange(6)\nprint(x)', kernel: 'python3' };
    const after = { code: 'import torch\nx = torch.arange(12).reshape(3, 4)\nprint(x)\nprint(x.shape)', kernel: 'python3-gpu' };
    expect(diffOne('jupyter', before, after).changes).toEqual([
      {
        path: ['code'], kind: 'code',
        hunks: [
          { op: 'eq', lines: ['import torch'] },
          { op: 'del', lines: ['x = torch.arange(6)'] },
          { op: 'ins', lines: ['x = torch.arange(12).reshape(3, 4)'] },
          { op: 'eq', lines: ['print(x)'] },
          { op: 'ins', lines: ['print(x.shape)'] },
        ],
      },
      { path: ['kernel'], kind: 'scalar', before: 'python3', after: 'python3-gpu' },
    ]);
  });

  it('reports an optional property that appears as a replace from null', () => {
    expect(diffOne('jupyter', { code: 'x', kernel: 'python3' }, { code: 'x', kernel: 'python3', environment: 'pytorch-2.4-cuda' }).changes)
      .toEqual([{ path: ['environment'], kind: 'replace', before: null, after: 'pytorch-2.4-cuda' }]);
  });

  it('diffs a code block: the language as a scalar, the source by line', () => {
    expect(diffOne('code', { language: 'bash', source: 'pip install torch\n' }, { language: 'shell', source: 'pip install torch torchvision\n' }).changes).toEqual([
      { path: ['language'], kind: 'scalar', before: 'bash', after: 'shell' },
      { path: ['source'], kind: 'code', hunks: [{ op: 'del', lines: ['pip install torch'] }, { op: 'ins', lines: ['pip install torch torchvision'] }, { op: 'eq', lines: [''] }] },
    ]);
  });

  it('compares references and URLs as scalars', () => {
    expect(diffOne('image', 3, 4).changes).toEqual([{ path: [], kind: 'scalar', before: 3, after: 4 }]);
    expect(diffOne('embed', 'https://youtu.be/a', 'https://youtu.be/b').changes).toEqual([{ path: [], kind: 'scalar', before: 'https://youtu.be/a', after: 'https://youtu.be/b' }]);
  });
});

describe('block changes: lists, nested streams, type changes', () => {
  const quiz = (choices: unknown[]) => ({ question: '<p>What is a tensor?</p>', choices });

  it('diffs a quiz choice list by item id: one removed, one added, one edited', () => {
    const before = quiz([item('c1', { text: 'A list', correct: false }), item('c2', { text: 'A matrix', correct: false }), item('c3', { text: 'An n-dimensional array', correct: true })]);
    const after = quiz([item('c1', { text: 'A list', correct: false }), item('c3', { text: 'An n-dimensional array', correct: true }), item('c4', { text: 'A scalar', correct: false })]);
    after.choices[0] = item('c1', { text: 'A Python list', correct: false });
    expect(diffOne('quiz', before, after).changes).toEqual([{
      path: ['choices'], kind: 'list',
      items: [
        {
          id: 'c1', type: 'item', op: 'changed', moved: false, fromIndex: 0, toIndex: 0,
          changes: [{ path: ['text'], kind: 'text', segments: [{ op: 'eq', text: 'A ' }, { op: 'ins', text: 'Python ' }, { op: 'eq', text: 'list' }] }],
        },
        { id: 'c2', type: 'item', op: 'removed', moved: false, fromIndex: 1, value: { text: 'A matrix', correct: false } },
        { id: 'c3', type: 'item', op: 'unchanged', moved: false, fromIndex: 2, toIndex: 1 },
        { id: 'c4', type: 'item', op: 'added', moved: false, toIndex: 2, value: { text: 'A scalar', correct: false } },
      ],
    }]);
  });

  it('diffs struct children: a changed question and a flipped answer', () => {
    const before = quiz([item('c1', { text: 'Yes', correct: false }), item('c2', { text: 'No', correct: true })]);
    const after = { ...quiz([item('c1', { text: 'Yes', correct: true }), item('c2', { text: 'No', correct: true })]), question: '<p>Is a matrix a tensor?</p>' };
    expect(diffOne('quiz', before, after).changes).toEqual([
      {
        path: ['question'], kind: 'richtext', formattingChanged: false, before: '<p>What is a tensor?</p>', after: '<p>Is a matrix a tensor?</p>',
        segments: [{ op: 'del', text: 'What is' }, { op: 'ins', text: 'Is a matrix' }, { op: 'eq', text: ' a tensor?' }],
      },
      {
        path: ['choices'], kind: 'list',
        items: [
          { id: 'c1', type: 'item', op: 'changed', moved: false, fromIndex: 0, toIndex: 0, changes: [{ path: ['correct'], kind: 'scalar', before: false, after: true }] },
          { id: 'c2', type: 'item', op: 'unchanged', moved: false, fromIndex: 1, toIndex: 1 },
        ],
      },
    ]);
  });

  it('reports a struct child that appears as a replace from null', () => {
    const before = quiz([item('c1', { text: 'Yes', correct: true }), item('c2', { text: 'No', correct: false })]);
    expect(diffOne('quiz', before, { ...before, explanation: '<p>Because.</p>' }).changes).toEqual([{ path: ['explanation'], kind: 'replace', before: null, after: '<p>Because.</p>' }]);
  });

  it('diffs the nested streams of an exercise: a block added to the instructions, one removed from the solution', () => {
    const before = {
      title: 'Reshape a tensor',
      instructions: [{ type: 'paragraph', value: '<p>Make a 2×3 tensor.</p>', id: 'i1' }],
      solution: [{ type: 'jupyter', value: { code: 'x = torch.arange(6)', kernel: 'python3' }, id: 's1' }, { type: 'paragraph', value: '<p>Done.</p>', id: 's2' }],
    };
    const after = {
      title: 'Reshape a tensor',
      instructions: [{ type: 'paragraph', value: '<p>Make a 2×3 tensor.</p>', id: 'i1' }, { type: 'jupyter', value: { code: 'x = ...', kernel: 'python3' }, id: 'i2' }],
      solution: [{ type: 'jupyter', value: { code: 'x = torch.arange(6)', kernel: 'python3' }, id: 's1' }],
    };
    expect(diffOne('exercise', before, after)).toEqual({
      field: 'body', id: 'x', type: 'exercise', op: 'changed', moved: false, fromIndex: 0, toIndex: 0,
      changes: [
        {
          path: ['instructions'], kind: 'list',
          items: [
            { id: 'i1', type: 'paragraph', op: 'unchanged', moved: false, fromIndex: 0, toIndex: 0 },
            { id: 'i2', type: 'jupyter', op: 'added', moved: false, toIndex: 1, value: { code: 'x = ...', kernel: 'python3' } },
          ],
        },
        {
          path: ['solution'], kind: 'list',
          items: [
            { id: 's1', type: 'jupyter', op: 'unchanged', moved: false, fromIndex: 0, toIndex: 0 },
            { id: 's2', type: 'paragraph', op: 'removed', moved: false, fromIndex: 1, value: '<p>Done.</p>' },
          ],
        },
      ],
    });
  });

  it('reports a nested-stream reorder as moved items', () => {
    const stream = (ids: string[]) => ({ title: 'T', instructions: ids.map((id) => ({ type: 'text', value: id, id })) });
    const change = diffOne('exercise', stream(['a', 'b', 'c']), stream(['c', 'a', 'b'])).changes![0]!;
    expect(change.kind === 'list' && change.items.map((i) => [i.id, i.op, i.moved])).toEqual([['c', 'unchanged', true], ['a', 'unchanged', false], ['b', 'unchanged', false]]);
  });

  it('reports a block that kept its id but changed type as a type change', () => {
    expect(diffOne('heading', 'Tensors', '<p>Tensors</p>', 'paragraph')).toEqual({
      field: 'body', id: 'x', type: 'paragraph', op: 'changed', moved: false, fromIndex: 0, toIndex: 0,
      changes: [{ path: [], kind: 'typeChange', before: { type: 'heading', value: 'Tensors' }, after: { type: 'paragraph', value: '<p>Tensors</p>' } }],
    });
  });
});

describe('block changes: odd input never throws', () => {
  it('replaces the value of an unknown block type', () => {
    expect(diffOne('poll', { q: 1 }, { q: 2 }).changes).toEqual([{ path: [], kind: 'replace', before: { q: 1 }, after: { q: 2 } }]);
  });

  it('replaces a value whose shape changed', () => {
    expect(diffOne('jupyter', { code: 'x' }, 'x').changes).toEqual([{ path: [], kind: 'replace', before: { code: 'x' }, after: 'x' }]);
    expect(diffOne('quiz', { question: '<p>Q</p>', choices: 'none' }, { question: '<p>Q</p>', choices: [] }).changes)
      .toEqual([{ path: ['choices'], kind: 'replace', before: 'none', after: [] }]);
  });

  it('pairs repeated ids by occurrence and blocks without ids likewise', () => {
    const from = lessonPage([{ type: 'heading', value: 'A', id: 'dup' }, { type: 'heading', value: 'B', id: 'dup' }, { type: 'text', value: 'no id' }]);
    const to = lessonPage([{ type: 'heading', value: 'B', id: 'dup' }, { type: 'text', value: 'no id' }]);
    const result = comparePages({ registry, type: lesson, from, to });
    // The first "dup" pairs with the first (A → B), the second has no partner.
    expect(result.body.map((b) => [b.id, b.op, b.fromIndex ?? null, b.toIndex ?? null])).toEqual([
      ['dup', 'changed', 0, 0], ['dup', 'removed', 1, null], ['', 'unchanged', 2, 1],
    ]);
    expect(result.stats).toEqual({ added: 0, removed: 1, moved: 0, changed: 1, unchanged: 1 });
  });

  it('copes with a missing body, non-block entries and a body that is not a list', () => {
    const noBody = lessonPage(undefined);
    delete (noBody as Record<string, unknown>).body;
    expect(comparePages({ registry, type: lesson, from: noBody, to: lessonPage([42, { type: 'heading', value: 'A', id: 'a' }]) }).body).toEqual([
      { field: 'body', id: '', type: '', op: 'added', moved: false, toIndex: 0, value: 42 },
      { field: 'body', id: 'a', type: 'heading', op: 'added', moved: false, toIndex: 1, value: 'A' },
    ]);
    expect(comparePages({ registry, type: lesson, from: lessonPage('oops'), to: lessonPage([]) })).toEqual({
      stats: { added: 0, removed: 0, moved: 0, changed: 0, unchanged: 0 }, body: [], fields: [{ path: ['body'], kind: 'replace', before: 'oops', after: [] }],
    });
  });

  it('with no page type, diffs arrays of blocks as streams and other members generically', () => {
    const from = { ...lessonPage([{ type: 'heading', value: 'A', id: 'a' }]), type: 'gone', extra: { n: 1 } };
    const to = { ...lessonPage([{ type: 'heading', value: 'A!', id: 'a' }]), type: 'gone', intro: 'Make more tensors.', extra: { n: 2 } };
    expect(comparePages({ registry, type: undefined, from, to })).toEqual({
      stats: { added: 0, removed: 0, moved: 0, changed: 1, unchanged: 0 },
      fields: [
        { path: ['intro'], kind: 'text', segments: [{ op: 'eq', text: 'Make ' }, { op: 'ins', text: 'more ' }, { op: 'eq', text: 'tensors.' }] },
        { path: ['extra'], kind: 'replace', before: { n: 1 }, after: { n: 2 } },
      ],
      body: [{
        field: 'body', id: 'a', type: 'heading', op: 'changed', moved: false, fromIndex: 0, toIndex: 0,
        changes: [{ path: [], kind: 'text', segments: [{ op: 'eq', text: 'A' }, { op: 'ins', text: '!' }] }],
      }],
    });
  });
});
