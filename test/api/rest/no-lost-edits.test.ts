import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../helpers/env.js';
import { englishLesson } from '../../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

interface Block { type: string; value: unknown; id: string }

describe.each(DRIVERS)('no lost edits: revert, If-Match and base_revision merges (%s)', (driver) => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(driver); });
  afterAll(async () => { await t?.close(); });

  const draft = async (id: number) => (await t.as('reviewer', { url: `/api/v2/pages/${id}/?version=draft` })).json();
  const revisionCount = async (id: number) => (await t.as('reviewer', { url: `/api/v2/pages/${id}/revisions/?limit=0` })).json().meta.total_count as number;
  const patch = (role: 'editor' | 'admin', id: number, payload: object) => t.as(role, { method: 'PATCH', url: `/api/v2/pages/${id}/`, payload });
  const newLesson = async () => (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: englishLesson() })).json();

  it('merges two editors\' concurrent saves of different blocks, keeping both', async () => {
    const page = await newLesson();
    const body = page.body as Block[];
    const base = page.meta.revision;
    const mine = body.map((b, i) => (i === 1 ? { ...b, value: '<p>Editor A rewrote this.</p>' } : b));
    const yours = body.map((b, i) => (i === 3 ? { ...b, value: '<p>Editor B rewrote this.</p>' } : b));
    const [a, b] = await Promise.all([
      patch('editor', page.id, { body: mine, base_revision: base }),
      patch('admin', page.id, { body: yours, base_revision: base }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const merges = [a.json().meta, b.json().meta].filter((m) => m.merged);
    expect(merges).toHaveLength(1);
    expect(merges[0].merged_from).toEqual({ base_revision: base, merged_revisions: [expect.any(Number)] });
    const final = await draft(page.id);
    expect(final.body.map((x: Block) => x.value)).toEqual([body[0]!.value, '<p>Editor A rewrote this.</p>', body[2]!.value, '<p>Editor B rewrote this.</p>']);
    expect(final.body.map((x: Block) => x.id)).toEqual(body.map((x) => x.id));
    expect(await revisionCount(page.id)).toBe(3);
  });

  it('merges edits to different fields, and an added block with an edited one', async () => {
    const page = await newLesson();
    const base = page.meta.revision;
    await patch('editor', page.id, { title: 'A new title', base_revision: base });
    const res = await patch('admin', page.id, { body: [...page.body, { type: 'text', value: 'Appended by B' }], base_revision: base });
    expect(res.json().meta.merged).toBe(true);
    const final = await draft(page.id);
    expect(final.title).toBe('A new title');
    expect(final.body.at(-1)).toMatchObject({ type: 'text', value: 'Appended by B' });
  });

  it('refuses, with 409 and the conflicting paths, two edits of the same block; nothing is written', async () => {
    const page = await newLesson();
    const base = page.meta.revision;
    const edit = (text: string) => page.body.map((b: Block, i: number) => (i === 0 ? { ...b, value: text } : b));
    const first = await patch('editor', page.id, { body: edit('First heading'), intro: 'A', base_revision: base });
    expect(first.statusCode).toBe(200);
    const before = await revisionCount(page.id);
    const second = await patch('admin', page.id, { body: edit('Second heading'), intro: 'B', base_revision: base });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({
      code: 'CMS_ERR_PAGE_MERGE_CONFLICT',
      current_revision: first.json().meta.revision,
      base_revision: base,
      errors: [
        { path: '/intro', message: 'both edits change intro' },
        { path: '/body/0', block_id: page.body[0].id, message: 'both edits change this heading block' },
      ],
    });
    expect(await revisionCount(page.id)).toBe(before);
    expect((await draft(page.id)).body[0].value).toBe('First heading');
  });

  it('refuses a merge whose result would break the stream\'s rules', async () => {
    const quiz = { type: 'quiz', value: { question: '<p>?</p>', choices: [{ text: 'a' }, { text: 'b' }] } };
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Quizzes', body: Array(19).fill(quiz) } })).json();
    const base = page.meta.revision;
    expect((await patch('editor', page.id, { body: [...page.body, quiz], base_revision: base })).statusCode).toBe(200);
    const res = await patch('admin', page.id, { body: [...page.body, quiz], base_revision: base });
    expect(res.statusCode).toBe(409);
    expect(res.json().errors[0]).toMatchObject({ path: '/body', message: expect.stringContaining('allows at most 20 quiz') });
  });

  it('treats base_revision equal to the latest revision as a plain save, and an unknown one as an error', async () => {
    const page = await newLesson();
    const plain = await patch('editor', page.id, { intro: 'x', base_revision: page.meta.revision });
    expect(plain.json().meta.merged).toBe(false);
    const unknown = await patch('editor', page.id, { intro: 'y', base_revision: 99_999_999 });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toEqual([{ path: '/base_revision', message: expect.stringContaining('has no revision 99999999') }]);
    const onCreate = await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { ...englishLesson(), base_revision: 1 } });
    expect(onCreate.json().errors).toEqual([{ path: '/base_revision', message: expect.stringContaining('only applies to PATCH') }]);
  });

  it('reverts to an earlier revision: a new draft revision with that content, block ids included', async () => {
    const page = await newLesson();
    const original = page.body as Block[];
    await patch('editor', page.id, { title: 'Changed', body: [...original.slice(1), { type: 'text', value: 'new' }] });
    const before = await revisionCount(page.id);
    const res = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/revert/`, payload: { revision: page.meta.revision } });
    expect(res.statusCode).toBe(200);
    expect(res.json().meta.revision).toBeGreaterThan(page.meta.revision);
    const now = await draft(page.id);
    expect(now.title).toBe(page.title);
    expect(now.body).toEqual(original);
    const history = (await t.as('reviewer', { url: `/api/v2/pages/${page.id}/revisions/` })).json().items;
    expect(history).toHaveLength(before + 1);
    expect(history[0]).toMatchObject({ action: 'revert', message: `Revert lesson "${page.title}" to revision ${page.meta.revision}` });
    const missing = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/revert/`, payload: { revision: 99_999_999 } });
    expect(missing.statusCode).toBe(404);
    expect((await t.as('reviewer', { method: 'POST', url: `/api/v2/pages/${page.id}/revert/`, payload: { revision: page.meta.revision } })).statusCode).toBe(403);
    expect((await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/revert/`, payload: {} })).json().errors).toEqual([{ path: '/revision', message: expect.any(String) }]);
  });
});
