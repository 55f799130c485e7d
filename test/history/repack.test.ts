import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsck } from '../../src/history/fsck.js';
import { GitRepo, pageFile } from '../../src/history/git-repo.js';
import { objectStats, repack, scheduleRepack } from '../../src/history/repack.js';
import { DRIVERS } from '../helpers/env.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SAVES = 200;

/** A lesson of a realistic size: twenty paragraphs, of which each save changes one. */
const paragraphs = (edit: number) => Array.from({ length: 20 }, (_, i) => ({
  type: 'paragraph',
  value: `<p>${i === edit % 20 ? `Edited in save ${edit}. ` : ''}Paragraph ${i} explains gradient descent: the loss surface, its slope, `
    + 'a step against the gradient scaled by the learning rate, and why a rate too large overshoots while one too small crawls.</p>',
}));

describe.each(DRIVERS)('repacking the content repository (%s)', (driver) => {
  let t: TestApp;
  let id: number;
  const revisions: { id: number; intro: string }[] = [];
  /** A commit written like a save that died before its ref moved: its five objects stay loose and unreachable. */
  let dangling: string;
  const gitdir = () => join(t.dir, 'content.git');
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', gitdir(), ...args], { encoding: 'utf8' }).trim();
  const duKb = () => Number(execFileSync('du', ['-sk', join(gitdir(), 'objects')], { encoding: 'utf8' }).split('\t')[0]);
  const save = async (intro: string, i: number) => {
    const res = await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${id}/`, payload: { intro, body: paragraphs(i) } });
    expect(res.statusCode).toBe(200);
    return res.json().meta.revision as number;
  };

  beforeAll(async () => {
    t = await startTestApp(driver, { SCHEDULER_INTERVAL_MS: '0' });
    const created = await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Gradient descent', intro: 'Save 0', body: paragraphs(0) } });
    id = created.json().id;
    revisions.push({ id: created.json().meta.revision, intro: 'Save 0' });
    for (let i = 1; i < SAVES; i++) revisions.push({ id: await save(`Save ${i}`, i), intro: `Save ${i}` });
  });
  afterAll(async () => { await t?.close(); });

  it('turns ~200 loose full copies into one pack of deltas, less than half the size', async () => {
    const loose = await objectStats(gitdir());
    expect(loose.looseObjects).toBeGreaterThanOrEqual(SAVES * 4); // a blob, three trees and a commit per save
    expect(loose.packs).toBe(0);
    const kbBefore = duKb();

    const result = await repack(gitdir());
    expect(result.before).toEqual(loose);
    expect(result.after.looseObjects).toBe(0);
    expect(result.after.packs).toBe(1);
    expect(result.after).toEqual(await objectStats(gitdir()));
    expect(readdirSync(join(gitdir(), 'objects', 'pack')).filter((f) => f.endsWith('.pack'))).toHaveLength(1);
    expect(duKb()).toBeLessThan(kbBefore / 2);
    expect(result.after.diskBytes).toBeLessThan(result.before.diskBytes / 2);
    // Deltas, not copies: most of the file's versions are stored as deltas against another.
    const verify = git('verify-pack', '-v', join(gitdir(), 'objects', 'pack', readdirSync(join(gitdir(), 'objects', 'pack')).find((f) => f.endsWith('.idx'))!));
    expect(Number(/chain length = 1: (\d+) objects?/.exec(verify)?.[1] ?? 0)).toBeGreaterThan(0);
    expect(() => git('fsck', '--strict')).not.toThrow();
    expect(await fsck(t.app.lectern.database, gitdir())).toEqual([]);
  });

  it('still reads old revisions, now from the pack', async () => {
    for (const r of [revisions[0]!, revisions[50]!, revisions[SAVES - 1]!]) {
      const res = await t.as('reviewer', { url: `/api/v2/pages/${id}/revisions/${r.id}/` });
      expect(res.statusCode).toBe(200);
      expect(res.json().intro).toBe(r.intro);
    }
  });

  it('builds new saves on packed parents, in this process and in a fresh one', async () => {
    const packedHead = git('rev-parse', 'main');
    const repo = new GitRepo(gitdir()); // no cached snapshot: every tree is read from the pack
    expect(await repo.hasObject(packedHead)).toBe(true);
    const blob = await repo.pageBlobAt(packedHead, id);
    expect(blob).toBe(git('rev-parse', `main:${pageFile(id)}`));
    dangling = await repo.writeCommit({
      parent: packedHead, changes: new Map([[id + 1, await repo.writeBlob('{}\n')]]), author: { name: 'Test', email: 'test@example.com' }, message: 'Not kept\n', date: new Date(),
    });
    expect(git('ls-tree', '-r', '--name-only', dangling).split('\n')).toEqual([pageFile(id), pageFile(id + 1)].sort());

    const rev = await save('After packing', SAVES);
    revisions.push({ id: rev, intro: 'After packing' });
    expect(git('rev-parse', 'main~1')).toBe(packedHead);
    expect(JSON.parse(git('show', `main:${pageFile(id)}`)).intro).toBe('After packing');
    expect(() => git('fsck', '--strict')).not.toThrow();
    expect(await fsck(t.app.lectern.database, gitdir())).toEqual([]);
  });

  it('repairs a lagging ref whose commit is packed (GitRepo.hasObject reads packs)', async () => {
    await repack(gitdir());
    const head = git('rev-parse', 'main');
    expect((await objectStats(gitdir())).looseObjects).toBe(5); // only the dangling commit's objects
    git('update-ref', 'refs/heads/main', `${head}~3`);
    expect(await t.app.lectern.content.revisions.repairRefs()).toEqual([`main: ${git('rev-parse', `${head}~3`)} -> ${head}`]);
    expect(git('rev-parse', 'main')).toBe(head);
  });

  it('is safe while the app is saving: no save is lost and no unreachable object is pruned', async () => {
    const saves = (async () => {
      for (let i = 0; i < 30; i++) revisions.push({ id: await save(`Concurrent ${i}`, SAVES + 1 + i), intro: `Concurrent ${i}` });
    })();
    const packs = (async () => {
      for (let i = 0; i < 3; i++) await repack(gitdir());
    })();
    await Promise.all([saves, packs]);
    await repack(gitdir());
    // Only the unreachable objects of the interrupted save are loose, and they are still there.
    expect((await objectStats(gitdir())).looseObjects).toBe(5);
    expect(git('cat-file', '-t', dangling)).toBe('commit');
    expect(git('ls-tree', '-r', '--name-only', dangling).split('\n')).toHaveLength(2);
    expect(Number(git('rev-list', '--count', 'main'))).toBe(revisions.length);
    const listed = (await t.as('reviewer', { url: `/api/v2/pages/${id}/revisions/?limit=1` })).json();
    expect(listed.meta.total_count).toBe(revisions.length);
    for (const r of revisions.filter((_, i) => i % 23 === 0 || i === revisions.length - 1)) {
      expect((await t.as('reviewer', { url: `/api/v2/pages/${id}/revisions/${r.id}/` })).json().intro).toBe(r.intro);
    }
    expect(() => git('fsck', '--strict')).not.toThrow();
    expect(await fsck(t.app.lectern.database, gitdir())).toEqual([]);
  });

  it('can repack on a schedule, one round at a time', async () => {
    await save('Loose again', SAVES + 200);
    const rounds: object[] = [];
    const errors: object[] = [];
    const stop = scheduleRepack(gitdir(), 20, { info: (obj) => rounds.push(obj), error: (obj) => errors.push(obj) });
    for (let i = 0; i < 200 && rounds.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    await stop();
    expect(errors).toEqual([]);
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(rounds[0]).toMatchObject({ before: { looseObjects: 10 }, after: { looseObjects: 5, packs: 1 } });
  });

  it('npm run lectern -- repack reports loose objects and size before and after', async () => {
    await save('One more loose save', SAVES + 100);
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'repack'], {
      cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: t.dir },
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(new RegExp([
      `^Repacked ${gitdir()} in \\d+\\.\\d s`,
      '  before: [1-9]\\d* loose objects, 1 pack, \\d+(\\.\\d)? (B|KB|MB) on disk',
      '  after:  5 loose objects, 1 pack, \\d+(\\.\\d)? (B|KB|MB) on disk\n$',
    ].join('\n')));
  });
});
