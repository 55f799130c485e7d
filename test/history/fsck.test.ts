import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { gitRefs, pages } from '../../src/db/schema.js';
import { firstDifference, fsck, type FsckProblem } from '../../src/history/fsck.js';
import { GitRepo } from '../../src/history/git-repo.js';
import { DRIVERS } from '../helpers/env.js';
import { englishLesson, koreanLesson } from '../helpers/fixtures.js';
import { ADMIN_TOKEN, createTestDatabase, startTestApp, type TestApp, type TestDatabase } from '../helpers/test-app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Role = 'admin' | 'editor';
type Inject = (role: Role, method: string, url: string, payload?: object) => Promise<{ id: number; meta: { revision: number } }>;

/**
 * Creates, updates, publishes (also an older revision), reverts, unpublishes, moves and
 * deletes (a live subtree): every kind of commit Lectern writes.
 */
async function writeHistory(call: Inject) {
  const ko = await call('editor', 'POST', '/api/v2/pages/', { ...koreanLesson(), message: '첫 초안' });
  const en = await call('admin', 'POST', '/api/v2/pages/', { ...englishLesson(), publish: true });
  const course = await call('editor', 'POST', '/api/v2/pages/', { type: 'lesson_index', title: 'Deep learning', publish: true });
  await call('editor', 'PATCH', `/api/v2/pages/${ko.id}/`, { intro: '수정된 소개' });
  await call('editor', 'POST', `/api/v2/pages/${ko.id}/publish/`);
  await call('editor', 'POST', `/api/v2/pages/${ko.id}/move/`, { parent: course.id });
  await call('editor', 'PATCH', `/api/v2/pages/${ko.id}/`, { intro: '초안만 바뀜' });
  await call('editor', 'POST', `/api/v2/pages/${ko.id}/revert/`, { revision: ko.meta.revision });
  await call('editor', 'POST', `/api/v2/pages/${en.id}/unpublish/`);
  const enV2 = await call('editor', 'PATCH', `/api/v2/pages/${en.id}/`, { intro: 'A gentler introduction.' });
  await call('editor', 'PATCH', `/api/v2/pages/${en.id}/`, { intro: 'Not published yet.' });
  await call('editor', 'POST', `/api/v2/pages/${en.id}/publish/`, { revision: enV2.meta.revision });
  const old = await call('editor', 'POST', '/api/v2/pages/', { type: 'lesson_index', title: 'Old course', publish: true });
  await call('editor', 'POST', '/api/v2/pages/', { type: 'lesson', title: 'Doomed', parent: old.id, body: [], publish: true });
  await call('editor', 'POST', '/api/v2/pages/', { type: 'lesson', title: 'Draft only', parent: old.id, body: [] });
  await call('editor', 'DELETE', `/api/v2/pages/${old.id}/`);
  return { ko, en, course };
}

const checks = (problems: FsckProblem[]) => problems.map((p) => p.check);

