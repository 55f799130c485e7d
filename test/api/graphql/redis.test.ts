import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EXECUTION_EVENTS, Feed, type ContentEventFields as ContentEvent, type ExecutionEventFields as ExecutionEvent } from '../../helpers/graphql-ws.js';
import { POSTGRES_URL, REDIS_URL } from '../../helpers/env.js';
import { api, startServer, type ServerProcess } from '../../helpers/server-process.js';
import { ADMIN_TOKEN, createTestDatabase, type TestDatabase } from '../../helpers/test-app.js';

/**
 * Two server processes on one Postgres database, one data directory and one Redis: a
 * subscriber connected to one hears what is done through the other. Other suites may
 * publish on the same Redis topics at the same time, so only this suite's pages and runs
 * are asserted on.
 */


const PAGE_CHANGED = 'subscription($page: Int) { pageChanged(page: $page) { id type page ancestors revision actor } }';


describe.skipIf(!REDIS_URL || !POSTGRES_URL)('subscriptions across two server processes through Redis', () => {
  let db: TestDatabase;
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let editor: string;
  let learner: string;
  const clients: Client[] = [];
  const feeds: Feed<unknown>[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await db.database.close();
    dir = mkdtempSync(join(tmpdir(), 'lectern-redis-'));
    const env = {
      DATABASE_URL: db.url!, DATA_DIR: dir, ADMIN_TOKEN, REDIS_URL: REDIS_URL!, KERNEL_GATEWAY: 'pyodide',
      CONTENT_POLL_MS: '200', RUNS_PER_MINUTE: '1000', EXECUTION_TIMEOUT_MS: '30000',
    };
    a = await startServer(env);
    b = await startServer(env);
    const token = async (name: string, role: string) => {
      const res = await api(a.url, '/api/v2/tokens/', { method: 'POST', token: ADMIN_TOKEN, body: { name, role } });
      expect(res.status, res.text).toBe(201);
      return res.json().token as string;
    };
    editor = await token('Eddie Editor', 'editor');
    learner = await token('Lee Learner', 'learner');
  }, 180_000);
  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((f) => f.stop()));
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const connect = (server: ServerProcess, token: string) => {
    const client = createClient({ url: `${server.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: true, retryAttempts: 0 });
    clients.push(client);
    return client;
  };
  const subscribe = <T>(server: ServerProcess, token: string, query: string, variables: Record<string, unknown>) => {
    const feed = new Feed<T>(connect(server, token), query, variables);
    feeds.push(feed as Feed<unknown>);
    return feed;
  };
  const gql = async <T = any>(server: ServerProcess, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await api(server.url, '/graphql', { method: 'POST', token, body: { query, variables } });
    const body = res.json() as { data: T; errors?: unknown };
    expect(body.errors, res.text).toBeUndefined();
    return body.data;
  };
  /** A save through REST on `server`; returns the revision it made. */
  const save = async (server: ServerProcess, id: number, intro: string) => {
    const res = await api(server.url, `/api/v2/pages/${id}/`, { method: 'PATCH', token: editor, body: { intro } });
    expect(res.status, res.text).toBe(200);
    return res.json().meta.revision as number;
  };

  it('tells a subscriber on one process of a save and a publish made through the other', async () => {
    const created = await api(b.url, '/api/v2/pages/', { method: 'POST', token: editor, body: { type: 'lesson', title: 'Across processes', body: [] } });
    expect(created.status, created.text).toBe(201);
    const x = created.json().id as number;
    const feed = subscribe<{ pageChanged: ContentEvent }>(a, editor, PAGE_CHANGED, { page: x });
    const events = () => feed.data.map((d) => d.pageChanged);

    // graphql-ws does not say when the subscription is set up: save until one is heard.
    // Events arrive in order, so once the last of these is in, no older one is on its way.
    for (let attempt = 1; ; attempt++) {
      const poke = await save(b, x, `poke ${attempt}`);
      try {
        await expect.poll(() => events().some((e) => e.type === 'revision.created' && e.revision === poke), { timeout: 1_000, interval: 20 }).toBe(true);
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
      }
    }
    feed.data.length = 0;

    const saved = await save(b, x, 'saved on B');
    const { publishPage } = await gql(b, editor, 'mutation($id: Int!) { publishPage(id: $id) { page { live_revision } } }', { id: x });
    expect(publishPage.page.live_revision).toBe(saved);
    // The last write: once it is heard, a duplicate of the others would have come before it.
    expect((await api(b.url, `/api/v2/pages/${x}/unpublish/`, { method: 'POST', token: editor })).status).toBe(200);
    await expect.poll(() => events().length).toBeGreaterThanOrEqual(3);

    expect(events()).toEqual([
      { id: expect.any(String), type: 'revision.created', page: x, ancestors: [], revision: saved, actor: 'Eddie Editor' },
      { id: expect.any(String), type: 'page.published', page: x, ancestors: [], revision: saved, actor: 'Eddie Editor' },
      { id: expect.any(String), type: 'page.unpublished', page: x, ancestors: [], revision: null, actor: 'Eddie Editor' },
    ]);
    expect(feed.error).toBeNull();
  });

  it('streams a run held by one process to a subscriber on the other, then replays it there once it is over', async () => {
    const created = await api(b.url, '/api/v2/pages/', {
      method: 'POST', token: editor, body: { type: 'lesson', title: 'Run across processes', publish: true, body: [{ type: 'jupyter', value: { code: 'print(1)' } }] },
    });
    expect(created.status, created.text).toBe(201);
    const page = created.json() as { id: number; body: { id: string }[] };
    // The sleep first: the subscriber on A is in place before the outputs (no replay of a run held elsewhere).
    const code = 'import time\ntime.sleep(2)\nprint("one")\ntime.sleep(1)\nprint("two")';
    const started = await api(b.url, `/api/v2/pages/${page.id}/blocks/${page.body[0]!.id}/execute/`, { method: 'POST', token: learner, body: { code } });
    expect(started.status, started.text).toBe(202);
    const id = started.json().execution.id as string;
    // A knows the run once B has recorded it as running.
    await expect.poll(async () => (await api(a.url, `/api/v2/executions/${id}/`, { token: learner })).status, { interval: 50 }).toBe(200);

    const feed = subscribe<{ executionEvents: ExecutionEvent }>(a, learner, EXECUTION_EVENTS, { id });
    await feed.done;
    expect(feed.error).toBeNull();
    const streamed = feed.data.map((d) => d.executionEvents);
    expect(streamed).toEqual([
      { seq: 1, event: 'output', output: { name: 'stdout', text: 'one\n' }, status: null },
      { seq: 2, event: 'output', output: { name: 'stdout', text: 'two\n' }, status: null },
      { seq: 3, event: 'status', output: null, status: expect.objectContaining({ status: 'ok', truncated: false, message: null }) },
    ]);

    // Over: A replays it from the record B wrote.
    const late = subscribe<{ executionEvents: ExecutionEvent }>(a, learner, EXECUTION_EVENTS, { id });
    await late.done;
    expect(late.error).toBeNull();
    expect(late.data.map((d) => d.executionEvents)).toEqual(streamed);
  });

  // With REDIS_URL the record is written before the 202, and the process holding the run
  // replays what it has produced so far to a subscriber elsewhere.
  it('gives a subscriber on the other process every event of a run it follows right after the start', async () => {
    const created = await api(b.url, '/api/v2/pages/', {
      method: 'POST', token: editor, body: { type: 'lesson', title: 'Followed at once', publish: true, body: [{ type: 'jupyter', value: { code: 'print(1)' } }] },
    });
    const page = created.json() as { id: number; body: { id: string }[] };
    const code = 'import time\nprint("early")\ntime.sleep(1)\nprint("late")';
    const started = await api(b.url, `/api/v2/pages/${page.id}/blocks/${page.body[0]!.id}/execute/`, { method: 'POST', token: learner, body: { code } });
    expect(started.status, started.text).toBe(202);
    const id = started.json().execution.id as string;
    const feed = subscribe<{ executionEvents: ExecutionEvent }>(a, learner, EXECUTION_EVENTS, { id });
    await feed.done;
    // Let the run end before the servers stop, whichever way this went.
    await expect.poll(async () => (await api(b.url, `/api/v2/executions/${id}/`, { token: learner })).json().status, { timeout: 30_000 }).not.toBe('running');
    expect(feed.error).toBeNull();
    expect(feed.data.map((d) => d.executionEvents.output?.text ?? d.executionEvents.event)).toEqual(['early\n', 'late\n', 'status']);
  });
});
