import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EXECUTION_EVENTS, Feed, type ContentEventFields as ContentEvent, type ExecutionEventFields as ExecutionEvent } from '../../helpers/graphql-ws.js';
import { createToken } from '../../../src/auth/tokens.js';
import { DRIVERS } from '../../helpers/env.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

/**
 * GraphQL subscriptions over a real WebSocket (graphql-ws, subprotocol graphql-transport-ws)
 * to a server listening on a real port; writes go through real HTTP.
 */


const PAGE_CHANGED = `subscription($page: Int, $subtree: Int) {
  pageChanged(page: $page, subtree: $subtree) { id type page ancestors revision actor at }
}`;


const errorCodes = (error: unknown) => (error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code);

describe.each(DRIVERS)('pageChanged over WebSocket (%s)', (driver) => {
  let t: TestApp;
  let base: string;
  let learner: string;
  const clients: Client[] = [];
  const feeds: Feed<unknown>[] = [];

  beforeAll(async () => {
    t = await startTestApp(driver, { KERNEL_GATEWAY: 'none' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    learner = (await createToken(t.app.lectern.database.db, { name: 'Lee Learner', role: 'learner' })).token;
  });
  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((f) => f.stop()));
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => { await t?.close(); });

  const connect = (connectionParams?: Record<string, unknown>) => {
    const client = createClient({ url: `${base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, lazy: true, retryAttempts: 0 });
    clients.push(client);
    return client;
  };
  const pageChanged = (client: Client, args: { page?: number; subtree?: number } = {}) => {
    const feed = new Feed<{ pageChanged: ContentEvent }>(client, PAGE_CHANGED, args);
    feeds.push(feed as Feed<unknown>);
    return feed;
  };
  const events = (feed: Feed<{ pageChanged: ContentEvent }>) => feed.data.map((d) => d.pageChanged);

  /** A GraphQL request over HTTP as the editor; fails the test on any error. */
  const gql = async <T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokens.editor}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json() as { data: T; errors?: unknown };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  };
  const create = async (input: Record<string, unknown>) =>
    (await gql('mutation($input: JSON!) { createPage(input: $input) { page { id revision } } }', { input })).createPage.page as { id: number; revision: number };
  const save = async (id: number, input: Record<string, unknown> = { intro: `edit ${Math.random()}` }) =>
    (await gql('mutation($id: Int!, $input: JSON!) { updatePage(id: $id, input: $input) { page { id revision } } }', { id, input })).updatePage.page.revision as number;
  const publish = async (id: number) =>
    (await gql('mutation($id: Int!) { publishPage(id: $id) { page { live_revision } } }', { id })).publishPage.page.live_revision as number;
  const unpublish = (id: number) => gql('mutation($id: Int!) { unpublishPage(id: $id) { page { id } } }', { id });
  const move = async (id: number, parent: number | null) =>
    (await gql('mutation($id: Int!, $parent: Int) { movePage(id: $id, input: { parent: $parent }) { page { revision } } }', { id, parent })).movePage.page.revision as number;
  const remove = async (id: number) => (await gql('mutation($id: Int!) { deletePage(id: $id) { deleted } }', { id })).deletePage.deleted as number[];

  /**
   * graphql-ws does not say when the server has set a subscription up. `poke` makes a
   * change the subscriptions hear and names its event; it is repeated until every feed
   * has heard one. Events of a topic arrive in order, so once the last poke's event is in,
   * nothing older is still on its way: the feeds are emptied and hear only what follows.
   */
  const whenListening = async (feeds: Feed<{ pageChanged: ContentEvent }>[], poke: () => Promise<(e: ContentEvent) => boolean>) => {
    for (let attempt = 1; ; attempt++) {
      const heard = await poke();
      try {
        await expect.poll(() => feeds.every((f) => events(f).some(heard)), { timeout: 1_000, interval: 20 }).toBe(true);
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
      }
    }
    for (const f of feeds) f.data.length = 0;
  };
  const savedPoke = (id: number) => async () => {
    const revision = await save(id);
    return (e: ContentEvent) => e.type === 'revision.created' && e.page === id && e.revision === revision;
  };

  it('tells a subscriber to one page its save and its publish, in order, and nothing of another page', async () => {
    const x = await create({ type: 'lesson', title: 'Watched', body: [] });
    const y = await create({ type: 'lesson', title: 'Unwatched', body: [] });
    const feed = pageChanged(connect({ authorization: `Bearer ${t.tokens.editor}` }), { page: x.id });
    await whenListening([feed], savedPoke(x.id));

    await save(y.id);
    const saved = await save(x.id, { intro: 'changed' });
    const published = await publish(x.id);
    await save(y.id);
    await publish(y.id);
    // The last write: once its event is in, anything about Y would have come before it.
    await unpublish(x.id);
    await expect.poll(() => events(feed).length).toBeGreaterThanOrEqual(3);

    expect(published).toBe(saved);
    expect(events(feed)).toEqual([
      { id: expect.any(String), type: 'revision.created', page: x.id, ancestors: [], revision: saved, actor: 'Eddie Editor', at: expect.any(String) },
      { id: expect.any(String), type: 'page.published', page: x.id, ancestors: [], revision: saved, actor: 'Eddie Editor', at: expect.any(String) },
      { id: expect.any(String), type: 'page.unpublished', page: x.id, ancestors: [], revision: null, actor: 'Eddie Editor', at: expect.any(String) },
    ]);
    expect(new Set(events(feed).map((e) => e.id)).size).toBe(3);
    expect(Number.isNaN(Date.parse(events(feed)[0]!.at!))).toBe(false);
    expect(feed.error).toBeNull();
  });

  it('tells a subtree subscriber about saves, moves and deletes anywhere below the page', async () => {
    const course = await create({ type: 'lesson_index', title: 'Course' });
    const section = await create({ type: 'lesson_index', title: 'Section', parent: course.id });
    const other = await create({ type: 'lesson_index', title: 'Other section', parent: course.id });
    const lesson = await create({ type: 'lesson', title: 'Deep lesson', parent: section.id, body: [] });
    const outside = await create({ type: 'lesson_index', title: 'Elsewhere' });
    const stray = await create({ type: 'lesson', title: 'Stray lesson', parent: outside.id, body: [] });
    const feed = pageChanged(connect({ token: t.tokens.editor }), { subtree: course.id });
    await whenListening([feed], savedPoke(course.id));

    await save(stray.id);
    const saved = await save(lesson.id);
    const moved = await move(lesson.id, other.id);
    const arrived = await move(stray.id, section.id);
    await save(outside.id);
    expect((await remove(section.id)).sort()).toEqual([section.id, stray.id].sort());
    await expect.poll(() => events(feed).length).toBeGreaterThanOrEqual(7);

    const seen = events(feed).map((e) => ({ type: e.type, page: e.page, ancestors: e.ancestors, revision: e.revision }));
    expect(seen.slice(0, 5)).toEqual([
      { type: 'revision.created', page: lesson.id, ancestors: [course.id, section.id], revision: saved },
      // A move tells where the page is now.
      { type: 'revision.created', page: lesson.id, ancestors: [course.id, other.id], revision: moved },
      { type: 'page.moved', page: lesson.id, ancestors: [course.id, other.id], revision: moved },
      { type: 'revision.created', page: stray.id, ancestors: [course.id, section.id], revision: arrived },
      { type: 'page.moved', page: stray.id, ancestors: [course.id, section.id], revision: arrived },
    ]);
    // Deleting a page deletes its subtree: one event for each.
    expect(seen.slice(5)).toHaveLength(2);
    expect(seen.slice(5)).toEqual(expect.arrayContaining([
      { type: 'page.deleted', page: section.id, ancestors: [course.id], revision: null },
      { type: 'page.deleted', page: stray.id, ancestors: [course.id, section.id], revision: null },
    ]));
  });

  it('tells anonymous subscribers and learners only of publish and unpublish; reviewers hear every save', async () => {
    const x = await create({ type: 'lesson', title: 'Public lesson', body: [], publish: true });
    const anonymous = pageChanged(connect(), { page: x.id });
    const learnerFeed = pageChanged(connect({ authorization: `Bearer ${learner}` }), { page: x.id });
    const reviewer = pageChanged(connect({ authorization: `Bearer ${t.tokens.reviewer}` }), { page: x.id });
    await whenListening([anonymous, learnerFeed, reviewer], async () => {
      const revision = await publish(x.id);
      return (e) => e.type === 'page.published' && e.page === x.id && e.revision === revision;
    });

    const draft = await save(x.id);
    await unpublish(x.id);
    const republished = await save(x.id, { intro: 'new and live', publish: true });
    await expect.poll(() => [anonymous, learnerFeed].map((f) => events(f).length)).toEqual([2, 2]);
    await expect.poll(() => events(reviewer).length).toBeGreaterThanOrEqual(4);

    for (const feed of [anonymous, learnerFeed]) {
      expect(events(feed).map((e) => [e.type, e.revision])).toEqual([['page.unpublished', null], ['page.published', republished]]);
    }
    expect(events(reviewer).map((e) => [e.type, e.revision])).toEqual([
      ['revision.created', draft], ['page.unpublished', null], ['revision.created', republished], ['page.published', republished],
    ]);
  });

  it('refuses a connection whose connection_init carries a bad token', async () => {
    const good = pageChanged(connect({ authorization: `Bearer ${t.tokens.editor}` }));
    for (const params of [{ authorization: 'Bearer not-a-token' }, { token: 'not-a-token' }, { authorization: t.tokens.editor }]) {
      const client = connect(params);
      const closed: unknown[] = [];
      client.on('closed', (e) => { closed.push(e); });
      const feed = pageChanged(client);
      await feed.done;
      expect(feed.data, JSON.stringify(params)).toEqual([]);
      expect(feed.error, JSON.stringify(params)).toBeTruthy();
      await expect.poll(() => closed.length).toBe(1);
    }
    // On the wire: no connection_ack, and the server closes the socket.
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const received: { type: string }[] = [];
    ws.on('message', (m) => { received.push(JSON.parse(m.toString()) as { type: string }); });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-token' } }));
    await new Promise((resolve) => ws.once('close', resolve));
    expect(received.map((m) => m.type)).not.toContain('connection_ack');

    // The good connection stays up and keeps hearing.
    const x = await create({ type: 'lesson', title: 'Still heard', body: [] });
    await expect.poll(() => events(good).some((e) => e.page === x.id && e.type === 'revision.created')).toBe(true);
    expect(good.ended).toBe(false);
  });
});

describe('executionEvents over WebSocket (pglite, pyodide)', () => {
  let t: TestApp;
  let base: string;
  let learner: string;
  let other: string;
  let page: { id: number; body: { id: string }[] };
  const clients: Client[] = [];

  beforeAll(async () => {
    t = await startTestApp('pglite', { KERNEL_GATEWAY: 'pyodide', RUNS_PER_MINUTE: '1000', EXECUTION_TIMEOUT_MS: '30000' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const db = t.app.lectern.database.db;
    learner = (await createToken(db, { name: 'Lee Learner', role: 'learner' })).token;
    other = (await createToken(db, { name: 'Olga Other', role: 'learner' })).token;
    const res = await fetch(`${base}/api/v2/pages/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokens.editor}` },
      body: JSON.stringify({ type: 'lesson', title: 'Streaming', publish: true, body: [{ type: 'jupyter', value: { code: 'print("hi")' } }] }),
    });
    expect(res.status).toBe(201);
    page = await res.json() as typeof page;
  }, 180_000);
  afterEach(async () => { await Promise.all(clients.splice(0).map((c) => c.dispose())); });
  afterAll(async () => { await t?.close(); });

  const connect = (token?: string) => {
    const client = createClient({ url: `${base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: token ? { authorization: `Bearer ${token}` } : undefined, lazy: true, retryAttempts: 0 });
    clients.push(client);
    return client;
  };
  const gql = async <T = any>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json() as { data: T; errors?: unknown };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  };
  /** Starts a run with executeBlock(wait: false): it answers while the code runs. */
  const start = async (code: string, token = learner) => {
    const { executeBlock } = await gql(token, 'mutation($page: Int!, $block: String!, $code: String) { executeBlock(page: $page, block: $block, code: $code, wait: false) { id status } }', { page: page.id, block: page.body[0]!.id, code });
    expect(executeBlock.status).toBe('running');
    return executeBlock.id as string;
  };
  /** Every event of a run's subscription, read to its end. */
  const follow = async (id: string, token?: string) => {
    const feed = new Feed<{ executionEvents: ExecutionEvent }>(connect(token), EXECUTION_EVENTS, { id });
    await feed.done;
    return { events: feed.data.map((d) => d.executionEvents), error: feed.error };
  };

  it('streams a run\'s outputs in order, then its status, and completes', async () => {
    const id = await start('import time\nprint("one")\ntime.sleep(0.5)\nprint("two")');
    const { events, error } = await follow(id, learner);
    expect(error).toBeNull();
    expect(events).toEqual([
      { seq: 1, event: 'output', output: { name: 'stdout', text: 'one\n' }, status: null },
      { seq: 2, event: 'output', output: { name: 'stdout', text: 'two\n' }, status: null },
      { seq: 3, event: 'status', output: null, status: expect.objectContaining({ status: 'ok', truncated: false, message: null, duration_ms: expect.any(Number) }) },
    ]);
  });

  it('delivers an output while the run is still going', async () => {
    const id = await start('import time\nprint("waiting")\nwhile True:\n    time.sleep(0.05)');
    const iterator = connect(learner).iterate<{ executionEvents: ExecutionEvent }>({ query: EXECUTION_EVENTS, variables: { id } });
    try {
      const first = await iterator.next();
      expect(first.value?.data?.executionEvents).toEqual({ seq: 1, event: 'output', output: { name: 'stdout', text: 'waiting\n' }, status: null });
      // The run cannot end on its own: the output came while it ran.
      const { execution } = await gql(learner, 'query($id: String!) { execution(id: $id) { status } }', { id });
      expect(execution.status).toBe('running');
      await gql(learner, 'mutation($id: String!) { interruptExecution(id: $id) { id } }', { id });
      const rest: ExecutionEvent[] = [];
      for await (const r of iterator) rest.push(r.data!.executionEvents);
      expect(rest.at(-1)).toMatchObject({ event: 'status', status: { status: 'interrupted' } });
    } finally {
      await iterator.return?.();
    }
  });

  it('replays a finished run to a late subscriber, from memory and from its record', async () => {
    const id = await start('print("early")\nprint("bird")');
    const live = await follow(id, learner);
    expect(live.events.at(-1)).toMatchObject({ event: 'status', status: { status: 'ok' } });

    const late = await follow(id, learner);
    expect(late.error).toBeNull();
    expect(late.events).toEqual(live.events);
    expect(late.events.filter((e) => e.event === 'output').map((e) => e.output!.text).join('')).toBe('early\nbird\n');

    // Gone from this process's memory (as after KEEP_FINISHED_MS, or in another process): the record replays it.
    (t.app.lectern.executions as unknown as { live: Map<string, unknown> }).live.delete(id);
    const recorded = await follow(id, learner);
    expect(recorded.error).toBeNull();
    expect(recorded.events).toEqual(live.events);
  });

  it('refuses another learner and a connection without a token; an admin may follow', async () => {
    const id = await start('print("mine")');
    const theirs = await follow(id, other);
    expect(theirs.events).toEqual([]);
    expect(theirs.error).toEqual([expect.objectContaining({ message: `execution ${id} does not exist`, path: ['executionEvents'] })]);

    const nobody = await follow(id);
    expect(nobody.events).toEqual([]);
    expect(nobody.error).toEqual([expect.objectContaining({ message: 'authentication credentials were not provided', path: ['executionEvents'] })]);

    const admin = await follow(id, t.tokens.admin);
    expect(admin.error).toBeNull();
    expect(admin.events.at(-1)).toMatchObject({ event: 'status', status: { status: 'ok' } });
  });

  // Errors thrown while a subscription is set up skip mercurius' errorFormatter; CmsError's
  // own `extensions` carry the code there.
  it('gives a refused subscription REST\'s error code in extensions.code', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expect(errorCodes((await follow(id, other)).error)).toEqual(['CMS_ERR_EXECUTION_NOT_FOUND']);
    expect(errorCodes((await follow(id)).error)).toEqual(['CMS_ERR_AUTH_REQUIRED']);
  });
});
