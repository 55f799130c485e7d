import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { webhookDeliveries } from '../../src/db/schema.js';
import type { ContentEvent } from '../../src/events/content-event.js';
import { retryDelayMs, WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { DRIVERS } from '../helpers/env.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { gate, startReceiver, type Receiver } from './webhook-receiver.js';

describe('webhook retry schedule', () => {
  it('waits the base, then four times longer after each failure, never more than an hour', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(10_000, n))).toEqual([10_000, 40_000, 160_000, 640_000, 2_560_000]);
    expect(retryDelayMs(10_000, 6)).toBe(3_600_000);
    expect(retryDelayMs(10_000, 100)).toBe(3_600_000);
  });
});

describe.each(DRIVERS)('webhook dispatcher (%s)', (driver) => {
  let t: TestApp;
  // The app's own dispatcher only enqueues (WEBHOOK_POLL_MS=0): the dispatchers of each test send.
  beforeAll(async () => { t = await startTestApp(driver, { WEBHOOK_POLL_MS: '0' }); });
  afterAll(async () => { await t?.close(); });

  const cleanUps: (() => Promise<unknown>)[] = [];
  const errors: unknown[] = [];
  afterEach(async () => {
    for (const fn of cleanUps.splice(0).reverse()) await fn();
    errors.length = 0;
    for (const w of (await t.as('admin', { url: '/api/v2/webhooks/' })).json().items) {
      await t.as('admin', { method: 'DELETE', url: `/api/v2/webhooks/${w.id}/` });
    }
  });

  const config = (over: Partial<WebhookConfig> = {}): WebhookConfig => ({ timeoutMs: 10_000, maxAttempts: 3, retryBaseMs: 50, pollMs: 10, ...over });
  const dispatcher = (db: Database, over: Partial<WebhookConfig> = {}, opts: { stopGraceMs?: number } = {}) => {
    const d = new WebhookDispatcher(db.db, config(over), { log: (err) => errors.push(err), ...opts });
    cleanUps.push(() => d.stop());
    return d;
  };
  const receiver = async (...args: Parameters<typeof startReceiver>): Promise<Receiver> => {
    const r = await startReceiver(...args);
    cleanUps.push(() => r.close());
    return r;
  };
  const register = async (url: string) => {
    const res = await t.as('editor', { method: 'POST', url: '/api/v2/webhooks/', payload: { url, events: ['revision.created'] } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: number; secret: string };
  };
  const events = (n: number): ContentEvent[] => Array.from({ length: n }, (_, i) => ({
    id: randomUUID(), type: 'revision.created', page: i + 1, ancestors: [], revision: i + 1, actor: 'Test', at: new Date().toISOString(),
  }));
  const rows = (hook: number) => t.db.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, hook)).orderBy(webhookDeliveries.id);

  it('sends each delivery exactly once when two dispatchers share the database', async () => {
    // Two processes: on Postgres each has its own connection pool; PGlite is one connection in one process.
    const second = driver === 'postgres' ? await openDatabase({ url: t.db.url, pgliteDir: null }) : t.db.database;
    if (second !== t.db.database) cleanUps.push(() => second.close());
    // Nothing is answered until eight requests are open at once: four from each dispatcher, so both take part.
    const bothBusy = gate();
    const r = await receiver(async (_req, res, i) => {
      if (i === 7) bothBusy.open();
      await bothBusy.wait;
      res.writeHead(204).end();
    });
    const hook = await register(r.url);
    await t.app.lectern.webhooks.enqueue(events(40));
    const a = dispatcher(t.db.database);
    const b = dispatcher(second);
    a.start();
    b.start();
    await expect.poll(async () => (await rows(hook.id)).filter((d) => d.status === 'delivered').length, { timeout: 30_000 }).toBe(40);
    await a.stop();
    await b.stop();
    expect(r.requests).toHaveLength(40);
    expect(new Set(r.requests.map((q) => q.headers['x-lectern-delivery'])).size).toBe(40);
    expect((await rows(hook.id)).map((d) => d.attempts)).toEqual(Array(40).fill(1));
    expect(errors).toEqual([]);
  });

  it('records one delivery per webhook and event, however often the event is enqueued', async () => {
    const hook = await register('https://example.com/hook');
    const [event] = events(1);
    await t.app.lectern.webhooks.enqueue([event!]);
    await t.app.lectern.webhooks.enqueue([event!]);
    expect(await rows(hook.id)).toEqual([expect.objectContaining({ eventId: event!.id, status: 'pending', attempts: 0 })]);
  });

  it('puts back a send that stop() cut short, without using up an attempt', async () => {
    const never = gate();
    const r = await receiver(async (_req, res) => { await never.wait; res.writeHead(204).end(); });
    const hook = await register(r.url);
    const d = dispatcher(t.db.database, { timeoutMs: 60_000 }, { stopGraceMs: 50 });
    await t.app.lectern.webhooks.enqueue(events(1));
    d.start();
    await expect.poll(() => r.requests.length).toBe(1);
    const stopping = Date.now();
    await d.stop();
    const [row] = await rows(hook.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 0, lastError: null });
    expect(row!.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(row!.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(stopping - 1000);
    await expect.poll(() => r.requests[0]!.abandoned).toBe(true);

    // The next dispatcher (another process, or this one after a restart) sends it at once.
    never.open();
    expect(await dispatcher(t.db.database).tick()).toBe(1);
    expect((await rows(hook.id))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('takes a claim back once its lease ended, and ends one whose last attempt was never recorded as failed', async () => {
    const r = await receiver();
    const hook = await register(r.url);
    await t.app.lectern.webhooks.enqueue(events(2));
    const [lapsed, last] = await rows(hook.id);
    const db = t.db.database.db;
    // As a process that died mid-send leaves them: attempts counted, lease over.
    const past = new Date(Date.now() - 1000);
    await db.update(webhookDeliveries).set({ attempts: 1, nextAttemptAt: past, lastStatusCode: 503, lastError: 'the receiver answered 503' }).where(eq(webhookDeliveries.id, lapsed!.id));
    await db.update(webhookDeliveries).set({ attempts: 3, nextAttemptAt: past, lastStatusCode: 503, lastError: 'the receiver answered 503' }).where(eq(webhookDeliveries.id, last!.id));
    expect(await dispatcher(t.db.database).tick()).toBe(1);
    expect(r.requests.map((q) => q.headers['x-lectern-delivery'])).toEqual([String(lapsed!.id)]);
    const after = await rows(hook.id);
    expect(after[0]).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null });
    expect(after[1]).toMatchObject({ status: 'failed', attempts: 4, lastError: expect.stringContaining('cut short') });
  });

  it('leaves a claimed delivery alone while its lease lasts', async () => {
    const hold = gate();
    const r = await receiver(async (_req, res) => { await hold.wait; res.writeHead(204).end(); });
    const hook = await register(r.url);
    await t.app.lectern.webhooks.enqueue(events(1));
    const first = dispatcher(t.db.database);
    const sending = first.tick();
    await expect.poll(() => r.requests.length).toBe(1);
    expect(await dispatcher(t.db.database).tick()).toBe(0);
    hold.open();
    expect(await sending).toBe(1);
    expect(r.requests).toHaveLength(1);
    expect((await rows(hook.id))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
