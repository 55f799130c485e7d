import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pageFile } from '../../src/history/git-repo.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../helpers/env.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * isomorphic-git alone drops commits when writers race on a ref; Lectern serializes
 * writers. These saves are all in flight at once.
 */
describe.each(DRIVERS)('50 concurrent saves (%s)', (driver) => {
  let t: TestApp;
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(t.dir, 'content.git'), ...args], { encoding: 'utf8' }).trim();
  const commits = () => Number(git('rev-list', '--count', 'main'));
  const revisionCount = async (id: number) => (await t.as('reviewer', { url: `/api/v2/pages/${id}/revisions/?limit=0` })).json().meta.total_count as number;

  beforeAll(async () => { t = await startTestApp(driver); });
  afterAll(async () => { await t?.close(); });

  it('to one page: 50 revisions, 50 commits on main, every edit in the history', async () => {
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Hot page', body: [] } })).json();
    const before = commits();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      t.as(i % 2 ? 'editor' : 'admin', { method: 'PATCH', url: `/api/v2/pages/${page.id}/`, payload: { intro: `edit ${i}` } })));
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    expect(await revisionCount(page.id)).toBe(51);
    expect(commits() - before).toBe(50);
    const intros = git('log', '--format=%H', '-50', 'main').split('\n')
      .map((sha) => JSON.parse(git('show', `${sha}:${pageFile(page.id)}`)).intro as string);
    expect(new Set(intros)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `edit ${i}`)));
    expect(() => git('fsck', '--strict')).not.toThrow();
  });

  it('to several pages: every page gets its revisions, main has them all', async () => {
    const pages = await Promise.all(Array.from({ length: 5 }, (_, i) =>
      t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: `Parallel ${i}`, body: [] } }).then((r) => r.json() as { id: number })));
    const before = commits();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${pages[i % 5]!.id}/`, payload: { intro: `edit ${i}` } })));
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(commits() - before).toBe(50);
    for (const p of pages) expect(await revisionCount(p.id)).toBe(11);
    // Each page's last committed edit is what the database shows as its draft.
    for (const p of pages) {
      const draft = (await t.as('reviewer', { url: `/api/v2/pages/${p.id}/?version=draft` })).json();
      expect(JSON.parse(git('show', `main:${pageFile(p.id)}`)).intro).toBe(draft.intro);
    }
  });
});
