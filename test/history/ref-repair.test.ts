import { execFileSync } from 'node:child_process';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pageFile } from '../../src/history/git-repo.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The write order is objects, database row, ref. A process killed between the last two
 * leaves the ref behind the database; one killed while holding `<ref>.lock` leaves the lock.
 */
describe('recovering from a writer killed mid-save', () => {
  let t: TestApp;
  let pageId: number;
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(t.dir, 'content.git'), ...args], { encoding: 'utf8' }).trim();
  const save = (intro: string) => t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${pageId}/`, payload: { intro } });

  beforeAll(async () => {
    t = await startTestApp('pglite');
    pageId = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Crashy', body: [] } })).json().id;
    await save('one');
    await save('two');
  });
  afterAll(async () => { await t?.close(); });

  it('repairs a ref that lags the database, and later saves build on the database head', async () => {
    const head = git('rev-parse', 'main');
    git('update-ref', 'refs/heads/main', `${head}~1`); // as if the ref move never happened
    // A save made while the ref lags still builds on the last acknowledged commit.
    expect((await save('three')).statusCode).toBe(200);
    expect(git('rev-parse', 'main~1')).toBe(head);

    git('update-ref', 'refs/heads/main', 'main~2');
    const fixed = await t.app.lectern.content.revisions.repairRefs();
    expect(fixed).toEqual([expect.stringMatching(/^main: [0-9a-f]{40} -> [0-9a-f]{40}$/)]);
    expect(JSON.parse(git('show', `main:${pageFile(pageId)}`)).intro).toBe('three');
    expect(Number(git('rev-list', '--count', 'main'))).toBe(4);
    expect(await t.app.lectern.content.revisions.repairRefs()).toEqual([]);
  });

  it('breaks a ref lock left behind by a killed writer', async () => {
    const lock = join(t.dir, 'content.git', 'refs', 'heads', 'main.lock');
    writeFileSync(lock, 'garbage\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect((await save('after the crash')).statusCode).toBe(200);
    expect(JSON.parse(git('show', `main:${pageFile(pageId)}`)).intro).toBe('after the crash');
    expect(() => git('fsck', '--strict')).not.toThrow();
  });
});
