import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../helpers/env.js';
import { englishLesson } from '../../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

interface Block { type: string; value: any; id: string }

describe.each(DRIVERS)('block history (%s)', (driver) => {
  let t: TestApp;
  let pageId: number;
  const revs: number[] = [];
  let blocks: Block[];
  let exercise: Block;

  const history = (blockId: string, query = '') => t.as('reviewer', { url: `/api/v2/pages/${pageId}/blocks/${blockId}/history/${query}` });
  const save = async (role: 'editor' | 'admin', body: unknown[]) => {
    const res = await t.as(role, { method: 'PATCH', url: `/api/v2/pages/${pageId}/`, payload: { body } });
    expect(res.statusCode).toBe(200);
    revs.push(res.json().meta.revision);
    return res.json().body as Block[];
  };

  beforeAll(async () => {
    t = await startTestApp(driver);
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: englishLesson() })).json();
    pageId = page.id;
    revs.push(page.meta.revision); // r0: created: heading, paragraph, jupyter, paragraph
    blocks = page.body;
    const [h, p1, j, p2] = blocks as [Block, Block, Block, Block];
    await save('admin', [h, { ...p1, value: '<p>Let <i>L(w) = (w - 3)<sup>2</sup></i>; its minimum is at 3.</p>' }, j, p2]); // r1: p1 changed
    await save('editor', [h, j, p1, p2].map((b, i) => (i === 2 ? { ...b, value: '<p>Let <i>L(w) = (w - 3)<sup>2</sup></i>; its minimum is at 3.</p>' } : b))); // r2: j moved up
    const withExercise = await save('editor', [h, j, { type: 'exercise', value: { title: 'Try', instructions: [{ type: 'jupyter', value: { code: 'print(1)' } }] } }]); // r3: p1, p2 removed; exercise added
    exercise = withExercise[2]!;
    const inner = exercise.value.instructions[0];
    await save('admin', [h, j, { ...exercise, value: { ...exercise.value, instructions: [{ ...inner, value: { ...inner.value, code: 'print(2)' } }] } }]); // r4: nested cell changed
    await t.as('editor', { method: 'POST', url: `/api/v2/pages/${pageId}/publish/` }); // not a block change
  });
  afterAll(async () => { await t?.close(); });

  const ops = async (blockId: string) => (await history(blockId)).json().items.map((i: any) => [i.revision, i.op, i.moved]);

  it('lists the revisions that changed a block, newest first, with who and when', async () => {
    const res = await history(blocks[1]!.id);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.meta.total_count).toBe(3);
    expect(body.items.map((i: any) => [i.revision, i.op])).toEqual([[revs[3], 'removed'], [revs[1], 'changed'], [revs[0], 'added']]);
    expect(body.items[1]).toMatchObject({ type: 'paragraph', field: 'body', parent_block_id: null, author: 'admin', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(body.items[1].created_at).toMatch(/Z$/);
  });

  it('records moves, and leaves untouched blocks out', async () => {
    expect(await ops(blocks[2]!.id)).toEqual([[revs[2], 'unchanged', true], [revs[0], 'added', false]]);
    expect(await ops(blocks[0]!.id)).toEqual([[revs[0], 'added', false]]);
  });

  it('follows blocks nested in other blocks', async () => {
    const inner = exercise.value.instructions[0].id;
    const items = (await history(inner)).json().items;
    expect(items.map((i: any) => [i.revision, i.op, i.parent_block_id, i.author])).toEqual([
      [revs[4], 'changed', exercise.id, 'admin'],
      [revs[3], 'added', exercise.id, 'Eddie Editor'],
    ]);
    expect(await ops(exercise.id)).toEqual([[revs[4], 'changed', false], [revs[3], 'added', false]]);
  });

  it('paginates, answers 404 for a block the page never had, and is for editors and reviewers', async () => {
    expect((await history(blocks[1]!.id, '?limit=1&offset=1')).json().items.map((i: any) => i.revision)).toEqual([revs[1]]);
    const missing = await history('00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('CMS_ERR_BLOCK_NOT_FOUND');
    expect((await t.app.inject({ url: `/api/v2/pages/${pageId}/blocks/${blocks[1]!.id}/history/` })).statusCode).toBe(401);
  });
});
