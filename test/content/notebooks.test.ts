import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLOCKS_DIR, PAGE_TYPES_DIR } from '../../src/app.js';
import { isBlockId } from '../../src/blocks/block-ids.js';
import { BlockRegistry } from '../../src/blocks/block-registry.js';
import { cleanPageInput } from '../../src/content/clean-page-input.js';
import { exportNotebook } from '../../src/content/notebooks/export-notebook.js';
import { importNotebook, notebookPointer } from '../../src/content/notebooks/import-notebook.js';
import { serializeNotebook, type Notebook } from '../../src/content/notebooks/nbformat.js';
import type { PageDoc } from '../../src/content/page-document.js';
import { PageTypeRegistry } from '../../src/content/page-types.js';
import { STRICT } from '../helpers/env.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/notebooks/${name}`, import.meta.url), 'utf8');
const KOREAN = 'linear-regression-ko.ipynb';
const ENGLISH = 'errors-en.ipynb';

/** Debian's nbformat (the pyenv python3 on PATH has none). */
const PYTHON = '/usr/bin/python3';
const HAS_NBFORMAT = spawnSync(PYTHON, ['-c', 'import nbformat'], { stdio: 'ignore' }).status === 0;
/**
 * Validates with nbformat, as read from disk and as `nbformat.reads` gives it; warnings
 * are errors (nbformat only warns about a missing cell id). In strict mode a missing
 * nbformat fails the test instead of skipping it.
 */
const VALIDATE = "import json, sys, warnings, nbformat; warnings.simplefilter('error'); text = sys.stdin.read(); "
  + 'nbformat.validate(json.loads(text)); nbformat.validate(nbformat.reads(text, as_version=4))';
function expectValidNotebook(text: string): void {
  const r = spawnSync(PYTHON, ['-c', VALIDATE], { input: text, encoding: 'utf8' });
  expect(r.error?.message ?? r.stderr, 'nbformat.validate').toBe('');
  expect(r.status).toBe(0);
}
const withNbformat = it.skipIf(!HAS_NBFORMAT && !STRICT);

const blocks = BlockRegistry.load(BLOCKS_DIR);
const types = PageTypeRegistry.load(PAGE_TYPES_DIR, blocks);

/** A payload as createPage stores it (ids given, rich text sanitized), as a page document. */
function save(payload: Record<string, unknown>, id = 7): PageDoc {
  const cleaned = cleanPageInput(types, blocks, payload, null);
  return { ...cleaned.doc, id, parent: null, slug: cleaned.doc.slug ?? 'lesson' } as PageDoc;
}

type Block = { type: string; value: any; id?: string };

