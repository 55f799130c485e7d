import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageFile } from '../../../src/history/git-repo.js';
import { DRIVERS } from '../../helpers/env.js';
import { koreanLesson } from '../../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

interface Block { type: string; value: any; id: string }

describe.each(DRIVERS)('comparing revisions (%s)', (driver) => {
  let t: TestApp;
  let page: { id: number; body: Block[]; meta: { revision: number } };
  let r1: number;
  let r2: number;
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(t.dir, 'content.git'), ...args], { encoding: 'utf8' });
  const compare = (a: number, b: number, query = '') => t.as('reviewer', { url: `/api/v2/pages/${page.id}/revisions/${a}/compare/${b}/${query}` });

  beforeAll(async () => {
    t = await startTestApp(driver);
    page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: koreanLesson() })).json();
    r1 = page.meta.revision;
    // heading, paragraph, jupyter, block_quote, code, embed, text
    const [heading, paragraph, jupyter, quote, code, embed, text] = page.body;
    const body = [
      heading,
      { ...paragraph!, value: '<p><b>텐서</b>는 고차원 배열입니다. NumPy의 <code>ndarray</code>와 비슷하지만 GPU에서 계산할 수 있습니다.</p>' },
      { ...jupyter!, value: { ...jupyter!.value, code: 'import torch\nx = torch.arange(12).reshape(3, 4)\nprint(x)\nprint(torch.cuda.is_available())' } },
      code, // moved above the quote
      quote,
      { ...text!, type: 'heading', value: '다음 강' }, // same id, another type
      { type: 'text', value: '새 블록' }, // added; embed removed
    ];
    r2 = (await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${page.id}/`, payload: { title: '딥러닝 기초 1강: 텐서', body } })).json().meta.revision;
    void embed;
  });
  afterAll(async () => { await t?.close(); });

  it('lists every block in the newer order, removed blocks at their old place, with ops, moves and stats', async () => {
    const res = await compare(r1, r2);
    expect(res.statusCode).toBe(200);
    const c = res.json();
    expect(c.page).toBe(page.id);
    expect(c.from).toMatchObject({ revision: r1, author: 'Eddie Editor', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(c.to.revision).toBe(r2);
    const ids = page.body.map((b) => b.id);
    expect(c.body.map((d: any) => [d.id, d.op, d.moved])).toEqual([
      [ids[0], 'unchanged', false],
      [ids[1], 'changed', false],
      [ids[2], 'changed', false],
      [ids[4], 'unchanged', true],
      [ids[5], 'removed', false], // right after the block that preceded it before (the code block)
      [ids[3], 'unchanged', false],
      [ids[6], 'changed', false],
      [expect.any(String), 'added', false],
    ]);
    expect(c.stats).toEqual({ added: 1, removed: 1, moved: 1, changed: 3, unchanged: 3 });
    expect(c.body[4]).toMatchObject({ fromIndex: 5, value: 'https://www.youtube.com/watch?v=aircAruvnKk' });
    expect(c.body[7]).toMatchObject({ toIndex: 6, value: '새 블록' });
  });

  it('shows word segments in Korean rich text, line hunks in code, and a type change', async () => {
    const c = (await compare(r1, r2)).json();
    const paragraph = c.body[1].changes[0];
    expect(paragraph.kind).toBe('richtext');
    expect(paragraph.formattingChanged).toBe(false);
    expect(paragraph.segments.filter((s: any) => s.op !== 'eq')).toEqual([{ op: 'del', text: '다차원' }, { op: 'ins', text: '고차원' }]);
    const code = c.body[2].changes[0];
    expect(code).toMatchObject({ path: ['code'], kind: 'code' });
    expect(code.hunks).toEqual([
      { op: 'eq', lines: ['import torch'] },
      { op: 'del', lines: ['x = torch.arange(6).reshape(2, 3)'] },
      { op: 'ins', lines: ['x = torch.arange(12).reshape(3, 4)'] },
      { op: 'eq', lines: ['print(x)', 'print(torch.cuda.is_available())'] },
    ]);
    expect(c.body[6].changes).toEqual([{ path: [], kind: 'typeChange', before: { type: 'text', value: '다음 강에서는 자동 미분(autograd)을 다룹니다.' }, after: { type: 'heading', value: '다음 강' } }]);
    expect(c.fields).toEqual([expect.objectContaining({ path: ['title'], kind: 'text' })]);
  });

  it('gives the same answer whichever order the revisions are asked in, and all unchanged for one revision', async () => {
    expect((await compare(r2, r1)).json()).toEqual((await compare(r1, r2)).json());
    const same = (await compare(r2, r2)).json();
    expect(same.stats).toEqual({ added: 0, removed: 0, moved: 0, changed: 0, unchanged: 7 });
    expect(same.fields).toEqual([]);
  });

  it('serves the page file\'s unified diff as git diff prints it', async () => {
    const res = await compare(r2, r1, '?format=patch');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const c = (await compare(r1, r2)).json();
    const fromGit = git('diff', '--no-color', c.from.commit, c.to.commit, '--', pageFile(page.id));
    expect(res.body).toBe(fromGit);
    expect(res.body).toContain('-      "value": "https://www.youtube.com/watch?v=aircAruvnKk",');
  });

  it('is for editors and reviewers, and 404 for revisions the page does not have', async () => {
    expect((await t.app.inject({ url: `/api/v2/pages/${page.id}/revisions/${r1}/compare/${r2}/` })).statusCode).toBe(401);
    expect((await t.as('editor', { url: `/api/v2/pages/${page.id}/revisions/${r1}/compare/${r2}/` })).statusCode).toBe(200);
    const other = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Other', body: [] } })).json();
    const res = await compare(r1, other.meta.revision);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'CMS_ERR_REVISION_NOT_FOUND', message: `revision ${other.meta.revision} of page ${page.id} does not exist` });
    expect((await compare(r1, 99_999_999)).statusCode).toBe(404);
  });
});
