import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../helpers/env.js';
import { englishLesson, koreanLesson } from '../../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

interface Item { id: number; meta: Record<string, unknown>; title: string; [k: string]: unknown }

describe.each(DRIVERS)('Wagtail API v2 reads (%s)', (driver) => {
  let t: TestApp;
  const ids: Record<string, number> = {};
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ url, headers });
  const items = async (url: string) => {
    const res = await get(url);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items as Item[];
  };
  const error = async (url: string) => {
    const res = await get(url);
    return { status: res.statusCode, message: res.json().message as string };
  };

  beforeAll(async () => {
    t = await startTestApp(driver, { SITE_URL: 'https://learn.example.com' });
    const create = async (key: string, payload: object) => {
      const res = await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload });
      expect(res.statusCode, res.body).toBe(201);
      ids[key] = res.json().id;
    };
    await create('course', { type: 'lesson_index', title: 'Deep Learning', intro: '<p>A course</p>', show_in_menus: true, publish: true });
    await create('basics', { type: 'lesson_index', title: 'Basics', parent: undefined, publish: true });
    await t.as('editor', { method: 'POST', url: `/api/v2/pages/${ids.basics}/move/`, payload: { parent: ids.course } });
    await create('gd', { ...englishLesson(), parent: ids.basics, publish: true });
    await create('ko', { ...koreanLesson(), parent: ids.basics, publish: true });
    await create('zeta', { type: 'lesson', title: 'Zeta functions', intro: 'zeta', environment: 'numpy-2', parent: ids.course, body: [], publish: true });
    await create('draft', { type: 'lesson', title: 'Unpublished thoughts', parent: ids.course, body: [] });
  });
  afterAll(async () => { await t?.close(); });

  it('lists live pages in tree order with the default listing fields', async () => {
    const res = await get('/api/v2/pages/');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body.meta).toEqual({ total_count: 5 });
    expect(body.items.map((i: Item) => i.id)).toEqual([ids.course, ids.basics, ids.gd, ids.ko, ids.zeta]);
    expect(body.items[2]).toEqual({
      id: ids.gd,
      meta: {
        type: 'lesson',
        detail_url: `http://localhost:80/api/v2/pages/${ids.gd}/`,
        html_url: 'https://learn.example.com/deep-learning/basics/gradient-descent-step-by-step/',
        slug: 'gradient-descent-step-by-step',
        first_published_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/),
      },
      title: 'Gradient Descent, Step by Step',
    });
  });

  it('fetches a lesson by slug the way a React frontend does: body blocks as stored', async () => {
    const slug = encodeURIComponent('딥러닝-기초-1강-pytorch로-시작하기');
    const [lesson] = await items(`/api/v2/pages/?type=lesson&slug=${slug}&fields=*`);
    expect(lesson).toMatchObject({ id: ids.ko, title: '딥러닝 기초 1강: PyTorch로 시작하기', environment: 'pytorch-2.4-cuda' });
    const stored = (await t.as('reviewer', { url: `/api/v2/pages/${ids.ko}/?version=draft` })).json().body;
    expect(lesson!.body).toEqual(stored);
    expect((lesson!.body as { type: string }[]).map((b) => b.type)).toEqual(['heading', 'paragraph', 'jupyter', 'block_quote', 'code', 'embed', 'text']);
    expect(Object.keys((lesson!.body as object[])[0]!)).toEqual(['type', 'value', 'id']);
    expect(Object.keys(lesson!.meta)).toEqual(['type', 'detail_url', 'html_url', 'slug', 'show_in_menus', 'seo_title', 'search_description', 'first_published_at', 'last_published_at', 'alias_of']);
  });

  it('applies the fields syntax: -x, *, _, nested, and rejects unknown fields', async () => {
    expect(Object.keys((await items('/api/v2/pages/?fields=-title'))[0]!)).toEqual(['id', 'meta']);
    expect((await items('/api/v2/pages/?fields=_,title'))[0]).toEqual({ title: 'Deep Learning' });
    expect((await items('/api/v2/pages/?fields=_'))[0]).toEqual({});
    expect((await items(`/api/v2/pages/?type=lesson&fields=_,intro&slug=zeta-functions`))[0]).toEqual({ intro: 'zeta' });
    expect((await items('/api/v2/pages/?fields=_,show_in_menus'))[0]).toEqual({ meta: { show_in_menus: true } });
    expect(await error('/api/v2/pages/?fields=body')).toEqual({ status: 400, message: 'unknown fields: body' });
    expect(await error('/api/v2/pages/?fields=title,*')).toEqual({ status: 400, message: "fields error: '*' must be in the first position" });
    expect(await error('/api/v2/pages/?fields=title(foo)')).toEqual({ status: 400, message: "'title' does not support nested fields" });
    expect(await error('/api/v2/pages/?fields=parent')).toEqual({ status: 400, message: 'unknown fields: parent' });
    const detail = (await get(`/api/v2/pages/${ids.gd}/?fields=_,parent(slug)`)).json();
    expect(detail).toEqual({ meta: { parent: { id: ids.basics, meta: { type: 'lesson_index', detail_url: `http://localhost:80/api/v2/pages/${ids.basics}/`, html_url: 'https://learn.example.com/deep-learning/basics/', slug: 'basics' }, title: 'Basics' } } });
  });

  it('filters by type and by exact field values, with Wagtail\'s errors', async () => {
    expect((await items('/api/v2/pages/?type=lesson_index')).map((i) => i.id)).toEqual([ids.course, ids.basics]);
    expect((await items('/api/v2/pages/?type=lesson,lesson_index')).length).toBe(5);
    expect(await error('/api/v2/pages/?type=blog')).toEqual({ status: 400, message: "type doesn't exist" });
    expect((await items('/api/v2/pages/?slug=basics')).map((i) => i.id)).toEqual([ids.basics]);
    expect((await items('/api/v2/pages/?title=Zeta%20functions')).map((i) => i.id)).toEqual([ids.zeta]);
    expect((await items(`/api/v2/pages/?id=${ids.ko}`)).map((i) => i.id)).toEqual([ids.ko]);
    expect((await items('/api/v2/pages/?show_in_menus=true')).map((i) => i.id)).toEqual([ids.course]);
    expect((await items('/api/v2/pages/?type=lesson&environment=numpy-2')).map((i) => i.id)).toEqual([ids.zeta]);
    expect(await error('/api/v2/pages/?environment=numpy-2')).toEqual({ status: 400, message: 'query parameter is not an operation or a recognised field: environment' });
    expect(await error('/api/v2/pages/?foo=1')).toEqual({ status: 400, message: 'query parameter is not an operation or a recognised field: foo' });
    expect(await error('/api/v2/pages/?zzz=1&foo=1')).toEqual({ status: 400, message: 'query parameter is not an operation or a recognised field: foo, zzz' });
    expect(await error('/api/v2/pages/?id=abc')).toEqual({ status: 400, message: "field filter error. 'abc' is not a valid value for id (invalid literal for int() with base 10: 'abc')" });
    expect(await error('/api/v2/pages/?show_in_menus=abc')).toEqual({ status: 400, message: "field filter error. 'abc' is not a valid value for show_in_menus (expected 'true' or 'false', got 'abc')" });
    expect(await error('/api/v2/pages/?slug=a%00b')).toEqual({ status: 400, message: 'field filter error. null characters are not allowed for slug' });
  });

  it('filters by tree position', async () => {
    expect((await items(`/api/v2/pages/?child_of=${ids.course}`)).map((i) => i.id)).toEqual([ids.basics, ids.zeta]);
    expect((await items('/api/v2/pages/?child_of=root')).map((i) => i.id)).toEqual([ids.course]);
    expect((await items(`/api/v2/pages/?descendant_of=${ids.course}`)).map((i) => i.id)).toEqual([ids.basics, ids.gd, ids.ko, ids.zeta]);
    expect((await items(`/api/v2/pages/?ancestor_of=${ids.ko}`)).map((i) => i.id)).toEqual([ids.course, ids.basics]);
    expect((await items(`/api/v2/pages/?ancestor_of=${ids.course}`))).toEqual([]);
    expect(await error('/api/v2/pages/?child_of=abc')).toEqual({ status: 400, message: 'child_of must be a positive integer' });
    expect(await error('/api/v2/pages/?child_of=999999')).toEqual({ status: 400, message: "parent page doesn't exist" });
    expect(await error(`/api/v2/pages/?child_of=${ids.draft}`)).toEqual({ status: 400, message: "parent page doesn't exist" });
    expect(await error('/api/v2/pages/?descendant_of=999999')).toEqual({ status: 400, message: "ancestor page doesn't exist" });
    expect(await error('/api/v2/pages/?ancestor_of=999999')).toEqual({ status: 400, message: "descendant page doesn't exist" });
    expect(await error(`/api/v2/pages/?child_of=${ids.course}&descendant_of=${ids.course}`)).toEqual({ status: 400, message: 'filtering by descendant_of with child_of is not supported' });
  });

  it('orders by fields, descending, several, or randomly', async () => {
    expect((await items('/api/v2/pages/?order=title')).map((i) => i.title)).toEqual(['Basics', 'Deep Learning', 'Gradient Descent, Step by Step', 'Zeta functions', '딥러닝 기초 1강: PyTorch로 시작하기']);
    expect((await items('/api/v2/pages/?order=-id')).map((i) => i.id)).toEqual([ids.zeta, ids.ko, ids.gd, ids.basics, ids.course]);
    expect((await items('/api/v2/pages/?order=show_in_menus,-id')).map((i) => i.id)).toEqual([ids.zeta, ids.ko, ids.gd, ids.basics, ids.course]);
    expect((await items('/api/v2/pages/?order=random')).map((i) => i.id).sort()).toEqual([ids.course, ids.basics, ids.gd, ids.ko, ids.zeta].sort());
    expect(await error('/api/v2/pages/?order=random&offset=1')).toEqual({ status: 400, message: 'random ordering with offset is not supported' });
    expect(await error('/api/v2/pages/?order=random,id')).toEqual({ status: 400, message: 'random ordering cannot be combined with other fields' });
    expect(await error('/api/v2/pages/?order=colour')).toEqual({ status: 400, message: "cannot order by 'colour' (unknown field)" });
    expect(await error('/api/v2/pages/?order=-random')).toEqual({ status: 400, message: "cannot order by 'random' (unknown field)" });
  });

  it('paginates with limit and offset within the configured maximum', async () => {
    const page = (await get('/api/v2/pages/?limit=2&offset=1')).json();
    expect(page.meta.total_count).toBe(5);
    expect(page.items.map((i: Item) => i.id)).toEqual([ids.basics, ids.gd]);
    const past = (await get('/api/v2/pages/?offset=50')).json();
    expect(past).toEqual({ meta: { total_count: 5 }, items: [] });
    expect((await get('/api/v2/pages/?limit=0')).json()).toEqual({ meta: { total_count: 5 }, items: [] });
    expect(await error('/api/v2/pages/?limit=1000')).toEqual({ status: 400, message: 'limit cannot be higher than 20' });
    expect(await error('/api/v2/pages/?limit=-1')).toEqual({ status: 400, message: 'limit must be a positive integer' });
    expect(await error('/api/v2/pages/?limit=x')).toEqual({ status: 400, message: 'limit must be a positive integer' });
    expect(await error('/api/v2/pages/?offset=x')).toEqual({ status: 400, message: 'offset must be a positive integer' });
  });

  it('searches titles and text, in any script', async () => {
    expect((await items('/api/v2/pages/?search=gradient')).map((i) => i.id)).toEqual([ids.gd]);
    expect((await items(`/api/v2/pages/?search=${encodeURIComponent('텐서')}`)).map((i) => i.id)).toEqual([ids.ko]);
    expect((await items('/api/v2/pages/?search=diverge')).map((i) => i.id)).toEqual([ids.gd]);
    expect((await items('/api/v2/pages/?search=zeta%20gradient')).map((i) => i.id)).toEqual([]);
    expect((await items('/api/v2/pages/?search=zeta%20gradient&search_operator=or')).map((i) => i.id).sort()).toEqual([ids.gd, ids.zeta].sort());
    expect((await items('/api/v2/pages/?search=thoughts')).map((i) => i.id)).toEqual([]);
    expect((await get('/api/v2/pages/?search=')).json().meta.total_count).toBe(0);
    expect(await error('/api/v2/pages/?search=x&search_operator=xor')).toEqual({ status: 400, message: "search_operator must be either 'or' or 'and'" });
  });

  it('finds a page by path with a 302 to its detail URL, and 404 "not found" otherwise', async () => {
    const res = await get(`/api/v2/pages/find/?html_path=${encodeURIComponent('/deep-learning/basics/딥러닝-기초-1강-pytorch로-시작하기/')}`);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`http://localhost:80/api/v2/pages/${ids.ko}/`);
    expect((await get('/api/v2/pages/find/?html_path=deep-learning/basics')).headers.location).toBe(`http://localhost:80/api/v2/pages/${ids.basics}/`);
    expect(await error('/api/v2/pages/find/?html_path=/a/b/')).toEqual({ status: 404, message: 'not found' });
    expect(await error('/api/v2/pages/find/?html_path=/deep-learning/unpublished-thoughts/')).toEqual({ status: 404, message: 'not found' });
    expect(await error('/api/v2/pages/find/')).toEqual({ status: 404, message: 'not found' });
  });

  it('serves a detail with all fields and the parent, and 404 for what is not live', async () => {
    const d = (await get(`/api/v2/pages/${ids.zeta}/`)).json();
    expect(Object.keys(d)).toEqual(['id', 'meta', 'title', 'intro', 'environment', 'body']);
    expect(d.meta.parent).toEqual({ id: ids.course, meta: { type: 'lesson_index', detail_url: `http://localhost:80/api/v2/pages/${ids.course}/`, html_url: 'https://learn.example.com/deep-learning/' }, title: 'Deep Learning' });
    expect((await get(`/api/v2/pages/${ids.course}/`)).json().meta.parent).toBeNull();
    expect(await error(`/api/v2/pages/${ids.draft}/`)).toEqual({ status: 404, message: 'No Page matches the given query.' });
    expect(await error('/api/v2/pages/999999/')).toEqual({ status: 404, message: 'No Page matches the given query.' });
    expect(await error('/api/v2/pages/abc/')).toEqual({ status: 404, message: 'No Page matches the given query.' });
    expect((await get(`/api/v2/pages/${ids.zeta}`)).statusCode).toBe(200);
  });

  it('answers If-None-Match with 304 for an unchanged page and listing, and sends a new ETag after a publish', async () => {
    const url = '/api/v2/pages/?type=lesson&slug=zeta-functions&fields=*';
    const first = await get(url);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    const again = await get(url, { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const detail = await get(`/api/v2/pages/${ids.zeta}/`);
    expect(detail.headers.etag).toMatch(/^"\d+-/);
    expect((await get(`/api/v2/pages/${ids.zeta}/`, { 'if-none-match': detail.headers.etag as string })).statusCode).toBe(304);

    await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${ids.zeta}/`, payload: { intro: 'zeta, revised', publish: true } });
    const after = await get(url, { 'if-none-match': etag });
    expect(after.statusCode).toBe(200);
    expect(after.json().items[0].intro).toBe('zeta, revised');
    expect(after.headers.etag).not.toBe(etag);
    expect((await get(`/api/v2/pages/${ids.zeta}/`, { 'if-none-match': detail.headers.etag as string })).statusCode).toBe(200);
  });

  it('follows URL changes that do not touch the live branch, even when the old answer was cached', async () => {
    const folder = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson_index', title: 'Hidden folder' } })).json();
    const child = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Visible child', parent: folder.id, body: [], publish: true } })).json();
    const url = `/api/v2/pages/${child.id}/`;
    expect((await get(url)).json().meta.html_url).toBe('https://learn.example.com/hidden-folder/visible-child/');
    expect((await get(url)).json().meta.html_url).toBe('https://learn.example.com/hidden-folder/visible-child/');
    await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${folder.id}/`, payload: { slug: 'renamed' } });
    expect((await get(url)).json().meta.html_url).toBe('https://learn.example.com/renamed/visible-child/');
    await t.as('editor', { method: 'POST', url: `/api/v2/pages/${child.id}/move/`, payload: { parent: ids.course } });
    expect((await get(url)).json().meta.html_url).toBe('https://learn.example.com/deep-learning/visible-child/');
    // A draft edit of a live page changes nothing a public reader sees.
    await t.as('editor', { method: 'PATCH', url, payload: { title: 'Draft title' } });
    expect((await get(url)).json().title).toBe('Visible child');
  });

  it('shows drafts to editors and reviewers with ?version=draft, never to anonymous readers', async () => {
    const drafts = await t.as('reviewer', { url: '/api/v2/pages/?version=draft&limit=20' });
    expect(drafts.statusCode).toBe(200);
    expect(drafts.json().items.map((i: Item) => i.id)).toContain(ids.draft);
    expect(drafts.headers['cache-control']).toBe('private, no-store');
    expect((await get('/api/v2/pages/?version=draft')).statusCode).toBe(401);
    expect((await get(`/api/v2/pages/${ids.draft}/?version=draft`)).statusCode).toBe(401);
    expect((await t.as('reviewer', { url: `/api/v2/pages/${ids.draft}/?version=draft` })).json().meta).toMatchObject({ live: false, revision: expect.any(Number) });
    expect(await error('/api/v2/pages/?version=latest')).toEqual({ status: 400, message: "version must be 'live' or 'draft'" });
    const found = await t.as('reviewer', { url: '/api/v2/pages/find/?html_path=/deep-learning/unpublished-thoughts/&version=draft' });
    expect(found.headers.location).toBe(`http://localhost:80/api/v2/pages/${ids.draft}/?version=draft`);
  });
});

describe('API limit configuration', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp('pglite', { API_LIMIT_MAX: '50' }); });
  afterAll(async () => { await t?.close(); });

  it('raises the maximum limit with API_LIMIT_MAX', async () => {
    expect((await t.app.inject({ url: '/api/v2/pages/?limit=50' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v2/pages/?limit=51' })).json().message).toBe('limit cannot be higher than 50');
  });
});
