import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../../src/auth/tokens.js';
import { DRIVERS } from '../../helpers/env.js';
import { multipart } from '../../helpers/multipart.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

type Role = 'admin' | 'editor' | 'reviewer' | null;

describe.each(DRIVERS)('GraphQL queries and mutations (%s)', (driver) => {
  let t: TestApp;
  let learner: string;
  beforeAll(async () => {
    t = await startTestApp(driver, { KERNEL_GATEWAY: 'pyodide', RUNS_PER_MINUTE: '1000' });
    learner = (await createToken(t.app.lectern.database.db, { name: 'Lee Learner', role: 'learner' })).token;
  }, 120_000);
  afterAll(async () => { await t?.close(); });

  const gql = async (query: string, variables: Record<string, unknown> = {}, role: Role = 'editor', token?: string) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const res = role && !token ? await t.as(role, { method: 'POST', url: '/graphql', payload: { query, variables } })
      : await t.app.inject({ method: 'POST', url: '/graphql', payload: { query, variables }, headers });
    return { status: res.statusCode, ...(res.json() as { data: any; errors?: { message: string; path?: string[]; extensions: Record<string, any> }[] }) };
  };
  const rest = (role: Role, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) => t.as(role, { method, url, ...(payload ? { payload } : {}) });

  let course: { id: number };
  let lesson: { id: number; body: { id: string }[] };

  it('builds its types from the block and page type schemas: one object type per block type in a Block union, one per page type', async () => {
    const { data } = await gql(`{
      block: __type(name: "Block") { possibleTypes { name } }
      jupyter: __type(name: "JupyterBlock") { fields { name type { name kind ofType { name kind } } } }
      lesson: __type(name: "Lesson") { interfaces { name } fields { name type { kind ofType { kind ofType { kind ofType { name } } } } } }
      image: __type(name: "Image") { fields { name } }
    }`, {}, null);
    const blockFiles = t.app.lectern.content.blocks.names().map((n) => `${n.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}Block`).sort();
    expect(data.block.possibleTypes.map((p: { name: string }) => p.name).sort()).toEqual(blockFiles);
    const jupyter = Object.fromEntries(data.jupyter.fields.map((f: { name: string; type: unknown }) => [f.name, f.type]));
    expect(Object.keys(jupyter)).toEqual(expect.arrayContaining(['id', 'type', 'value', 'code', 'kernel', 'environment', 'outputs', 'execution_count']));
    expect(jupyter.code).toEqual({ name: null, kind: 'NON_NULL', ofType: { name: 'String', kind: 'SCALAR' } });
    expect(data.lesson.interfaces).toEqual([{ name: 'Page' }]);
    const body = data.lesson.fields.find((f: { name: string }) => f.name === 'body');
    expect(body.type).toEqual({ kind: 'NON_NULL', ofType: { kind: 'LIST', ofType: { kind: 'NON_NULL', ofType: { name: 'Block' } } } });
    expect(data.lesson.fields.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(['intro', 'environment', 'body', 'title', 'slug', 'parent', 'children']));
    expect(data.image.fields.map((f: { name: string }) => f.name)).toEqual(['id', 'meta', 'title', 'width', 'height', 'rendition']);
  });

  it('creates, reads and writes pages through the same operations as REST, with the same rules', async () => {
    const created = await gql(`mutation($input: JSON!) { createPage(input: $input) { page { id title live revision } merged } }`, {
      input: { type: 'lesson_index', title: 'Deep Learning', publish: true },
    });
    expect(created.errors).toBeUndefined();
    course = created.data.createPage.page;
    expect(created.data.createPage).toMatchObject({ page: { title: 'Deep Learning', live: true, revision: expect.any(Number) }, merged: false });
    const made = await gql(`mutation($input: JSON!) { createPage(input: $input) { page { id ... on Lesson { body { ... on JupyterBlock { id code } } } } } }`, {
      input: { type: 'lesson', parent: course.id, title: '딥러닝 기초 1강: PyTorch로 시작하기', intro: 'First', body: [{ type: 'jupyter', value: { code: 'print("hi")' } }, { type: 'heading', value: 'Setup' }] },
    });
    lesson = made.data.createPage.page;
    expect(lesson.body[0]).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), code: 'print("hi")' });
    // A draft is not public: anonymous readers do not see it, editors do.
    expect((await gql(`{ page(id: ${lesson.id}) { id } }`, {}, null)).data.page).toBeNull();
    const draft = await gql(`{ page(id: ${lesson.id}, version: DRAFT) { title slug url_path parent { id } ... on Lesson { intro body { __typename ... on HeadingBlock { value } } } } }`);
    expect(draft.data.page).toEqual({
      title: '딥러닝 기초 1강: PyTorch로 시작하기', slug: '딥러닝-기초-1강-pytorch로-시작하기', url_path: '/deep-learning/딥러닝-기초-1강-pytorch로-시작하기/',
      parent: { id: course.id }, intro: 'First', body: [{ __typename: 'JupyterBlock' }, { __typename: 'HeadingBlock', value: 'Setup' }],
    });
    const anonymousDraft = await gql(`{ page(id: ${lesson.id}, version: DRAFT) { id } }`, {}, null);
    expect(anonymousDraft.errors![0]!.extensions).toMatchObject({ code: 'CMS_ERR_AUTH_REQUIRED' });
    const learnerDraft = await gql(`{ pages(version: DRAFT) { total_count } }`, {}, null, learner);
    expect(learnerDraft.errors![0]!.extensions).toMatchObject({ code: 'CMS_ERR_AUTH_FORBIDDEN' });

    const published = await gql(`mutation { publishPage(id: ${lesson.id}) { page { live } } }`);
    expect(published.data.publishPage.page.live).toBe(true);
    const bySlug = await gql(`query($slug: String!) { page(slug: $slug, parent: ${course.id}) { id } }`, { slug: '딥러닝-기초-1강-pytorch로-시작하기' }, null);
    const byPath = await gql(`{ page(path: "/deep-learning/딥러닝-기초-1강-pytorch로-시작하기/") { id } }`, {}, null);
    expect([bySlug.data.page?.id, byPath.data.page?.id]).toEqual([lesson.id, lesson.id]);
    const topLevel = await gql('{ page(slug: "deep-learning") { id } unknownParent: page(slug: "deep-learning", parent: 99999) { id } }', {}, null);
    expect(topLevel.data).toEqual({ page: { id: course.id }, unknownParent: null });
    // REST sees what GraphQL wrote.
    expect((await rest(null, 'GET', `/api/v2/pages/${lesson.id}/`)).json().intro).toBe('First');
  });

  it('gives the same conflicts as REST: a stale expected_revision (412 code), a merge conflict (409 code); reviewers may not write', async () => {
    const current = (await rest('editor', 'GET', `/api/v2/pages/${lesson.id}/?version=draft`)).json().meta.revision as number;
    const stale = await gql(`mutation { updatePage(id: ${lesson.id}, input: {intro: "Late"}, expected_revision: ${current - 1}) { page { id } } }`);
    expect(stale.errors![0]!.extensions).toMatchObject({ code: 'CMS_ERR_PAGE_STALE_REVISION', statusCode: 412, current_revision: current });
    expect((await rest('editor', 'GET', `/api/v2/pages/${lesson.id}/?version=draft`)).json().intro).toBe('First');

    const ok = await gql(`mutation { updatePage(id: ${lesson.id}, input: {intro: "Second"}, expected_revision: ${current}) { page { revision ... on Lesson { intro } } } }`);
    expect(ok.data.updatePage.page.intro).toBe('Second');
    const conflict = await gql(`mutation($input: JSON!) { updatePage(id: ${lesson.id}, input: $input) { merged } }`, { input: { intro: 'Third', base_revision: current } });
    expect(conflict.errors![0]!.extensions).toMatchObject({ code: 'CMS_ERR_PAGE_MERGE_CONFLICT', statusCode: 409, errors: [expect.objectContaining({ path: '/intro' })] });
    const merged = await gql(`mutation($input: JSON!) { updatePage(id: ${lesson.id}, input: $input) { merged merged_from page { title ... on Lesson { intro } } } }`, { input: { title: 'Renamed', base_revision: current } });
    expect(merged.data.updatePage).toMatchObject({ merged: true, page: { title: 'Renamed', intro: 'Second' } });

    const invalid = await gql(`mutation { updatePage(id: ${lesson.id}, input: {body: [{type: "jupyter", value: {code: 3}}]}) { merged } }`);
    expect(invalid.errors![0]!.extensions).toMatchObject({ code: 'CMS_ERR_VALIDATION', errors: [{ path: '/body/0/value/code' }] });
    const reviewer = await gql(`mutation { unpublishPage(id: ${lesson.id}) { page { id } } }`, {}, 'reviewer');
    expect(reviewer.errors![0]!.extensions).toMatchObject({ code: 'CMS_ERR_AUTH_FORBIDDEN' });
    expect((await gql(`mutation { unpublishPage(id: ${lesson.id}) { page { id } } }`, {}, null)).errors![0]!.extensions.code).toBe('CMS_ERR_AUTH_REQUIRED');
  });

  it('lists pages as the REST listing does: filters, order, pagination and Wagtail\'s messages', async () => {
    for (const title of ['B lesson', 'A lesson']) {
      await gql(`mutation($input: JSON!) { createPage(input: $input) { page { id } } }`, { input: { type: 'lesson', parent: course.id, title, environment: 'numpy-2', publish: true, body: [] } });
    }
    const list = await gql(`{ pages(child_of: "${course.id}", order: "title") { total_count items { title } } }`, {}, null);
    // The rename is a draft: the live listing still shows the published title.
    expect(list.data.pages).toEqual({ total_count: 3, items: [{ title: 'A lesson' }, { title: 'B lesson' }, { title: '딥러닝 기초 1강: PyTorch로 시작하기' }] });
    const drafts = await gql(`{ pages(child_of: "${course.id}", order: "title", version: DRAFT) { items { title } } }`, {}, 'reviewer');
    expect(drafts.data.pages.items.map((i: { title: string }) => i.title)).toEqual(['A lesson', 'B lesson', 'Renamed']);
    const filtered = await gql(`{ pages(type: "lesson", filters: {environment: "numpy-2"}, limit: 1, offset: 1, order: "-title") { total_count items { title } } }`, {}, null);
    expect(filtered.data.pages).toEqual({ total_count: 2, items: [{ title: 'A lesson' }] });
    const restList = (await rest(null, 'GET', '/api/v2/pages/?type=lesson&environment=numpy-2&limit=1&offset=1&order=-title')).json();
    expect(restList.items.map((i: { title: string }) => i.title)).toEqual(['A lesson']);
    const tooMany = await gql('{ pages(limit: 50) { total_count } }', {}, null);
    expect(tooMany.errors![0]).toMatchObject({ message: 'limit cannot be higher than 20', extensions: { code: 'CMS_ERR_API_BAD_QUERY' } });
    const unknown = await gql('{ pages(filters: {colour: "red"}) { total_count } }', {}, null);
    expect(unknown.errors![0]!.message).toBe('query parameter is not an operation or a recognised field: colour');
    const children = await gql(`{ page(id: ${course.id}) { children(limit: 2) { total_count items { title } } ancestors { id } } }`, {}, null);
    expect(children.data.page).toEqual({ children: { total_count: 3, items: [{ title: expect.any(String) }, { title: expect.any(String) }] }, ancestors: [] });
  });

  it('serves revisions and the compare of two revisions to editors and reviewers', async () => {
    const revs = await gql(`{ revisions(page: ${lesson.id}) { total_count items { id action author live } } }`, {}, 'reviewer');
    expect(revs.data.revisions.total_count).toBeGreaterThanOrEqual(3);
    const [newest, , oldest] = [revs.data.revisions.items[0], null, revs.data.revisions.items.at(-1)];
    expect(oldest).toMatchObject({ action: 'create', author: 'Eddie Editor' });
    const compare = await gql(`{ compare(page: ${lesson.id}, from: ${oldest.id}, to: ${newest.id}) { page from { revision } to { revision } stats { changed unchanged } fields { __typename ... on FieldChangeText { path segments { op text } } } } }`, {}, 'reviewer');
    expect(compare.errors).toBeUndefined();
    const restCompare = (await rest('reviewer', 'GET', `/api/v2/pages/${lesson.id}/revisions/${oldest.id}/compare/${newest.id}/`)).json();
    expect(compare.data.compare).toMatchObject({ page: lesson.id, from: { revision: oldest.id }, to: { revision: newest.id }, stats: { changed: restCompare.stats.changed } });
    const titleChange = compare.data.compare.fields.find((f: { path?: string[] }) => f.path?.[0] === 'title');
    expect(titleChange.segments).toEqual(restCompare.fields.find((f: { path: string[] }) => f.path[0] === 'title').segments);
    expect((await gql(`{ revisions(page: ${lesson.id}) { total_count } }`, {}, null, learner)).errors![0]!.extensions.code).toBe('CMS_ERR_AUTH_FORBIDDEN');
  });

  it('runs a block for a learner and lists the learner\'s executions', async () => {
    const ran = await gql(`mutation { executeBlock(page: ${lesson.id}, block: "${lesson.body[0]!.id}", wait: true) { id status outputs { __typename ... on NbOutputStream { name text } } } }`, {}, null, learner);
    expect(ran.errors).toBeUndefined();
    expect(ran.data.executeBlock).toMatchObject({ status: 'ok', outputs: [{ __typename: 'NbOutputStream', name: 'stdout', text: 'hi\n' }] });
    const edited = await gql(`mutation { executeBlock(page: ${lesson.id}, block: "${lesson.body[0]!.id}", code: "1/0", wait: true) { status outputs { ... on NbOutputError { ename } } } }`, {}, null, learner);
    expect(edited.data.executeBlock).toEqual({ status: 'error', outputs: [{ ename: 'ZeroDivisionError' }] });
    const mine = await gql('{ executions { total_count items { id status } } }', {}, null, learner);
    expect(mine.data.executions.total_count).toBe(2);
    expect(mine.data.executions.items.map((e: { status: string }) => e.status)).toEqual(['error', 'ok']);
    const theirs = await gql(`{ execution(id: "${ran.data.executeBlock.id}") { id } }`, {}, 'reviewer');
    expect(theirs.errors![0]!.extensions.code).toBe('CMS_ERR_EXECUTION_NOT_FOUND');
    expect((await gql('{ executions { total_count } }', {}, null)).errors![0]!.extensions.code).toBe('CMS_ERR_AUTH_REQUIRED');
  });

  it('serves images and documents with renditions', async () => {
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#123456' } }).png().toBuffer();
    const up = (await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file: { name: 'chart.png', data: png }, tags: 'charts' })) })).json();
    const res = await gql(`{ images(tags: ["charts"]) { total_count items { id title width height meta { tags download_url } rendition(spec: "fill-100x100|format-webp") { url width height } } } }`, {}, null);
    expect(res.errors).toBeUndefined();
    expect(res.data.images.items[0]).toMatchObject({ id: up.id, title: 'chart', width: 640, height: 480, meta: { tags: ['charts'] }, rendition: { width: 100, height: 100, url: expect.stringMatching(/\/media\/renditions\/.+\.webp$/) } });
    const bad = await gql(`{ image(id: ${up.id}) { rendition(spec: "fill-10") { url } } }`, {}, null);
    expect(bad.errors![0]!.extensions).toMatchObject({ code: 'CMS_ERR_IMAGE_BAD_FILTER_SPEC', part: 'fill-10' });
    const doc = (await t.as('editor', { method: 'POST', url: '/api/v2/documents/', ...(await multipart({ file: { name: 'notes.pdf', data: '%PDF-1.4' } })) })).json();
    const docs = await gql(`{ document(id: ${doc.id}) { title meta { download_url } } }`, {}, null);
    expect(docs.data.document).toEqual({ title: 'notes', meta: { download_url: doc.meta.download_url } });
  });

  it('moves, reverts and deletes pages', async () => {
    const other = await gql(`mutation { createPage(input: {type: "lesson_index", title: "Other course"}) { page { id } } }`);
    const moved = await gql(`mutation { movePage(id: ${lesson.id}, input: {parent: ${other.data.createPage.page.id}}) { page { url_path parent { id } } } }`);
    expect(moved.data.movePage.page).toEqual({ url_path: '/other-course/딥러닝-기초-1강-pytorch로-시작하기/', parent: { id: other.data.createPage.page.id } });
    const first = (await gql(`{ revisions(page: ${lesson.id}, limit: 20) { items { id action } } }`)).data.revisions.items.at(-1);
    const reverted = await gql(`mutation { revertPage(id: ${lesson.id}, input: {revision: ${first.id}}) { page { title ... on Lesson { intro } } } }`);
    expect(reverted.data.revertPage.page).toEqual({ title: '딥러닝 기초 1강: PyTorch로 시작하기', intro: 'First' });
    const deleted = await gql(`mutation { deletePage(id: ${other.data.createPage.page.id}) { deleted } }`);
    expect(deleted.data.deletePage.deleted.sort()).toEqual([other.data.createPage.page.id, lesson.id].sort());
    expect((await rest('editor', 'GET', `/api/v2/pages/${lesson.id}/?version=draft`)).statusCode).toBe(404);
  });

  it('answers repeated anonymous queries from the public cache, and never with content older than a publish or an upload', async () => {
    const cache = t.app.lectern.cache;
    const query = `{ pages(type: "lesson", order: "title") { total_count items { title } } images { total_count } }`;
    const first = await gql(query, {}, null);
    const size = cache.size;
    const second = await gql(query, {}, null);
    expect(second.data).toEqual(first.data);
    expect(cache.size).toBe(size);
    const created = await gql(`mutation { createPage(input: {type: "lesson", title: "Cached?", publish: true, body: []}) { page { id } } }`);
    expect(created.errors).toBeUndefined();
    const afterPublish = await gql(query, {}, null);
    expect(afterPublish.data.pages.total_count).toBe(first.data.pages.total_count + 1);
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#abcdef' } }).png().toBuffer();
    await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file: { name: 'new.png', data: png } })) });
    expect((await gql(query, {}, null)).data.images.total_count).toBe(first.data.images.total_count + 1);
    // Mutations, errors and signed-in callers are never served from it.
    expect((await gql(`{ pages(limit: 99) { total_count } }`, {}, null)).errors![0]!.extensions.code).toBe('CMS_ERR_API_BAD_QUERY');
    expect((await gql(`{ pages(limit: 99) { total_count } }`, {}, null)).errors![0]!.extensions.code).toBe('CMS_ERR_API_BAD_QUERY');
  });

  it('checks a token that is sent, even on a query anyone may run', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ pages { total_count } }' }, headers: { authorization: 'Bearer nope' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'CMS_ERR_AUTH_BAD_TOKEN' });
  });
});

