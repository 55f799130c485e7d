import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../../src/webhooks/sign-webhook.js';
import { DRIVERS } from '../../helpers/env.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';
import { closedPort, gate, startReceiver, type Receiver } from '../../webhooks/webhook-receiver.js';

type Role = 'admin' | 'editor' | 'reviewer' | null;

/** Helpers over one test app: webhooks, pages, and the receivers to close afterwards. */
function harness(get: () => TestApp) {
  const receivers: Receiver[] = [];
  const write = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
    const res = await get().as('editor', { method, url, ...(payload ? { payload } : {}) });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.statusCode === 204 ? null : res.json();
  };
  return {
    receivers,
    async receiver(...args: Parameters<typeof startReceiver>) {
      const r = await startReceiver(...args);
      receivers.push(r);
      return r;
    },
    register: async (url: string, events: string[], role: Role = 'editor') => {
      const res = await get().as(role, { method: 'POST', url: '/api/v2/webhooks/', payload: { url, events } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: number; secret: string; url: string; events: string[] };
    },
    deliveries: async (hook: number) => {
      const res = await get().as('editor', { url: `/api/v2/webhooks/${hook}/deliveries/` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { meta: { total_count: number }; items: Record<string, unknown>[] };
    },
    write,
    createPage: (title: string, extra: object = {}) => write('POST', '/api/v2/pages/', { type: 'lesson', title, body: [], ...extra }),
    async cleanUp() {
      for (const w of (await get().as('admin', { url: '/api/v2/webhooks/' })).json().items) {
        await get().as('admin', { method: 'DELETE', url: `/api/v2/webhooks/${w.id}/` });
      }
      await Promise.all(receivers.splice(0).map((r) => r.close()));
    },
  };
}

describe.each(DRIVERS)('webhooks (%s)', (driver) => {
  let t: TestApp;
  // A long timeout: a receiver that holds a request keeps holding it while the test looks.
  beforeAll(async () => { t = await startTestApp(driver, { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '30000', WEBHOOK_MAX_ATTEMPTS: '3' }); });
  afterAll(async () => { await t?.close(); });
  const h = harness(() => t);
  afterEach(() => h.cleanUp());

  const listed = async () => (await t.as('editor', { url: '/api/v2/webhooks/' })).json();

  it('refuses a bad registration with 400 and the path of each bad field, and registers nothing', async () => {
    const post = (payload: unknown) => t.as('editor', { method: 'POST', url: '/api/v2/webhooks/', payload: payload as object });
    const cases: [unknown, string[]][] = [
      [{ url: 'ftp://example.com/hook', events: ['page.published'] }, ['/url']],
      [{ url: '/relative/hook', events: ['page.published'] }, ['/url']],
      [{ url: 'https://user:pw@example.com/hook', events: ['page.published'] }, ['/url']],
      [{ url: 'https://example.com/hook', events: ['page.published', 'page.exploded'] }, ['/events/1']],
      [{ url: 'https://example.com/hook', events: [] }, ['/events']],
      [{ url: 'https://example.com/hook', events: 'page.published' }, ['/events']],
      [{ url: 'https://example.com/hook', events: ['page.published'], description: 'x'.repeat(501) }, ['/description']],
      [{ url: 'https://example.com/hook', events: ['page.published'], secret: 'mine' }, ['/secret']],
      [{}, ['/url', '/events']],
    ];
    for (const [payload, paths] of cases) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const body = res.json();
      expect(body.code).toBe('CMS_ERR_VALIDATION');
      expect(body.errors.map((e: { path: string }) => e.path)).toEqual(paths);
      expect(body.errors.every((e: { message: string }) => e.message.length > 0)).toBe(true);
    }
    expect((await t.as('editor', { method: 'POST', url: '/api/v2/webhooks/', payload: '[1]', headers: { 'content-type': 'application/json' } })).statusCode).toBe(400);
    expect((await listed()).meta.total_count).toBe(0);
  });

  it('lets editors and admins register, read and delete webhooks, showing the secret only once', async () => {
    const res = await t.as('editor', {
      method: 'POST', url: '/api/v2/webhooks/',
      payload: { url: 'https://frontend.example.com/revalidate', events: ['page.published', 'page.published', 'page.moved'], description: '프론트엔드 캐시 무효화' },
    });
    expect(res.statusCode).toBe(201);
    const made = res.json();
    expect(made).toEqual({
      id: expect.any(Number), url: 'https://frontend.example.com/revalidate', events: ['page.published', 'page.moved'],
      description: '프론트엔드 캐시 무효화', active: true, created_at: expect.any(String), secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(res.headers['cache-control']).toBe('no-store');
    const { secret, ...shown } = made;
    expect((await listed()).items).toEqual([shown]);
    expect((await t.as('admin', { url: `/api/v2/webhooks/${made.id}/` })).json()).toEqual(shown);
    expect(JSON.stringify((await t.as('admin', { url: '/api/v2/webhooks/' })).json())).not.toContain(secret);
    expect((await h.deliveries(made.id))).toEqual({ meta: { total_count: 0 }, items: [] });

    expect((await t.as('admin', { method: 'DELETE', url: `/api/v2/webhooks/${made.id}/` })).statusCode).toBe(204);
    const gone = await t.as('editor', { url: `/api/v2/webhooks/${made.id}/` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toBe('CMS_ERR_WEBHOOK_NOT_FOUND');
    expect((await t.as('editor', { method: 'DELETE', url: `/api/v2/webhooks/${made.id}/` })).statusCode).toBe(404);
    expect((await t.as('editor', { url: `/api/v2/webhooks/${made.id}/deliveries/` })).statusCode).toBe(404);
    expect((await t.as('editor', { url: '/api/v2/webhooks/abc/' })).statusCode).toBe(404);
  });

  it('answers reviewers with 403 and callers without a token with 401', async () => {
    const made = await h.register('https://example.com/hook', ['page.published'], 'admin');
    for (const [method, url] of [['GET', '/api/v2/webhooks/'], ['POST', '/api/v2/webhooks/'], ['GET', `/api/v2/webhooks/${made.id}/`], ['DELETE', `/api/v2/webhooks/${made.id}/`], ['GET', `/api/v2/webhooks/${made.id}/deliveries/`]] as const) {
      const payload = method === 'POST' ? { url: 'https://example.com/x', events: ['page.published'] } : undefined;
      expect((await t.as('reviewer', { method, url, ...(payload ? { payload } : {}) })).statusCode, `${method} ${url}`).toBe(403);
      expect((await t.as(null, { method, url, ...(payload ? { payload } : {}) })).statusCode, `${method} ${url}`).toBe(401);
    }
    expect((await listed()).meta.total_count).toBe(1);
  });

  it('delivers page.published for a publish, signed with the secret shown at registration', async () => {
    const r = await h.receiver();
    const hook = await h.register(r.url, ['page.published']);
    const page = await h.createPage('Signed delivery');
    await h.write('POST', `/api/v2/pages/${page.id}/publish/`);
    await expect.poll(() => r.requests.length).toBe(1);
    const [req] = r.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/hook');
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json', 'user-agent': 'Lectern-Webhooks', 'x-lectern-event': 'page.published',
    });
    const signature = req!.headers['x-lectern-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(hook.secret, signature, req!.body, 300)).toBe(true);
    expect(verifyWebhookSignature(hook.secret, signature, req!.body.replace('Eddie', 'Mallory'), 300)).toBe(false);
    expect(verifyWebhookSignature(`${hook.secret}x`, signature, req!.body, 300)).toBe(false);
    const body = JSON.parse(req!.body);
    expect(Object.keys(body)).toEqual(['id', 'type', 'page', 'ancestors', 'revision', 'actor', 'at']);
    expect(body).toEqual({
      id: expect.any(String), type: 'page.published', page: page.id, ancestors: [], revision: page.meta.revision, actor: 'Eddie Editor', at: expect.any(String),
    });

    await expect.poll(async () => (await h.deliveries(hook.id)).items[0]?.status).toBe('delivered');
    const log = await h.deliveries(hook.id);
    expect(log.meta.total_count).toBe(1);
    expect(log.items[0]).toEqual({
      id: Number(req!.headers['x-lectern-delivery']), event_id: body.id, event_type: 'page.published', status: 'delivered', attempts: 1,
      last_status_code: 204, last_error: null, created_at: expect.any(String), next_attempt_at: null, delivered_at: expect.any(String),
    });
  });

  it('delivers revision.created for every save, newest first in the log', async () => {
    const r = await h.receiver();
    const hook = await h.register(r.url, ['revision.created']);
    const page = await h.createPage('Saved twice');
    const edited = await h.write('PATCH', `/api/v2/pages/${page.id}/`, { intro: 'Second save' });
    await expect.poll(() => r.requests.length).toBe(2);
    const bodies = r.requests.map((q) => JSON.parse(q.body));
    expect(bodies.map((b) => [b.type, b.page, b.revision]).sort()).toEqual([
      ['revision.created', page.id, page.meta.revision], ['revision.created', page.id, edited.meta.revision],
    ].sort());
    expect(r.requests.every((q) => verifyWebhookSignature(hook.secret, q.headers['x-lectern-signature'] as string, q.body))).toBe(true);
    await expect.poll(async () => (await h.deliveries(hook.id)).items.map((d) => d.status)).toEqual(['delivered', 'delivered']);
    const log = await h.deliveries(hook.id);
    expect(log.items.map((d) => d.event_id)).toEqual([bodies.find((b) => b.revision === edited.meta.revision).id, bodies.find((b) => b.revision === page.meta.revision).id]);
    const paged = (await t.as('editor', { url: `/api/v2/webhooks/${hook.id}/deliveries/?limit=1&offset=1` })).json();
    expect(paged.meta.total_count).toBe(2);
    expect(paged.items.map((d: { id: number }) => d.id)).toEqual([log.items[1]!.id]);
  });

  it('delivers to each webhook only the event types it subscribed to', async () => {
    const saves = await h.receiver();
    const removals = await h.receiver();
    const savesHook = await h.register(saves.url, ['revision.created', 'page.published']);
    const removalsHook = await h.register(removals.url, ['page.unpublished', 'page.deleted']);
    const page = await h.createPage('Subscribed', { publish: true });
    await expect.poll(() => saves.requests.map((q) => q.headers['x-lectern-event']).sort()).toEqual(['page.published', 'revision.created']);
    expect((await h.deliveries(removalsHook.id)).meta.total_count).toBe(0);

    await h.write('POST', `/api/v2/pages/${page.id}/unpublish/`);
    await h.write('DELETE', `/api/v2/pages/${page.id}/`);
    await expect.poll(() => removals.requests.map((q) => q.headers['x-lectern-event'])).toEqual(['page.unpublished', 'page.deleted']);
    expect(removals.requests.map((q) => JSON.parse(q.body)).map((b) => [b.type, b.page, b.revision])).toEqual([
      ['page.unpublished', page.id, null], ['page.deleted', page.id, null],
    ]);
    expect((await h.deliveries(savesHook.id)).meta.total_count).toBe(2);
    expect(saves.requests).toHaveLength(2);
  });

  it('retries a receiver that answered 500 twice and logs the third, successful attempt', async () => {
    const second = gate();
    const r = await h.receiver(async (_req, res, i) => {
      if (i === 1) await second.wait;
      if (i < 2) res.writeHead(500).end('down');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const hook = await h.register(r.url, ['revision.created']);
    await h.createPage('Flaky receiver');
    await expect.poll(() => r.requests.length).toBe(2);
    // The second attempt is under way: the log counts it and still shows how the first ended.
    expect((await h.deliveries(hook.id)).items).toEqual([expect.objectContaining({
      status: 'pending', attempts: 2, last_status_code: 500, last_error: 'the receiver answered 500', delivered_at: null,
    })]);
    second.open();
    await expect.poll(async () => (await h.deliveries(hook.id)).items[0]?.status).toBe('delivered');
    expect((await h.deliveries(hook.id)).items[0]).toMatchObject({ attempts: 3, last_status_code: 200, last_error: null, next_attempt_at: null });
    expect(r.requests).toHaveLength(3);
    // One delivery sent three times: the same delivery id and event, each attempt signed afresh.
    expect(new Set(r.requests.map((q) => q.headers['x-lectern-delivery'])).size).toBe(1);
    expect(new Set(r.requests.map((q) => JSON.parse(q.body).id)).size).toBe(1);
    expect(r.requests.every((q) => verifyWebhookSignature(hook.secret, q.headers['x-lectern-signature'] as string, q.body))).toBe(true);
  });

  it('answers a save while a receiver holds its delivery open', async () => {
    const release = gate();
    const r = await h.receiver(async (_req, res) => {
      await release.wait;
      res.writeHead(204).end();
    });
    const hook = await h.register(r.url, ['revision.created']);
    const page = await h.createPage('Slow receiver');
    await expect.poll(() => r.requests.length).toBe(1);
    const edited = await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${page.id}/`, payload: { intro: 'Saved anyway' } });
    expect(edited.statusCode).toBe(200);
    expect(r.requests[0]!.done).toBe(false);
    // The hanging receiver does not hold up the next delivery either.
    await expect.poll(() => r.requests.length).toBe(2);
    expect(r.requests.map((q) => q.done)).toEqual([false, false]);
    release.open();
    await expect.poll(async () => (await h.deliveries(hook.id)).items.map((d) => d.status)).toEqual(['delivered', 'delivered']);
    expect(r.requests.some((q) => q.abandoned)).toBe(false);
  });

  it('sends nothing more to a webhook once it is deleted', async () => {
    const deleted = await h.receiver();
    const kept = await h.receiver();
    const hook = await h.register(deleted.url, ['revision.created']);
    const page = await h.createPage('Before the delete');
    await expect.poll(() => deleted.requests.length).toBe(1);
    expect((await t.as('editor', { method: 'DELETE', url: `/api/v2/webhooks/${hook.id}/` })).statusCode).toBe(204);
    await h.register(kept.url, ['revision.created']);
    await h.write('PATCH', `/api/v2/pages/${page.id}/`, { intro: 'After the delete' });
    // The same save's delivery to the other webhook has arrived: the deleted one had its chance.
    await expect.poll(() => kept.requests.length).toBe(1);
    expect(deleted.requests).toHaveLength(1);
  });
});

describe.each(DRIVERS)('webhook deliveries that fail (%s)', (driver) => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(driver, { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '200', WEBHOOK_MAX_ATTEMPTS: '3' }); });
  afterAll(async () => { await t?.close(); });
  const h = harness(() => t);
  afterEach(() => h.cleanUp());

  const failedDelivery = async (hook: number) => {
    await expect.poll(async () => (await h.deliveries(hook)).items[0]?.status).toBe('failed');
    return (await h.deliveries(hook)).items[0]!;
  };

  it('gives up on a receiver that never answers after the last attempt, recording the timeout', async () => {
    const r = await h.receiver(() => { /* never answers */ });
    const hook = await h.register(r.url, ['revision.created']);
    await h.createPage('Silent receiver');
    expect(await failedDelivery(hook.id)).toMatchObject({
      attempts: 3, last_status_code: null, last_error: 'no answer within 200 ms', next_attempt_at: null, delivered_at: null,
    });
    expect(r.requests).toHaveLength(3);
    await expect.poll(() => r.requests.every((q) => q.abandoned)).toBe(true);
  });

  it('gives up on a closed port after the last attempt, recording the connection error', async () => {
    const hook = await h.register(`http://127.0.0.1:${await closedPort()}/hook`, ['revision.created']);
    await h.createPage('Nobody listening');
    const failed = await failedDelivery(hook.id);
    expect(failed).toMatchObject({ attempts: 3, last_status_code: null });
    expect(failed.last_error).toMatch(/ECONNREFUSED/);
  });

  it('counts a redirect as a failure and never follows it', async () => {
    const target = await h.receiver();
    const r = await h.receiver((_req, res) => { res.writeHead(307, { location: target.url }).end(); });
    const hook = await h.register(r.url, ['revision.created']);
    await h.createPage('Redirecting receiver');
    expect(await failedDelivery(hook.id)).toMatchObject({ attempts: 3, last_status_code: 307, last_error: 'the receiver answered 307 (redirects are not followed)' });
    expect(target.requests).toHaveLength(0);
  });
});
