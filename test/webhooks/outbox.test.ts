import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../helpers/env.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(DRIVERS)('webhook deliveries are recorded with the save (%s)', (driver) => {
  let t: TestApp;
  // No dispatcher loop in this process: only the save itself can have written the rows.
  beforeAll(async () => { t = await startTestApp(driver, { WEBHOOK_POLL_MS: '0' }); });
  afterAll(async () => { await t?.close(); });

  it('has the delivery rows by the time the save is acknowledged, one per subscribed webhook and event', async () => {
    const hook = await t.as('editor', { method: 'POST', url: '/api/v2/webhooks/', payload: { url: 'http://127.0.0.1:9/hook', events: ['revision.created', 'page.published'] } });
    expect(hook.statusCode).toBe(201);
    await t.as('editor', { method: 'POST', url: '/api/v2/webhooks/', payload: { url: 'http://127.0.0.1:9/other', events: ['page.deleted'] } });
    const page = await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Outbox', publish: true, body: [] } });
    expect(page.statusCode).toBe(201);
    const rows = await t.app.lectern.database.db.query.webhookDeliveries.findMany();
    expect(rows.map((r) => [r.webhookId, r.eventType, r.status]).sort()).toEqual([
      [hook.json().id, 'page.published', 'pending'], [hook.json().id, 'revision.created', 'pending'],
    ]);
    expect(rows.every((r) => (r.payload as { page: number }).page === page.json().id)).toBe(true);
  });

  it('records nothing for a save that was refused', async () => {
    const before = (await t.app.lectern.database.db.query.webhookDeliveries.findMany()).length;
    expect((await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: '' } })).statusCode).toBe(400);
    expect((await t.app.lectern.database.db.query.webhookDeliveries.findMany()).length).toBe(before);
  });
});