describe('GraphQL protections', () => {
  let t: TestApp;
  let allowlisted: TestApp;
  const persisted = '{ pages { total_count } }';
  const hash = createHash('sha256').update(persisted).digest('hex');
  beforeAll(async () => {
    t = await startTestApp('pglite', { GRAPHQL_MAX_DEPTH: '6', GRAPHQL_MAX_COMPLEXITY: '500', GRAPHQL_BODY_LIMIT_BYTES: '2048' });
    const file = join(mkdtempSync(join(tmpdir(), 'lectern-allow-')), 'queries.json');
    writeFileSync(file, JSON.stringify({ [hash]: persisted }));
    allowlisted = await startTestApp('pglite', { GRAPHQL_ALLOWLIST: file });
  });
  afterAll(async () => { await t?.close(); await allowlisted?.close(); });
  const post = (app: TestApp, payload: object) => app.app.inject({ method: 'POST', url: '/graphql', payload });

  it('refuses a query deeper than GRAPHQL_MAX_DEPTH', async () => {
    const res = await post(t, { query: '{ pages { items { parent { parent { parent { parent { id } } } } } } }' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ message: expect.stringMatching(/depth/i), extensions: { code: expect.stringMatching(/^CMS_ERR_/) } });
    expect((await post(t, { query: '{ pages { items { parent { id } } } }' })).statusCode).toBe(200);
  });

  it('refuses a query that would cost more than GRAPHQL_MAX_COMPLEXITY, before running it', async () => {
    const res = await post(t, { query: '{ pages(limit: 20) { items { children(limit: 20) { items { id title slug } } } } }' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ extensions: { code: 'CMS_ERR_GRAPHQL_TOO_COMPLEX', cost: expect.any(Number), max: 500 } });
    expect((await post(t, { query: '{ pages(limit: 5) { items { children(limit: 5) { items { id title slug } } } } }' })).statusCode).toBe(200);
  });

  it('refuses a body over GRAPHQL_BODY_LIMIT_BYTES', async () => {
    const res = await post(t, { query: `{ pages { total_count } }${' '.repeat(3000)}` });
    expect(res.statusCode).toBe(413);
  });

  it('runs only allowlisted queries when GRAPHQL_ALLOWLIST is set', async () => {
    const byHash = await post(allowlisted, { query: hash, persisted: true });
    expect(byHash.statusCode).toBe(200);
    expect(byHash.json()).toEqual({ data: { pages: { total_count: 0 } } });
    const adHoc = await post(allowlisted, { query: '{ pages { total_count } }' });
    expect(adHoc.statusCode).toBe(400);
  });
});