describe('importing a notebook', () => {
  it('turns the Korean fixture into a lesson: title, intro, headings, paragraphs, jupyter cells with outputs', () => {
    const { payload, warnings } = importNotebook(fixture(KOREAN), { filename: KOREAN });
    expect(payload.title).toBe('파이썬으로 선형 회귀 시작하기');
    expect(payload.intro).toBe('이 노드에서는 최소제곱법으로 직선을 데이터에 맞춰 봅니다.');
    expect(payload.type).toBe('lesson');
    expect(warnings).toEqual([]);
    const body = payload.body as Block[];
    expect(body.map((b) => b.type)).toEqual(['heading', 'paragraph', 'jupyter', 'heading', 'jupyter', 'block_quote', 'jupyter']);
    expect(body[0]).toEqual({ type: 'heading', value: '1. 데이터 만들기' });
    expect(body[1]!.value).toBe('<p><code>random</code> 모듈로 잡음이 섞인 점들을 만듭니다.</p>');
    expect(body[2]!.value).toEqual({
      code: expect.stringMatching(/^import random\nrandom.seed\(0\)\n/),
      kernel: 'python3',
      outputs: [{ output_type: 'stream', name: 'stdout', text: '50 points\n' }],
      execution_count: 1,
    });
    expect(body[4]!.value.outputs).toEqual([{ output_type: 'execute_result', data: { 'text/plain': '(1.99, 1.05)' }, metadata: {}, execution_count: 2 }]);
    expect(body[5]).toEqual({ type: 'block_quote', value: '기울기가 2에 가깝게 나오면 성공입니다.' });
  });

  it('keeps error and stream outputs and never-run cells of the English fixture', () => {
    const { payload } = importNotebook(fixture(ENGLISH));
    expect(payload.title).toBe('Errors and interrupts');
    expect(payload.intro).toBe('A lesson about what happens when code fails.');
    const body = payload.body as Block[];
    expect(body.map((b) => b.type)).toEqual(['jupyter', 'jupyter', 'paragraph', 'jupyter']);
    expect(body[0]!.value.outputs).toEqual([{ output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['ZeroDivisionError: division by zero'] }]);
    expect(body[1]!.value.outputs.map((o: { name: string }) => o.name)).toEqual(['stderr', 'stdout']);
    expect(body[3]!.value).toEqual({ code: 'while True:\n    pass', kernel: 'python3', outputs: [], execution_count: null });
    // What the import gives is a valid page: the block layer accepts it as it is.
    expect(() => save(payload)).not.toThrow();
  });

  it('joins multi-line sources, stream texts and MIME data, drops members nbformat does not define, and maps raw cells to text', () => {
    const nb = {
      nbformat: 4, nbformat_minor: 4,
      metadata: { kernelspec: { name: 'pytorch-2.4', display_name: 'PyTorch' } },
      cells: [
        { cell_type: 'markdown', metadata: {}, source: ['## Setup\n', '\n', 'Install *this*:\n', '\n', '```bash\n', 'pip install torch\n', '```'] },
        { cell_type: 'code', metadata: {}, execution_count: 4, source: ['x = 1\n', 'x'], outputs: [
          { output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] },
          { output_type: 'display_data', data: { 'text/html': ['<b>', 'x</b>'], 'application/json': { a: [1] }, 'image/png': 'iVBOR\n' }, metadata: { isolated: true }, transient: { display_id: 'x' } },
          { output_type: 'execute_result', execution_count: 4, data: { 'text/plain': ['1'] }, metadata: {}, prompt_number: 4 },
        ] },
        { cell_type: 'raw', metadata: { format: 'text/restructuredtext' }, source: ['.. note::\n', '   raw'] },
        { cell_type: 'markdown', metadata: {}, source: '```python\nprint("hi")\n```' },
        { cell_type: 'markdown', metadata: {}, source: '' },
      ],
    };
    const { payload } = importNotebook(nb, { filename: 'folder/setup-notes.ipynb' });
    expect(payload.title).toBe('setup-notes');
    const body = payload.body as Block[];
    expect(body).toEqual([
      { type: 'heading', value: 'Setup' },
      { type: 'paragraph', value: '<p>Install <em>this</em>:</p>\n<pre><code class="language-bash">pip install torch\n</code></pre>' },
      {
        type: 'jupyter',
        value: {
          code: 'x = 1\nx', kernel: 'pytorch-2.4', execution_count: 4,
          outputs: [
            { output_type: 'stream', name: 'stdout', text: 'a\nb\n' },
            { output_type: 'display_data', data: { 'text/html': '<b>x</b>', 'application/json': { a: [1] }, 'image/png': 'iVBOR\n' }, metadata: { isolated: true } },
            { output_type: 'execute_result', execution_count: 4, data: { 'text/plain': '1' }, metadata: {} },
          ],
        },
      },
      { type: 'text', value: '.. note::\n   raw' },
      { type: 'code', value: { language: 'python', source: 'print("hi")' } },
    ]);
    expect(() => save(payload)).not.toThrow();
  });

  it('cleans stored outputs as a run\'s outputs are cleaned: HTML sanitized, executable MIME types dropped', () => {
    const { payload } = importNotebook({
      nbformat: 4, nbformat_minor: 5, metadata: {},
      cells: [{
        cell_type: 'code', metadata: {}, source: 'df', execution_count: 1,
        outputs: [
          { output_type: 'execute_result', execution_count: 1, metadata: {}, data: { 'text/html': ['<table><tr><td onclick="x()">1</td></tr></table>', '<script>alert(1)</script>'], 'text/plain': '   a\n0  1' } },
          { output_type: 'display_data', metadata: {}, data: { 'application/javascript': 'alert(1)' } },
        ],
      }],
    });
    const outputs = (payload.body as Block[])[0]!.value.outputs;
    expect(outputs[0].data).toEqual({ 'text/html': '<table><tr><td>1</td></tr></table>', 'text/plain': '   a\n0  1' });
    expect(outputs[1].data).toEqual({ 'text/plain': '[output of type application/javascript is not shown]' });
  });

  it('takes the title from the first level-1 heading anywhere, else metadata.title, the file name or "Untitled notebook"', () => {
    const cells = (sources: string[]) => ({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: sources.map((source) => ({ cell_type: 'markdown', metadata: {}, source })) });
    const late = importNotebook(cells(['[![badge](x.svg)](https://x.org)', '# The title\n## First part', '# Another h1']));
    expect(late.payload.title).toBe('The title');
    expect(late.payload.intro).toBeUndefined();
    expect((late.payload.body as Block[]).map((b) => [b.type, b.type === 'heading' ? b.value : '']))
      .toEqual([['paragraph', ''], ['heading', 'First part'], ['heading', 'Another h1']]);
    expect(late.warnings).toEqual([{ path: '/cells/0/source', message: expect.stringContaining('images are not kept') }]);
    expect(importNotebook({ ...cells(['## only h2']), metadata: { title: 'From metadata' } }).payload.title).toBe('From metadata');
    expect(importNotebook(cells(['text']), { filename: '3강 실습.ipynb' }).payload.title).toBe('3강 실습');
    expect(importNotebook(cells([])).payload.title).toBe('Untitled notebook');
    expect(importNotebook(cells(['# Found']), { title: 'Given' }).payload.title).toBe('Given');
  });

  it('renders markdown with HTML, keeps $math$ out of emphasis and demotes h1 inside a paragraph', () => {
    const { payload } = importNotebook({
      nbformat: 4, nbformat_minor: 5, metadata: {},
      cells: [{ cell_type: 'markdown', metadata: {}, source: 'Loss $L = a_1 * b_2$ costs $5 and $6.\n\n# Inside\n\n<kbd>Shift</kbd>+<kbd>Enter</kbd>' }],
    });
    const html = (payload.body as Block[])[0]!.value as string;
    expect(html).toContain('<span class="math math-inline">\\(L = a_1 * b_2\\)</span>');
    expect(html).toContain('costs $5 and $6.');
    expect(html).toContain('<h2>Inside</h2>');
    expect(html).toContain('<kbd>Shift</kbd>');
    const stored = save(payload);
    expect((stored.body as Block[])[0]!.value).toContain('<span class="math math-inline">');
  });

  it('rejects what is not an nbformat 4 notebook with a clear message and a pointer', () => {
    const fail = (input: unknown) => {
      try {
        importNotebook(input);
      } catch (err) {
        return err as { statusCode: number; message: string; errors: { path: string; message: string }[] };
      }
      throw new Error('no error');
    };
    expect(fail('{"cells": [')).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^not a Jupyter notebook: the file is not valid JSON/), errors: [{ path: '' }] });
    expect(fail('[1, 2]').message).toBe('not a Jupyter notebook: expected an object with "nbformat" and "cells"');
    expect(fail({ type: 'lesson', title: 'x', body: [] }).errors[0]!.path).toBe('');
    const v3 = fail({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] });
    expect(v3.message).toContain('only nbformat 4 notebooks can be imported; this file is nbformat 3');
    expect(v3.errors).toEqual([{ path: '/nbformat', message: expect.any(String) }]);
    const cells = fail({
      nbformat: 4, nbformat_minor: 5, metadata: {},
      cells: [
        { cell_type: 'markdown', metadata: {}, source: 'ok' },
        { cell_type: 'heading', metadata: {}, source: 'x' },
        { cell_type: 'code', metadata: {}, source: 3, outputs: [{ output_type: 'pyout' }] },
      ],
    });
    expect(cells.errors).toEqual([
      { path: '/cells/1/cell_type', message: 'must be one of "markdown", "code", "raw"' },
      { path: '/cells/2/source', message: 'must be a string or a list of strings' },
      { path: '/cells/2/outputs/0/output_type', message: 'must be one of "stream", "display_data", "execute_result", "error"' },
    ]);
  });

  it('points validation errors of the page at the notebook cell they came from', () => {
    const nb = {
      nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'bad kernel!', display_name: 'x' } },
      cells: [
        { cell_type: 'markdown', metadata: {}, source: `# T\n## ${'x'.repeat(300)}` },
        { cell_type: 'code', metadata: {}, source: 'x', execution_count: 1, outputs: [{ output_type: 'stream', name: 'stdlog', text: 'x' }] },
      ],
    };
    const imported = importNotebook(nb);
    let errors: { path: string; message: string }[] = [];
    try {
      save(imported.payload);
    } catch (err) {
      errors = (err as { errors: typeof errors }).errors;
    }
    expect(errors.map((e) => notebookPointer(imported, e.path))).toEqual(['/cells/0/source', '/metadata/kernelspec/name', '/cells/1/outputs/0/name']);
    expect(notebookPointer(imported, '/title')).toBe('/cells/0/source');
    expect(notebookPointer(imported, '/body')).toBe('/cells');
  });
});

