import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageFile } from '../../src/history/git-repo.js';
import { DRIVERS } from '../helpers/env.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** A clock the test moves by hand: the scheduler reads time only through it. */
const clock = { now: new Date('2027-03-01T09:00:00Z') };
const later = (ms: number) => new Date(clock.now.getTime() + ms);
const HOUR = 3_600_000;

describe.each(DRIVERS)('scheduled publishing (%s)', (driver) => {
  let t: TestApp;
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(t.dir, 'content.git'), ...args], { encoding: 'utf8' }).trim();
  const onLive = (id: number) => { try { git('cat-file', '-e', `live:${pageFile(id)}`); return true; } catch { return false; } };
  const publicStatus = async (id: number) => (await t.app.inject({ url: `/api/v2/pages/${id}/` })).statusCode;
  const create = async (title: string) => (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title, intro: 'v1', body: [] } })).json();
  const publish = (id: number, payload: object) => t.as('editor', { method: 'POST', url: `/api/v2/pages/${id}/publish/`, payload });

  beforeAll(async () => {
    clock.now = new Date('2027-03-01T09:00:00Z');
    t = await startTestApp(driver, { SCHEDULER_INTERVAL_MS: '0' }, { now: () => clock.now });
  });
  afterAll(async () => { await t?.close(); });

  it('publishes a scheduled revision when go_live_at comes, and not before', async () => {
    const page = await create('Goes live later');
    const res = await publish(page.id, { go_live_at: later(HOUR).toISOString() });
    expect(res.statusCode).toBe(200);
    expect(res.json().meta).toMatchObject({ live: false, scheduled_revision: page.meta.revision });
    expect(new Date(res.json().meta.go_live_at)).toEqual(later(HOUR));
    expect(await t.app.lectern.scheduler.runDue()).toEqual({ published: [], expired: [] });
    expect(await publicStatus(page.id)).toBe(404);
    expect(onLive(page.id)).toBe(false);

    // Edits made meanwhile stay drafts: the scheduled revision is what goes live.
    await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${page.id}/`, payload: { intro: 'v2, not scheduled' } });
    clock.now = later(HOUR + 1000);
    expect(await t.app.lectern.scheduler.runDue()).toEqual({ published: [page.id], expired: [] });
    const live = (await t.app.inject({ url: `/api/v2/pages/${page.id}/` })).json();
    expect(live.intro).toBe('v1');
    expect(JSON.parse(git('show', `live:${pageFile(page.id)}`)).intro).toBe('v1');
    expect(git('log', '-1', '--format=%an|%s', 'live')).toMatch(/^Lectern scheduler\|Publish revision \d+ as scheduled for /);
    // Once done, it is not done again.
    expect(await t.app.lectern.scheduler.runDue()).toEqual({ published: [], expired: [] });
  });

  it('unpublishes a page when expire_at comes', async () => {
    const page = await create('Expires');
    const res = await publish(page.id, { expire_at: later(2 * HOUR).toISOString() });
    expect(res.json().meta).toMatchObject({ live: true, expire_at: expect.any(String) });
    clock.now = later(HOUR);
    expect((await t.app.lectern.scheduler.runDue()).expired).toEqual([]);
    expect(await publicStatus(page.id)).toBe(200);
    clock.now = later(HOUR + 1);
    expect(await t.app.lectern.scheduler.runDue()).toEqual({ published: [], expired: [page.id] });
    expect(await publicStatus(page.id)).toBe(404);
    expect(onLive(page.id)).toBe(false);
    expect(git('log', '-1', '--format=%(trailers:key=Action,valueonly)', 'live')).toBe('unpublish');
  });

  it('publishes at go_live_at and unpublishes at expire_at from one request', async () => {
    const page = await create('A window');
    await publish(page.id, { go_live_at: later(HOUR).toISOString(), expire_at: later(3 * HOUR).toISOString() });
    clock.now = later(HOUR);
    await t.app.lectern.scheduler.runDue();
    expect(await publicStatus(page.id)).toBe(200);
    clock.now = later(2 * HOUR);
    await t.app.lectern.scheduler.runDue();
    expect(await publicStatus(page.id)).toBe(404);
  });

  it('publishes at once when go_live_at is past, refuses expire_at before going live, and unpublish cancels a schedule', async () => {
    const page = await create('Edge cases');
    expect((await publish(page.id, { go_live_at: later(-HOUR).toISOString() })).json().meta.live).toBe(true);
    const bad = await publish(page.id, { go_live_at: later(2 * HOUR).toISOString(), expire_at: later(HOUR).toISOString() });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([{ path: '/expire_at', message: 'must be later than the time the page goes live' }]);
    expect((await publish(page.id, { go_live_at: 'tomorrow' })).json().errors[0]).toMatchObject({ path: '/go_live_at' });
    await publish(page.id, { go_live_at: later(HOUR).toISOString() });
    const unpublished = (await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/unpublish/` })).json();
    expect(unpublished.meta).toMatchObject({ live: false, go_live_at: null, scheduled_revision: null });
    clock.now = later(2 * HOUR);
    expect((await t.app.lectern.scheduler.runDue()).published).toEqual([]);
  });
});

describe('the scheduler in a running server', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp('pglite', { SCHEDULER_INTERVAL_MS: '50' }, { now: () => clock.now }); });
  afterAll(async () => { await t?.close(); });

  it('acts on its own once the time comes', async () => {
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Timer', body: [] } })).json();
    await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/publish/`, payload: { go_live_at: later(HOUR).toISOString() } });
    clock.now = later(HOUR);
    let status = 404;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await t.app.inject({ url: `/api/v2/pages/${page.id}/` })).statusCode;
    }
    expect(status).toBe(200);
  });
});
