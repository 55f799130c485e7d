import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageFile } from '../../src/history/git-repo.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../helpers/env.js';
import { englishLesson, koreanLesson } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(DRIVERS)('the content repository, as real git sees it (%s)', (driver) => {
  let t: TestApp;
  let ko: { id: number };
  let en: { id: number };
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(t.dir, 'content.git'), ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    t = await startTestApp(driver);
    const post = (role: 'admin' | 'editor', payload: object) => t.as(role, { method: 'POST', url: '/api/v2/pages/', payload }).then((r) => r.json());
    ko = await post('editor', { ...koreanLesson(), message: '첫 초안' });
    en = await post('admin', { ...englishLesson(), publish: true });
    await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${ko.id}/`, payload: { intro: '수정된 소개' } });
    await t.as('editor', { method: 'POST', url: `/api/v2/pages/${ko.id}/publish/` });
    await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${ko.id}/`, payload: { intro: '초안만 바뀜', message: 'Draft tweak' } });
  });
  afterAll(async () => { await t?.close(); });

  it('has one commit on main per save, authored by the token\'s user, with the trailers', () => {
    const log = git('log', '--format=%an <%ae>|%s', 'main').trim().split('\n');
    expect(log).toEqual([
      'Eddie Editor <eddie@example.com>|Draft tweak',
      'Eddie Editor <eddie@example.com>|Update lesson "딥러닝 기초 1강: PyTorch로 시작하기"',
      'admin <admin@lectern.invalid>|Create lesson "Gradient Descent, Step by Step"',
      'Eddie Editor <eddie@example.com>|첫 초안',
    ]);
    const message = git('log', '-1', '--format=%B', 'main');
    expect(message).toMatch(new RegExp(`Page-Id: ${ko.id}\nRevision-Id: \\d+\nAction: update\n`));
    expect(git('log', '--format=%(trailers:key=Action,valueonly)', 'main').trim().split(/\n+/)).toEqual(['update', 'update', 'create', 'create']);
  });

  it('holds the latest draft on main and the published page on live', async () => {
    const draft = (await t.as('reviewer', { url: `/api/v2/pages/${ko.id}/?version=draft` })).json();
    const onMain = JSON.parse(git('show', `main:${pageFile(ko.id)}`));
    expect(onMain).toMatchObject({ id: ko.id, title: draft.title, intro: '초안만 바뀜', body: draft.body });
    const onLive = JSON.parse(git('show', `live:${pageFile(ko.id)}`));
    expect(onLive.intro).toBe('수정된 소개');
    const live = (await t.app.inject({ url: `/api/v2/pages/${ko.id}/` })).json();
    expect(onLive).toMatchObject({ intro: live.intro, body: live.body, title: live.title });
    expect(JSON.parse(git('show', `live:${pageFile(en.id)}`)).title).toBe('Gradient Descent, Step by Step');
    expect(git('log', '--format=%s', 'live').trim().split('\n')).toHaveLength(2);
  });

  it('stores pages as canonical, pretty-printed JSON, so diffs read well', () => {
    const file = git('show', `main:${pageFile(ko.id)}`);
    expect(file).toBe(`${JSON.stringify(JSON.parse(file), null, 2)}\n`);
    expect(Object.keys(JSON.parse(file)).slice(0, 5)).toEqual(['id', 'type', 'parent', 'title', 'slug']);
    const diff = git('diff', 'live', 'main', '--', pageFile(ko.id));
    expect(diff).toContain('-  "intro": "수정된 소개",');
    expect(diff).toContain('+  "intro": "초안만 바뀜",');
  });

  it('passes git fsck --strict and can be cloned', () => {
    expect(() => git('fsck', '--strict', '--no-dangling')).not.toThrow();
    const target = mkdtempSync(join(tmpdir(), 'lectern-clone-'));
    try {
      execFileSync('git', ['clone', '--quiet', join(t.dir, 'content.git'), join(target, 'c')]);
      const files = execFileSync('git', ['-C', join(target, 'c'), 'ls-files'], { encoding: 'utf8' }).trim().split('\n');
      expect(files).toEqual([pageFile(ko.id), pageFile(en.id)].sort());
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('indexes every revision in the database with its commit and blob', async () => {
    const revs = (await t.as('reviewer', { url: `/api/v2/pages/${ko.id}/revisions/` })).json().items as { commit: string; blob: string }[];
    expect(revs).toHaveLength(3);
    const commits = git('log', '--format=%H', 'main', '--', pageFile(ko.id)).trim().split('\n');
    expect(revs.map((r) => r.commit)).toEqual(commits);
    for (const r of revs) expect(git('rev-parse', `${r.commit}:${pageFile(ko.id)}`).trim()).toBe(r.blob);
  });
});
