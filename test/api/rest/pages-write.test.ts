import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pageFile } from '../../../src/history/git-repo.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBlockId } from '../../../src/blocks/block-ids.js';
import { DRIVERS } from '../../helpers/env.js';
import { englishLesson, koreanLesson } from '../../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

describe.each(DRIVERS)('page writes (%s)', (driver) => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(driver); });
  afterAll(async () => { await t?.close(); });

  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(t.dir, 'content.git'), ...args], { encoding: 'utf8' });
  const commitCount = () => Number(git('rev-list', '--count', 'main').trim());
  const create = (payload: unknown, role: 'admin' | 'editor' | 'reviewer' | null = 'editor') =>
    t.as(role, { method: 'POST', url: '/api/v2/pages/', payload: payload as object });
  const patch = (id: number, payload: unknown, headers: Record<string, string> = {}) =>
    t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${id}/`, payload: payload as object, headers });

  it('creates a lesson from a fixture: 201, Location, ids on every block, slug from the Korean title', async () => {
    const res = await create(koreanLesson());
    expect(res.statusCode).toBe(201);
    const page = res.json();
    expect(res.headers.location).toBe(`http://localhost:80/api/v2/pages/${page.id}/`);
    expect(page.meta).toMatchObject({ type: 'lesson', slug: '딥러닝-기초-1강-pytorch로-시작하기', live: false, has_unpublished_changes: true });
    expect(page.meta.revision).toEqual(expect.any(Number));
    expect(page.title).toBe('딥러닝 기초 1강: PyTorch로 시작하기');
    expect(page.body).toHaveLength(7);
    expect(page.body.every((b: { id: string }) => isBlockId(b.id))).toBe(true);
    expect(page.body[2]).toMatchObject({ type: 'jupyter', value: { code: expect.stringContaining('import torch'), kernel: 'python3' } });
    expect(res.headers.etag).toMatch(new RegExp(`^"${page.meta.revision}-`));
  });

  it('keeps block ids on later saves and reads, and gives new blocks new ids', async () => {
    const created = (await create(englishLesson())).json();
    const body = created.body as { id: string; type: string; value: unknown }[];
    const updated = await patch(created.id, { body: [...body.slice(0, 2), { type: 'text', value: 'new block' }, ...body.slice(2)] });
    expect(updated.statusCode).toBe(200);
    const after = updated.json().body as { id: string }[];
    expect(after.map((b) => b.id).filter((id) => body.some((b) => b.id === id))).toEqual(body.map((b) => b.id));
    expect(isBlockId(after[2]!.id)).toBe(true);
    const read = await t.as('reviewer', { method: 'GET', url: `/api/v2/pages/${created.id}/?version=draft` });
    expect(read.json().body.map((b: { id: string }) => b.id)).toEqual(after.map((b) => b.id));
  });

  it('keeps the ids of list items and nested-stream blocks when a client sends the body back', async () => {
    const created = (await create({
      type: 'lesson', title: 'Composite',
      body: [
        { type: 'quiz', value: { question: '<p>2 + 2?</p>', choices: [{ text: '4', correct: true }, { text: '5' }] } },
        { type: 'exercise', value: { title: 'Try', instructions: [{ type: 'jupyter', value: { code: 'print(4)' } }] } },
      ],
    })).json();
    const quiz = created.body[0].value;
    const exercise = created.body[1].value;
    expect(quiz.choices.map((c: { type: string }) => c.type)).toEqual(['item', 'item']);
    const ids = [...quiz.choices.map((c: { id: string }) => c.id), exercise.instructions[0].id];
    expect(ids.every(isBlockId)).toBe(true);
    // The editor changes a choice's text and adds a cell, sending everything else back as it came.
    quiz.choices[1].value.text = 'five';
    exercise.instructions.push({ type: 'code', value: { language: 'python', source: 'x = 1' } });
    const saved = (await patch(created.id, { body: created.body })).json();
    const again = [...saved.body[0].value.choices.map((c: { id: string }) => c.id), saved.body[1].value.instructions[0].id];
    expect(again).toEqual(ids);
    expect(saved.body[0].value.choices[1].value).toEqual({ text: 'five', correct: false });
    expect(isBlockId(saved.body[1].value.instructions[1].id)).toBe(true);
    const dup = await patch(created.id, { body: [created.body[0], { type: 'exercise', value: { title: 'x', instructions: [{ type: 'text', value: 'y', id: ids[0] }] } }] });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().errors[0]).toMatchObject({ path: '/body/1/value/instructions/0/id', message: expect.stringContaining('duplicate block id') });
  });

  it('rejects invalid blocks with a pointer into the request and writes nothing', async () => {
    const commitsBefore = commitCount();
    const listBefore = (await t.as('editor', { method: 'GET', url: '/api/v2/pages/?version=draft&limit=20' })).json().meta.total_count;
    const lesson = englishLesson();
    (lesson.body as unknown[]).push({ type: 'jupyter', value: { code: 1, kernel: 'python3' } }, { type: 'hologram', value: 'x' });
    const res = await create(lesson);
    expect(res.statusCode).toBe(400);
    const err = res.json();
    expect(err).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'CMS_ERR_VALIDATION' });
    expect(err.message).toEqual(expect.any(String));
    expect(err.errors).toEqual([
      { path: '/body/4/value/code', message: 'jupyter: must be string' },
      { path: '/body/5/type', message: expect.stringContaining('unknown block type "hologram"') },
    ]);
    expect(commitCount()).toBe(commitsBefore);
    expect((await t.as('editor', { method: 'GET', url: '/api/v2/pages/?version=draft&limit=20' })).json().meta.total_count).toBe(listBefore);
  });

  it('rejects duplicate block ids, unknown fields, a missing title and a non-object body', async () => {
    const id = '5d1d3a4e-8a1b-4a43-9c8e-0c1f1a2b3c4d';
    const dup = await create({ type: 'lesson', title: 'Dup', body: [{ type: 'heading', value: 'a', id }, { type: 'heading', value: 'b', id }] });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().errors).toEqual([{ path: '/body/1/id', message: expect.stringContaining('duplicate block id') }]);
    const unknown = await create({ type: 'lesson', title: 'U', body: [], colour: 'red' });
    expect(unknown.json().errors).toEqual([{ path: '/colour', message: expect.stringContaining('"colour" is not a field of lesson pages') }]);
    const noTitle = await create({ type: 'lesson', body: [] });
    expect(noTitle.json().errors).toEqual([{ path: '/title', message: 'is required' }]);
    const noType = await create({ title: 'x' });
    expect(noType.json().errors[0]).toMatchObject({ path: '/type' });
    const badType = await create({ type: 'blog', title: 'x' });
    expect(badType.json().errors[0]).toMatchObject({ path: '/type', message: expect.stringContaining('unknown page type "blog"') });
    const array = await create([1, 2]);
    expect(array.statusCode).toBe(400);
    const notJson = await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: '{"type":', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().message).toMatch(/not valid JSON/);
  });

  it('sanitizes rich text before it reaches storage (database and git)', async () => {
    const res = await create({
      type: 'lesson', title: 'XSS attempt',
      body: [{ type: 'paragraph', value: '<p onmouseover="x()">Hi<script>alert(1)</script> <a href="javascript:alert(1)">l</a></p>' }],
    });
    expect(res.statusCode).toBe(201);
    const page = res.json();
    expect(page.body[0].value).toBe('<p>Hi <a>l</a></p>');
    const file = git('show', `main:${pageFile(page.id)}`);
    expect(file).not.toMatch(/<script|onmouseover|javascript:/);
  });

  it('makes slugs unique among siblings with -2, -3 and validates explicit slugs', async () => {
    const a = (await create({ type: 'lesson', title: 'Hello, World!', body: [] })).json();
    const b = (await create({ type: 'lesson', title: 'Hello, World!', body: [] })).json();
    const c = (await create({ type: 'lesson', title: 'Hello, World!', body: [] })).json();
    expect([a.meta.slug, b.meta.slug, c.meta.slug]).toEqual(['hello-world', 'hello-world-2', 'hello-world-3']);
    const bad = await create({ type: 'lesson', title: 'x', slug: 'not a slug!', body: [] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([{ path: '/slug', message: expect.stringContaining('is not a valid slug') }]);
    const taken = await create({ type: 'lesson', title: 'x', slug: 'hello-world', body: [] });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'CMS_ERR_PAGE_SLUG_TAKEN', errors: [{ path: '/slug' }] });
    const explicit = await create({ type: 'lesson', title: 'x', slug: '사용자-지정', body: [] });
    expect(explicit.json().meta.slug).toBe('사용자-지정');
    const renamed = await patch(a.id, { slug: 'hello-world-2' });
    expect(renamed.statusCode).toBe(409);
  });

  it('needs a token to write, and a role that may write', async () => {
    expect((await create(englishLesson(), null)).statusCode).toBe(401);
    const reviewer = await create(englishLesson(), 'reviewer');
    expect(reviewer.statusCode).toBe(403);
    expect(reviewer.json()).toMatchObject({ code: 'CMS_ERR_AUTH_FORBIDDEN', message: 'the reviewer role may not write pages' });
    const bogus = await t.app.inject({ method: 'POST', url: '/api/v2/pages/', payload: englishLesson(), headers: { authorization: 'Bearer lct_nope' } });
    expect(bogus.statusCode).toBe(401);
    expect(bogus.headers['www-authenticate']).toMatch(/Bearer/);
    // Even a broken body gets 401, not 400, without a token.
    expect((await t.app.inject({ method: 'POST', url: '/api/v2/pages/', payload: '{', headers: { 'content-type': 'application/json' } })).statusCode).toBe(401);
  });

  it('builds a tree: url_path follows the parents, lesson_index accepts lessons, lessons accept no children', async () => {
    const course = (await create({ type: 'lesson_index', title: 'Course A', publish: true })).json();
    const section = (await create({ type: 'lesson_index', title: 'Section 1', parent: course.id, publish: true })).json();
    const lesson = (await create({ ...englishLesson(), parent: section.id, publish: true })).json();
    expect(lesson.meta.html_url).toBe('http://localhost:80/course-a/section-1/gradient-descent-step-by-step/');
    const under = await create({ type: 'lesson', title: 'x', parent: lesson.id, body: [] });
    expect(under.statusCode).toBe(400);
    expect(under.json()).toMatchObject({ code: 'CMS_ERR_PAGE_PARENT_NOT_ALLOWED', errors: [{ path: '/parent' }] });
    const missing = await create({ type: 'lesson', title: 'x', parent: 999999, body: [] });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual([{ path: '/parent', message: 'page 999999 does not exist' }]);
  });

  it('moves a page with its subtree; url_path follows; cycles are refused', async () => {
    const a = (await create({ type: 'lesson_index', title: 'Move A', publish: true })).json();
    const b = (await create({ type: 'lesson_index', title: 'Move B', publish: true })).json();
    const child = (await create({ type: 'lesson_index', title: 'Child', parent: a.id, publish: true })).json();
    const leaf = (await create({ type: 'lesson', title: 'Leaf', parent: child.id, body: [], publish: true })).json();
    const moved = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${child.id}/move/`, payload: { parent: b.id } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json().meta.html_url).toBe('http://localhost:80/move-b/child/');
    const leafNow = (await t.app.inject({ url: `/api/v2/pages/${leaf.id}/` })).json();
    expect(leafNow.meta.html_url).toBe('http://localhost:80/move-b/child/leaf/');
    expect(leafNow.meta.parent.id).toBe(child.id);
    const found = await t.app.inject({ url: '/api/v2/pages/find/?html_path=/move-b/child/leaf/' });
    expect(found.statusCode).toBe(302);
    expect((await t.app.inject({ url: '/api/v2/pages/find/?html_path=/move-a/child/leaf/' })).statusCode).toBe(404);
    const cycle = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${b.id}/move/`, payload: { parent: leaf.id } });
    expect(cycle.statusCode).toBe(400);
    const intoSelf = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${child.id}/move/`, payload: { parent: child.id } });
    expect(intoSelf.json().code).toBe('CMS_ERR_PAGE_MOVE_CYCLE');
    const badBody = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${child.id}/move/`, payload: { parent: 'x' } });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().errors[0]).toMatchObject({ path: '/parent' });
    // The git files say where the pages are.
    expect(JSON.parse(git('show', `main:${pageFile(child.id)}`)).parent).toBe(b.id);
    expect(JSON.parse(git('show', `live:${pageFile(child.id)}`)).parent).toBe(b.id);
  });

  it('deletes a page and its subtree; their history stays in git', async () => {
    const top = (await create({ type: 'lesson_index', title: 'Doomed', publish: true })).json();
    const kid = (await create({ type: 'lesson', title: 'Doomed kid', parent: top.id, body: [], publish: true })).json();
    const del = await t.as('editor', { method: 'DELETE', url: `/api/v2/pages/${top.id}/` });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ deleted: [top.id, kid.id] });
    expect((await t.app.inject({ url: `/api/v2/pages/${kid.id}/` })).statusCode).toBe(404);
    expect((await t.as('editor', { url: `/api/v2/pages/${kid.id}/?version=draft` })).statusCode).toBe(404);
    expect(() => git('cat-file', '-e', `main:${pageFile(kid.id)}`)).toThrow();
    expect(() => git('cat-file', '-e', `live:${pageFile(kid.id)}`)).toThrow();
    const history = git('log', '--format=%s', 'main', '--', pageFile(kid.id)).trim().split('\n');
    expect(history).toHaveLength(2);
    expect(history[0]).toMatch(/^Delete lesson_index "Doomed" and 1 page/);
    expect((await t.as('editor', { method: 'DELETE', url: `/api/v2/pages/${top.id}/` })).statusCode).toBe(404);
  });

  it('publishes and unpublishes: the public API shows live content only', async () => {
    const page = (await create({ type: 'lesson', title: 'Draft only', intro: 'v1', body: [] })).json();
    expect((await t.app.inject({ url: `/api/v2/pages/${page.id}/` })).statusCode).toBe(404);
    const pub = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/publish/` });
    expect(pub.statusCode).toBe(200);
    expect(pub.json().meta).toMatchObject({ live: true, has_unpublished_changes: false });
    await patch(page.id, { intro: 'v2 draft' });
    const pub1 = (await t.app.inject({ url: `/api/v2/pages/${page.id}/` })).json();
    expect(pub1.intro).toBe('v1');
    expect(pub1.meta.first_published_at).toEqual(expect.stringMatching(/Z$/));
    const draft = await t.as('reviewer', { url: `/api/v2/pages/${page.id}/?version=draft` });
    expect(draft.json()).toMatchObject({ intro: 'v2 draft', meta: { has_unpublished_changes: true } });
    expect((await t.app.inject({ url: `/api/v2/pages/${page.id}/?version=draft` })).statusCode).toBe(401);
    const unpub = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/unpublish/` });
    expect(unpub.json().meta.live).toBe(false);
    expect((await t.app.inject({ url: `/api/v2/pages/${page.id}/` })).statusCode).toBe(404);
    expect((await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/unpublish/` })).statusCode).toBe(409);
  });

  it('publishes an earlier revision on request', async () => {
    const page = (await create({ type: 'lesson', title: 'Versions', intro: 'one', body: [] })).json();
    await patch(page.id, { intro: 'two' });
    const res = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/publish/`, payload: { revision: page.meta.revision } });
    expect(res.statusCode).toBe(200);
    expect((await t.app.inject({ url: `/api/v2/pages/${page.id}/` })).json().intro).toBe('one');
    const missing = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/publish/`, payload: { revision: 999999 } });
    expect(missing.statusCode).toBe(404);
  });

  it('refuses a save against a stale revision (If-Match) with 412 and the current revision', async () => {
    const page = (await create({ type: 'lesson', title: 'Etag', body: [] })).json();
    const first = await patch(page.id, { intro: 'a' }, { 'if-match': `"${page.meta.revision}"` });
    expect(first.statusCode).toBe(200);
    const commits = commitCount();
    const stale = await patch(page.id, { intro: 'b' }, { 'if-match': `"${page.meta.revision}"` });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'CMS_ERR_PAGE_STALE_REVISION', current_revision: first.json().meta.revision });
    expect(commitCount()).toBe(commits);
    const withEtag = await patch(page.id, { intro: 'c' }, { 'if-match': first.headers.etag as string });
    expect(withEtag.statusCode).toBe(200);
  });

  it('lists revisions newest first, paginated, and reads the page as it was', async () => {
    const page = (await create({ type: 'lesson', title: 'History', intro: 'r1', body: [], message: 'First draft' })).json();
    await patch(page.id, { intro: 'r2' });
    await patch(page.id, { intro: 'r3', message: 'Third' });
    const list = await t.as('reviewer', { url: `/api/v2/pages/${page.id}/revisions/?limit=2` });
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body.meta.total_count).toBe(3);
    expect(body.items).toHaveLength(2);
    expect(body.items[0]).toMatchObject({ message: 'Third', action: 'update', author: 'Eddie Editor', page: page.id, commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(body.items[0].id).toBeGreaterThan(body.items[1].id);
    const rest = (await t.as('reviewer', { url: `/api/v2/pages/${page.id}/revisions/?limit=2&offset=2` })).json();
    expect(rest.items.map((r: { message: string }) => r.message)).toEqual(['First draft']);
    const old = await t.as('reviewer', { url: `/api/v2/pages/${page.id}/revisions/${page.meta.revision}/` });
    expect(old.json()).toMatchObject({ id: page.id, intro: 'r1', meta: { revision: page.meta.revision } });
    expect((await t.app.inject({ url: `/api/v2/pages/${page.id}/revisions/` })).statusCode).toBe(401);
    expect((await t.as('reviewer', { url: `/api/v2/pages/${page.id}/revisions/99999999/` })).statusCode).toBe(404);
    expect((await t.as('reviewer', { url: `/api/v2/pages/${page.id}/revisions/?limit=100` })).json().message).toBe('limit cannot be higher than 20');
  });
});