/** A lesson with every block type, as stored. */
function everyBlockLesson(): PageDoc {
  return save({
    type: 'lesson',
    title: '모든 블록: *every* block',
    intro: 'Every block type, once.',
    environment: 'pytorch-2.4-cuda',
    body: [
      { type: 'heading', value: '1. 시작 # 하기' },
      { type: 'paragraph', value: '<p>Rich <strong>text</strong> with <a href="https://example.com">a link</a>.</p>' },
      { type: 'text', value: 'plain\n  text with <tags> & $dollars$' },
      { type: 'image', value: 12 },
      { type: 'document', value: 3 },
      { type: 'block_quote', value: '인용문\n- second line' },
      { type: 'embed', value: 'https://www.youtube.com/watch?v=aircAruvnKk' },
      { type: 'code', value: { language: 'python', source: 'print("```")\n' } },
      { type: 'jupyter', value: { code: 'import torch\nprint(torch.ones(2))', kernel: 'python3', environment: 'pytorch-2.4-cuda' } },
      {
        type: 'jupyter',
        value: {
          code: 'display(x)\nx', kernel: 'python3', execution_count: 3,
          outputs: [
            { output_type: 'stream', name: 'stderr', text: 'warn\nmore\n' },
            { output_type: 'display_data', data: { 'text/plain': 'x', 'image/png': 'iVBORw0KGgo=\n', 'application/vnd.plotly.v1+json': { data: [] } }, metadata: { 'image/png': { width: 10 } } },
            { output_type: 'execute_result', data: { 'text/plain': '2', 'text/html': '<table class="dataframe"><tr><th>a</th></tr></table>' }, metadata: {}, execution_count: 3 },
            { output_type: 'error', ename: 'E', evalue: '없음', traceback: ['\u001b[31mE\u001b[0m'] },
          ],
        },
      },
      { type: 'jupyter', value: { code: '', kernel: 'python3', outputs: [], execution_count: null } },
      { type: 'quiz', value: { question: '<p>2 + 2?</p>', choices: [{ text: '4', correct: true }, { text: '5' }], explanation: '<p>Arithmetic.</p>' } },
      {
        type: 'exercise',
        value: {
          title: '연습',
          instructions: [{ type: 'paragraph', value: '<p>Do it.</p>' }, { type: 'jupyter', value: { code: 'x = 1' } }, { type: 'image', value: 4 }],
          solution: [{ type: 'code', value: { language: 'python', source: 'x = 2' } }],
        },
      },
    ],
  });
}

