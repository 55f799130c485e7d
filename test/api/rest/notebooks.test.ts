import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBlockId } from '../../../src/blocks/block-ids.js';
import { pageFile } from '../../../src/history/git-repo.js';
import { DRIVERS, STRICT } from '../../helpers/env.js';
import { englishLesson, koreanLesson } from '../../helpers/fixtures.js';
import { api, startServer, type ServerProcess } from '../../helpers/server-process.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../../helpers/test-app.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/notebooks/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const KOREAN = 'linear-regression-ko.ipynb';
const ENGLISH = 'errors-en.ipynb';
const BODY_LIMIT = 64 * 1024;

const PYTHON = '/usr/bin/python3';
const HAS_NBFORMAT = spawnSync(PYTHON, ['-c', 'import nbformat'], { stdio: 'ignore' }).status === 0;
const VALIDATE = "import json, sys, warnings, nbformat; warnings.simplefilter('error'); text = sys.stdin.read(); "
  + 'nbformat.validate(json.loads(text)); nbformat.validate(nbformat.reads(text, as_version=4))';
/** Debian's nbformat validates (the pyenv python3 on PATH has none); strict mode never skips. */
function expectValidNotebook(text: string): void {
  const r = spawnSync(PYTHON, ['-c', VALIDATE], { input: text, encoding: 'utf8' });
  expect(r.error?.message ?? r.stderr, 'nbformat.validate').toBe('');
  expect(r.status).toBe(0);
}
const withNbformat = it.skipIf(!HAS_NBFORMAT && !STRICT);

type Role = 'admin' | 'editor' | 'reviewer' | null;
type Block = { type: string; value: any; id: string };

/** A multipart form: the notebook file and any fields. */
function form(text: string | Buffer, filename: string, fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  f.set('file', new Blob([text], { type: 'application/x-ipynb+json' }), filename);
  return f;
}