describe.each(DRIVERS)('fsck: the database against the repository (%s)', (driver) => {
  let t: TestApp;
  let ids: { ko: number; en: number; course: number };
  const gitdir = () => join(t.dir, 'content.git');
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitdir(), ...args], { encoding: 'utf8' }).trim();
  const run = () => fsck(t.app.lectern.database, gitdir());
  const db = () => t.app.lectern.database.db;

  beforeAll(async () => {
    t = await startTestApp(driver, { SCHEDULER_INTERVAL_MS: '0' });
    const made = await writeHistory(async (role, method, url, payload) => {
      const res = await t.as(role, { method: method as 'GET', url, payload });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json();
    });
    ids = { ko: made.ko.id, en: made.en.id, course: made.course.id };
  });
  afterAll(async () => { await t?.close(); });

  it('finds nothing wrong after a realistic history', async () => {
    expect(await run()).toEqual([]);
  });

  it('reports a revision whose commit object is missing', async () => {
    const revs = (await t.as('reviewer', { url: `/api/v2/pages/${ids.ko}/revisions/` })).json().items as { id: number; commit: string; action: string }[];
    const victim = revs[2]!; // neither the newest nor the oldest: main's history breaks there
    const file = join(gitdir(), 'objects', victim.commit.slice(0, 2), victim.commit.slice(2));
    const bytes = readFileSync(file);
    unlinkSync(file);
    try {
      const problems = await run();
      expect(problems).toContainEqual({
        check: 'revision-commit-missing',
        message: `revision ${victim.id} (page ${ids.ko}, ${victim.action}): commit ${victim.commit} is missing from the repository`,
      });
      expect(checks(problems)).toContain('history-broken');
      expect(checks(problems)).toContain('git-fsck');
      expect(problems.find((p) => p.check === 'git-fsck')!.message).toMatch(/^git fsck --strict: /);
    } finally {
      writeFileSync(file, bytes);
      chmodSync(file, 0o444);
    }
    expect(await run()).toEqual([]);
  });

  it('reports a ref moved back, and says the server repairs it', async () => {
    const head = git('rev-parse', 'main');
    git('update-ref', 'refs/heads/main', `${head}~1`);
    try {
      expect(await run()).toEqual([{
        check: 'ref-lags',
        message: `ref main is at ${git('rev-parse', `${head}~1`)}, behind ${head} where git_refs says it should be (a save was interrupted before the ref moved); the server repairs it at start`,
      }]);
    } finally {
      git('update-ref', 'refs/heads/main', head);
    }
    expect(await run()).toEqual([]);
  });

  it('reports a page row whose draft differs from its file on main', async () => {
    const [row] = await db().select().from(pages).where(eq(pages.id, ids.en));
    await db().execute(sql`update pages set draft = (draft::jsonb || '{"intro": "tampered"}'::jsonb)::json where id = ${ids.en}`);
    try {
      const problems = await run();
      expect(problems).toHaveLength(1);
      expect(problems[0]).toEqual({
        check: 'page-draft-content',
        message: `page ${ids.en}: main:pages/${String(ids.en % 100).padStart(2, '0')}/${ids.en}.json differs from the row's draft at /intro: git has "Not published yet.", the database has "tampered"`,
      });
    } finally {
      await db().update(pages).set({ draft: row!.draft }).where(eq(pages.id, ids.en));
    }
    expect(await run()).toEqual([]);
  });

  it('reports a live page whose file is missing from live', async () => {
    const repo = new GitRepo(gitdir());
    const [liveRef] = await db().select().from(gitRefs).where(eq(gitRefs.name, 'live'));
    const before = liveRef!.commit;
    const commit = await repo.writeCommit({
      parent: before, changes: new Map([[ids.ko, null]]), author: { name: 'Vandal', email: 'vandal@example.com' }, message: 'Remove a live page behind Lectern\'s back\n', date: new Date(),
    });
    await db().update(gitRefs).set({ commit }).where(eq(gitRefs.name, 'live'));
    await repo.moveRef('live', commit);
    try {
      const problems = await run();
      expect(problems).toContainEqual({
        check: 'page-live-file',
        message: `page ${ids.ko} is live, but pages/${String(ids.ko % 100).padStart(2, '0')}/${ids.ko}.json is absent from live (${commit.slice(0, 12)})`,
      });
      expect(problems).toContainEqual({ check: 'commit-unindexed', message: expect.stringContaining(`commit ${commit} on live`) });
    } finally {
      await db().update(gitRefs).set({ commit: before }).where(eq(gitRefs.name, 'live'));
      await repo.moveRef('live', before);
    }
    expect(await run()).toEqual([]);
  });

  it('reports that git fsck could not run when git is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'lectern-nogit-'));
    try {
      expect(await run()).toEqual([{ check: 'git-missing', message: 'git is not installed: cannot run git fsck' }]);
    } finally {
      rmSync(process.env.PATH, { recursive: true, force: true });
      process.env.PATH = path;
    }
  });
});

describe('firstDifference', () => {
  it('names the first differing place as a JSON pointer', () => {
    expect(firstDifference({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'y' }], a: 1 })).toEqual({ path: '/b/1/c', git: '"x"', db: '"y"' });
    expect(firstDifference({ body: [1] }, { body: [1, 2] })).toEqual({ path: '/body/1', git: 'nothing', db: '2' });
    expect(firstDifference({ 'a/b': 1 }, {})).toEqual({ path: '/a~1b', git: '1', db: 'nothing' });
    expect(firstDifference({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBeNull();
  });
});

describe.each(DRIVERS)('npm run lectern -- fsck (%s)', (driver) => {
  let dir: string;
  let db: TestDatabase | null = null;
  let env: Record<string, string>;
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lectern-fsck-cli-'));
    env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dir, LOG_LEVEL: 'silent', SCHEDULER_INTERVAL_MS: '0' };
    if (driver === 'postgres') {
      db = await createTestDatabase('postgres');
      await db.database.close();
      env.DATABASE_URL = db.url!;
    }
    // The server's own database: a PGlite directory (closed again before the CLI opens it) or Postgres.
    const app = await buildApp(loadConfig({ ...env, ADMIN_TOKEN }), { logger: false });
    try {
      await writeHistory(async (_role, method, url, payload) => {
        const res = await app.inject({ method: method as 'GET', url, payload, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
        return res.json();
      });
    } finally {
      await app.close();
    }
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints an ok summary and exits 0 on a clean repository', () => {
    const res = cli('fsck');
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(new RegExp(`^ok: 3 pages, 13 revisions, 10 live commits agree with ${join(dir, 'content.git')} \\(main [0-9a-f]{12}, live [0-9a-f]{12}\\); git fsck --strict is clean\\n$`));
    expect(res.status).toBe(0);
  });

  it('lists each problem and exits 1 when there are any', () => {
    const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(dir, 'content.git'), ...args], { encoding: 'utf8' }).trim();
    const head = git('rev-parse', 'live');
    git('update-ref', 'refs/heads/live', 'live~2');
    try {
      const res = cli('fsck');
      expect(res.stdout).toBe([
        `ref-lags: ref live is at ${git('rev-parse', 'live')}, behind ${head} where git_refs says it should be (a save was interrupted before the ref moved); the server repairs it at start`,
        `fsck: 1 problem in ${join(dir, 'content.git')}`,
        '',
      ].join('\n'));
      expect(res.status).toBe(1);
    } finally {
      git('update-ref', 'refs/heads/live', head);
    }
  });
});