describe('exporting a lesson as a notebook', () => {
  withNbformat('writes a valid nbformat 4.5 notebook for every block type, each cell marked with its block', () => {
    const doc = everyBlockLesson();
    const nb = exportNotebook(doc, { revision: 4, origin: 'https://cms.example.com' });
    expectValidNotebook(serializeNotebook(nb));
    // The check has teeth: a cell without its id is refused.
    const withoutId = JSON.parse(serializeNotebook(nb)) as Notebook;
    delete withoutId.cells[1]!.id;
    expect(() => expectValidNotebook(JSON.stringify(withoutId))).toThrow();
    const body = doc.body as Block[];
    expect(nb.nbformat).toBe(4);
    expect(nb.nbformat_minor).toBe(5);
    expect(nb.metadata).toEqual({
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      language_info: { name: 'python' },
      lectern: { page: 7, revision: 4, type: 'lesson', title: '모든 블록: *every* block', slug: 'lesson', intro: 'Every block type, once.', environment: 'pytorch-2.4-cuda' },
    });
    const [title, ...cells] = nb.cells;
    expect(title).toMatchObject({ cell_type: 'markdown', metadata: { lectern: { role: 'title' } }, source: ['# 모든 블록: \\*every\\* block\n', '\n', 'Every block type, once.'] });
    expect(cells.map((c) => c.id)).toEqual(body.map((b) => b.id));
    expect(cells.map((c) => c.cell_type)).toEqual(['markdown', 'markdown', 'raw', 'markdown', 'markdown', 'markdown', 'markdown', 'markdown', 'code', 'code', 'code', 'markdown', 'markdown']);
    const src = (i: number) => (cells[i]!.source as string[]).join('');
    expect(src(0)).toBe('## 1\\. 시작 \\# 하기');
    expect(src(1)).toBe(body[1]!.value);
    expect(src(2)).toBe('plain\n  text with <tags> & $dollars$');
    expect(src(3)).toBe('[Image 12](https://cms.example.com/api/v2/images/12/)');
    expect(src(5)).toBe('> 인용문\n> \\- second line');
    expect(src(7)).toBe('````python\nprint("```")\n````');
    expect(src(11)).toContain('1. 4\n2. 5');
    expect(src(11)).toContain('<details><summary>Answer</summary>');
    expect(src(12)).toMatch(/^### Exercise: 연습\n\n<p>Do it.<\/p>\n\n```python\nx = 1\n```\n\n\[Image 4\]/);
    expect(cells[9]).toMatchObject({
      execution_count: 3,
      outputs: [
        { output_type: 'stream', name: 'stderr', text: ['warn\n', 'more\n'] },
        { output_type: 'display_data', data: { 'text/plain': ['x'], 'image/png': ['iVBORw0KGgo=\n'], 'application/vnd.plotly.v1+json': { data: [] } } },
        { output_type: 'execute_result', execution_count: 3 },
        { output_type: 'error', ename: 'E' },
      ],
    });
    expect(cells[8]).toMatchObject({ execution_count: null, outputs: [], metadata: { lectern: { type: 'jupyter', id: body[8]!.id, value: { kernel: 'python3', environment: 'pytorch-2.4-cuda' }, from_cell: ['code'] } } });
    expect(cells[11]!.metadata.lectern).toEqual({ type: 'quiz', value: body[11]!.value, id: body[11]!.id });
  });

  withNbformat('round-trips: import → export → import gives the same blocks, ids included', () => {
    const docs = [everyBlockLesson(), save(importNotebook(fixture(KOREAN)).payload), save(importNotebook(fixture(ENGLISH)).payload)];
    for (const doc of docs) {
      const text = serializeNotebook(exportNotebook(doc, { revision: 1 }));
      expectValidNotebook(text);
      const again = importNotebook(text);
      expect(again.payload.title).toBe(doc.title);
      expect(again.payload.intro).toBe(doc.intro);
      expect((again.payload.body as Block[]).every((b) => isBlockId(b.id))).toBe(true);
      const resaved = save(again.payload);
      expect(resaved.body).toEqual(doc.body);
      expect(resaved.environment).toEqual(doc.environment);
    }
    expect(JSON.stringify(docs[1]!.body)).toContain('기울기가 2에 가깝게 나오면 성공입니다.');
  });

  it('takes edits made in Jupyter: new code and outputs, a changed heading, a copied cell as a new block', () => {
    const doc = everyBlockLesson();
    const body = doc.body as Block[];
    const nb = JSON.parse(serializeNotebook(exportNotebook(doc))) as Notebook;
    const cell = (id: string) => nb.cells.find((c) => c.id === id)!;
    Object.assign(cell(body[8]!.id!), { source: 'print(2)', execution_count: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: ['2\n'] }] });
    cell(body[0]!.id!).source = '## 새 제목';
    cell(body[2]!.id!).source = ['still ', 'raw'];
    const quizCell = cell(body[11]!.id!);
    quizCell.source = 'edited rendering';
    nb.cells.push({ ...structuredClone(quizCell), id: 'copy' });
    const blocksAfter = importNotebook(nb).payload.body as Block[];
    expect(blocksAfter[8]).toEqual({
      type: 'jupyter', id: body[8]!.id,
      value: { code: 'print(2)', kernel: 'python3', environment: 'pytorch-2.4-cuda', outputs: [{ output_type: 'stream', name: 'stdout', text: '2\n' }], execution_count: 1 },
    });
    expect(blocksAfter[0]).toEqual({ type: 'heading', value: '새 제목', id: body[0]!.id });
    expect(blocksAfter[2]).toEqual({ type: 'text', value: 'still raw', id: body[2]!.id });
    // A quiz cell is only a rendering: the block comes back from its metadata.
    expect(blocksAfter[11]).toEqual(body[11]);
    const copy = blocksAfter.at(-1)!;
    expect(copy.id).toBeUndefined();
    expect(copy.value.choices.every((c: { id?: string }) => c.id === undefined)).toBe(true);
    expect(() => save({ type: 'lesson', title: 't', body: blocksAfter })).not.toThrow();
  });
});