describe.each(DRIVERS)('notebooks over HTTP (%s)', (driver) => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(driver, { BODY_LIMIT_BYTES: String(BODY_LIMIT) }); });
  afterAll(async () => { await t?.close(); });

  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(t.dir, 'content.git'), ...args], { encoding: 'utf8' });
  const upload = (payload: FormData, role: Role = 'editor') => t.as(role, { method: 'POST', url: '/api/v2/pages/import/', payload });
  const notebookOf = (id: number, role: Role = null, query = '', headers: Record<string, string> = {}) =>
    t.as(role, { method: 'GET', url: `/api/v2/pages/${id}/notebook${query}`, headers });

  it('creates a lesson from the Korean fixture: 201, Location, blocks with ids, outputs kept, a git commit', async () => {
    const res = await upload(form(fixture(KOREAN), KOREAN));
    expect(res.statusCode).toBe(201);
    const page = res.json();
    expect(res.headers.location).toBe(`http://localhost:80/api/v2/pages/${page.id}/`);
    expect(res.headers.etag).toMatch(new RegExp(`^"${page.meta.revision}-`));
    expect(page.title).toBe('파이썬으로 선형 회귀 시작하기');
    expect(page.intro).toBe('이 노드에서는 최소제곱법으로 직선을 데이터에 맞춰 봅니다.');
    expect(page.meta).toMatchObject({ type: 'lesson', slug: '파이썬으로-선형-회귀-시작하기', live: false, has_unpublished_changes: true, import_warnings: [] });
    const body = page.body as Block[];
    expect(body.map((b) => b.type)).toEqual(['heading', 'paragraph', 'jupyter', 'heading', 'jupyter', 'block_quote', 'jupyter']);
    expect(body.every((b) => isBlockId(b.id))).toBe(true);
    expect(body[4]!.value).toMatchObject({ kernel: 'python3', execution_count: 2, outputs: [{ output_type: 'execute_result', data: { 'text/plain': '(1.99, 1.05)' } }] });
    expect(git('log', '-1', '--format=%an|%s', 'main')).toBe(`Eddie Editor|Import notebook ${KOREAN}\n`);
    expect(JSON.parse(git('show', `main:${pageFile(page.id)}`)).body).toEqual(body);
  });

  it('honours parent, title and publish, and takes the title from the file name when the notebook has no h1', async () => {
    const course = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson_index', title: 'Notebook course', publish: true } })).json();
    const nb = JSON.parse(fixture(ENGLISH));
    nb.cells.shift();
    const res = await upload(form(JSON.stringify(nb), 'week-2/lesson-3.ipynb', { parent: String(course.id), publish: 'true', message: 'From Jupyter' }), 'admin');
    expect(res.statusCode).toBe(201);
    const page = res.json();
    expect(page.title).toBe('lesson-3');
    expect(page.meta).toMatchObject({ live: true, parent: { id: course.id } });
    expect(git('log', '-1', '--format=%s', 'main')).toBe('From Jupyter\n');
    const live = await t.as(null, { method: 'GET', url: `/api/v2/pages/${page.id}/` });
    expect(live.statusCode).toBe(200);
    const titled = await upload(form(fixture(ENGLISH), ENGLISH, { title: '오류와 중단' }));
    expect(titled.json()).toMatchObject({ title: '오류와 중단', meta: { slug: '오류와-중단' } });
  });

  it('answers 401 without a token and 403 for a reviewer, before reading the upload', async () => {
    const anonymous = await upload(form(fixture(ENGLISH), ENGLISH), null);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'CMS_ERR_AUTH_REQUIRED' });
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="lectern"');
    const reviewer = await upload(form(fixture(ENGLISH), ENGLISH), 'reviewer');
    expect(reviewer.statusCode).toBe(403);
    expect(reviewer.json()).toMatchObject({ code: 'CMS_ERR_AUTH_FORBIDDEN' });
    // Not even a malformed body gets looked at.
    const garbage = await t.as(null, { method: 'POST', url: '/api/v2/pages/import/', payload: '--x\r\nnot multipart', headers: { 'content-type': 'multipart/form-data; boundary=x' } });
    expect(garbage.statusCode).toBe(401);
  });

  it('refuses a notebook larger than BODY_LIMIT_BYTES with 413 and writes nothing', async () => {
    const before = git('rev-list', '--count', 'main');
    const nb = JSON.parse(fixture(ENGLISH));
    nb.cells.push({ cell_type: 'raw', metadata: {}, source: 'x'.repeat(BODY_LIMIT) });
    const res = await upload(form(JSON.stringify(nb), 'big.ipynb'));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'CMS_ERR_API_PAYLOAD_TOO_LARGE', errors: [{ path: '/file', message: expect.stringContaining(`${BODY_LIMIT} bytes`) }] });
    expect(git('rev-list', '--count', 'main')).toBe(before);
  });

  it('refuses what is not a notebook with 400, a clear message and a pointer into the notebook', async () => {
    const fail = async (payload: FormData) => {
      const res = await upload(payload);
      expect(res.statusCode).toBe(400);
      return res.json();
    };
    expect(await fail(form('print("hello")', 'script.py'))).toMatchObject({ code: 'CMS_ERR_NOTEBOOK_INVALID', message: expect.stringMatching(/^not a Jupyter notebook: the file is not valid JSON/), errors: [{ path: '' }] });
    expect(await fail(form(readFileSync(new URL('../../fixtures/gradient-descent-en.json', import.meta.url)), 'lesson.json')))
      .toMatchObject({ message: 'not a Jupyter notebook: expected an object with "nbformat" and "cells"' });
    expect(await fail(form(Buffer.from([0xff, 0xfe, 0x00]), 'binary.ipynb'))).toMatchObject({ message: 'not a Jupyter notebook: the file is not UTF-8 text' });
    expect(await fail(form(JSON.stringify({ nbformat: 3, nbformat_minor: 0, worksheets: [] }), 'old.ipynb')))
      .toMatchObject({ errors: [{ path: '/nbformat', message: expect.stringContaining('only nbformat 4 notebooks can be imported; this file is nbformat 3') }] });
    const cells = await fail(form(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'heading', metadata: {}, source: 'x' }] }), 'x.ipynb'));
    expect(cells).toMatchObject({ code: 'CMS_ERR_VALIDATION', errors: [{ path: '/cells/0/cell_type', message: 'must be one of "markdown", "code", "raw"' }] });
    const noFile = new FormData();
    noFile.set('title', 'x');
    expect(await fail(noFile)).toMatchObject({ errors: [{ path: '/file' }] });
    expect(await fail(form(fixture(ENGLISH), ENGLISH, { colour: 'red' }))).toMatchObject({ errors: [{ path: '/colour' }] });
    expect(await fail(form(fixture(ENGLISH), ENGLISH, { parent: 'abc' }))).toMatchObject({ errors: [{ path: '/parent', message: 'must be a page id' }] });
    expect(await fail(form(fixture(ENGLISH), ENGLISH, { type: 'lesson_index' }))).toMatchObject({ errors: [{ path: '/type' }] });
    const json = await t.as('editor', { method: 'POST', url: '/api/v2/pages/import/', payload: JSON.parse(fixture(ENGLISH)) });
    expect(json.statusCode).toBe(415);
  });

  it('points block validation errors at the notebook cell, not at the page payload', async () => {
    const nb = JSON.parse(fixture(KOREAN));
    nb.cells[4].outputs[0].execution_count = 'two';
    nb.cells[3].source = `## ${'긴 제목 '.repeat(60)}`;
    const res = await upload(form(JSON.stringify(nb), KOREAN));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'CMS_ERR_VALIDATION',
      errors: [
        { path: '/cells/3/source', message: expect.stringContaining('heading: must NOT have more than 255 characters') },
        { path: '/cells/4/outputs/0/execution_count', message: expect.stringContaining('jupyter:') },
      ],
    });
  });

  withNbformat('exports the live lesson as a valid notebook: headers, ETag, 304, round trip with ids', async () => {
    const created = (await upload(form(fixture(KOREAN), KOREAN, { publish: 'true' }))).json();
    const res = await notebookOf(created.id);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ipynb+json; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="page-${created.id}.ipynb"; filename*=UTF-8''${encodeURIComponent(`${created.meta.slug}.ipynb`)}`,
    );
    expect(res.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    expectValidNotebook(res.body);
    const nb = res.json();
    expect(nb.metadata.lectern).toEqual({ page: created.id, revision: created.meta.revision, type: 'lesson', title: created.title, slug: created.meta.slug, intro: created.intro });
    expect(nb.cells.slice(1).map((c: { id: string }) => c.id)).toEqual(created.body.map((b: Block) => b.id));
    expect(res.body).toContain('기울기가 2에 가깝게 나오면 성공입니다.');
    const cached = await notebookOf(created.id, null, '', { 'if-none-match': res.headers.etag as string });
    expect(cached.statusCode).toBe(304);

    const again = await upload(form(res.body, `${created.meta.slug}.ipynb`));
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ title: created.title, intro: created.intro, body: created.body });
    expect(again.json().meta.slug).toMatch(/^파이썬으로-선형-회귀-시작하기-\d+$/);
  });

  withNbformat('exports lessons written in Lectern (the shared lesson fixtures) and imports them back block for block', async () => {
    for (const lesson of [koreanLesson(), englishLesson()]) {
      const created = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { ...lesson, publish: true } })).json();
      const res = await notebookOf(created.id);
      expect(res.statusCode).toBe(200);
      expectValidNotebook(res.body);
      const again = (await upload(form(res.body, 'lesson.ipynb'))).json();
      expect(again).toMatchObject({ title: created.title, intro: created.intro, environment: created.environment, body: created.body });
    }
    const korean = await notebookOf((await t.as(null, { method: 'GET', url: '/api/v2/pages/?type=lesson&slug=딥러닝-기초-1강-pytorch로-시작하기' })).json().items[0].id);
    expect(korean.headers['content-disposition']).toBe(`attachment; filename="1-pytorch.ipynb"; filename*=UTF-8''${encodeURIComponent('딥러닝-기초-1강-pytorch로-시작하기.ipynb')}`);
  });

  withNbformat('serves drafts to editors and reviewers only, and 404s what the detail view 404s', async () => {
    const draft = (await upload(form(fixture(ENGLISH), ENGLISH))).json();
    expect((await notebookOf(draft.id)).statusCode).toBe(404);
    expect((await notebookOf(draft.id, null, '?version=draft')).statusCode).toBe(401);
    const asReviewer = await notebookOf(draft.id, 'reviewer', '?version=draft');
    expect(asReviewer.statusCode).toBe(200);
    expect(asReviewer.headers['content-disposition']).toBe('attachment; filename="errors-and-interrupts.ipynb"');
    expect(asReviewer.headers['cache-control']).toBe('private, no-store');
    expectValidNotebook(asReviewer.body);
    expect(asReviewer.json().metadata.lectern.revision).toBe(draft.meta.revision);
    const index = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson_index', title: 'Index', publish: true } })).json();
    expect((await notebookOf(index.id)).json()).toMatchObject({ statusCode: 404, code: 'CMS_ERR_PAGE_NOT_FOUND' });
    expect((await notebookOf(999_999)).statusCode).toBe(404);
    expect((await t.as(null, { method: 'GET', url: '/api/v2/pages/abc/notebook' })).statusCode).toBe(404);
    expect((await notebookOf(draft.id, 'reviewer', '?version=old')).statusCode).toBe(400);
  });
});

describe('lectern import (CLI)', () => {
  const run = promisify(execFile);
  let server: ServerProcess;
  let dataDir: string;
  let folder: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lectern-import-'));
    folder = mkdtempSync(join(tmpdir(), 'lectern-notebooks-'));
    mkdirSync(join(folder, 'week-1', '.ipynb_checkpoints'), { recursive: true });
    mkdirSync(join(folder, 'week-10'));
    cpSync(join(FIXTURES, KOREAN), join(folder, 'week-1', KOREAN));
    cpSync(join(FIXTURES, KOREAN), join(folder, 'week-1', '.ipynb_checkpoints', 'linear-regression-ko-checkpoint.ipynb'));
    cpSync(join(FIXTURES, ENGLISH), join(folder, 'week-10', ENGLISH));
    writeFileSync(join(folder, 'week-1', 'broken.ipynb'), '{"nbformat": 3}');
    writeFileSync(join(folder, 'week-1', 'notes.txt'), 'not a notebook');
    server = await startServer({ DATA_DIR: dataDir, ADMIN_TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(folder, { recursive: true, force: true });
  });

  async function cli(args: string[], env: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'import', ...args], { env: { PATH: process.env.PATH, ...env } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('imports a folder through the running server, sorted, reports the broken notebook and exits 1', async () => {
    const course = (await api(server.url, '/api/v2/pages/', { method: 'POST', token: ADMIN_TOKEN, body: { type: 'lesson_index', title: 'Course', publish: true } })).json();
    const res = await cli([folder, '--url', server.url, '--parent', String(course.id), '--publish'], { LECTERN_TOKEN: ADMIN_TOKEN });
    expect(res.code).toBe(1);
    const lines = res.stdout.trim().split('\n').map((l) => l.split('\t'));
    const base = folder.split('/').pop();
    expect(lines.map((l) => l[2])).toEqual([`${base}/week-1/${KOREAN}`, `${base}/week-10/${ENGLISH}`]);
    for (const [id, url] of lines) expect(url).toBe(`${server.url}/api/v2/pages/${id}/`);
    expect(res.stderr).toContain(`[1/3] ${base}/week-1/broken.ipynb: failed: 400 not a Jupyter notebook: only nbformat 4 notebooks can be imported`);
    expect(res.stderr).toContain('(open and save it in a current Jupyter to convert it) (at /nbformat)');
    expect(res.stderr).toMatch(new RegExp(`\\[2/3\\] ${base}/week-1/${KOREAN}: created page \\d+`));
    expect(res.stderr).toContain('Imported 2 of 3 notebooks; 1 failed.');
    expect(res.stderr).not.toContain('\r');
    const children = (await api(server.url, `/api/v2/pages/?child_of=${course.id}&type=lesson&fields=title`)).json();
    expect(children.items.map((p: { title: string }) => p.title)).toEqual(['파이썬으로 선형 회귀 시작하기', 'Errors and interrupts']);
  });

  it('imports single files with --token and stops at once on a bad token', async () => {
    const ok = await cli([join(FIXTURES, ENGLISH), '--url', server.url, '--token', ADMIN_TOKEN]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^\d+\t/);
    expect(ok.stderr).toContain('Imported 1 of 1 notebook.');
    const bad = await cli([folder, '--url', server.url, '--token', 'wrong-token']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('lectern: 401 invalid or revoked token');
    const none = await cli([folder, '--url', server.url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('LECTERN_TOKEN');
  });
});
