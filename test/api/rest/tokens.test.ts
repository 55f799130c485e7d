import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

describe('managing tokens over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp('pglite'); });
  afterAll(async () => { await t?.close(); });

  it('lets admins create, list and revoke tokens; the token is shown once', async () => {
    const res = await t.as('admin', { method: 'POST', url: '/api/v2/tokens/', payload: { name: 'Lena Learner', role: 'learner' } });
    expect(res.statusCode).toBe(201);
    const made = res.json();
    expect(made).toMatchObject({ name: 'Lena Learner', role: 'learner', token: expect.stringMatching(/^lct_/), revoked_at: null });
    const listed = (await t.as('admin', { url: '/api/v2/tokens/' })).json().items;
    expect(listed).toContainEqual(expect.objectContaining({ id: made.id, name: 'Lena Learner' }));
    expect(JSON.stringify(listed)).not.toContain(made.token);
    expect((await t.app.inject({ url: '/api/v2/pages/', headers: { authorization: `Bearer ${made.token}` } })).statusCode).toBe(200);
    expect((await t.as('admin', { method: 'DELETE', url: `/api/v2/tokens/${made.id}/` })).statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/v2/pages/', headers: { authorization: `Bearer ${made.token}` } })).statusCode).toBe(401);
    expect((await t.as('admin', { method: 'DELETE', url: `/api/v2/tokens/${made.id}/` })).statusCode).toBe(404);
  });

  it('is for admins only, and validates what it is given', async () => {
    expect((await t.as('editor', { url: '/api/v2/tokens/' })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: '/api/v2/tokens/', payload: { name: 'x', role: 'admin' } })).statusCode).toBe(401);
    const bad = await t.as('admin', { method: 'POST', url: '/api/v2/tokens/', payload: { name: 'x', role: 'owner' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([{ path: '/role', message: expect.stringContaining('must be one of') }]);
  });
});
