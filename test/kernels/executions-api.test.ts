import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.js';
import { DRIVERS, JUPYTER_SERVER } from '../helpers/env.js';
import { startJupyterServer, type JupyterServer } from '../helpers/jupyter-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Gateway = 'pyodide' | 'jupyter';
const GATEWAYS: Gateway[] = JUPYTER_SERVER ? ['pyodide', 'jupyter'] : ['pyodide'];

interface Exec { id: string; status: string; outputs: any[]; kernel: string; message: string | null; truncated: boolean; execution_count: number | null }

/** Parses a finished text/event-stream body into its events. */
function parseSse(body: string): { id: number; event: string; data: any }[] {
  return body.split('\n\n').filter((chunk) => chunk.includes('data:')).map((chunk) => {
    const field = (name: string) => chunk.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    return { id: Number(field('id')), event: field('event')!, data: JSON.parse(field('data')!) };
  });
}

const stdout = (e: Exec) => e.outputs.filter((o) => o.output_type === 'stream' && o.name === 'stdout').map((o) => o.text).join('');

describe.each(GATEWAYS)('running jupyter blocks on the %s gateway', (gateway) => {
  let t: TestApp;
  let jupyter: JupyterServer | null = null;
  let learner: string;
  let other: string;
  let page: { id: number; body: { id: string; type: string }[] };
  let cell: string;

  beforeAll(async () => {
    const env: Record<string, string> = { KERNEL_GATEWAY: gateway, EXECUTION_TIMEOUT_MS: '8000', KERNEL_INTERRUPT_GRACE_MS: '3000', MAX_OUTPUT_BYTES: '4096', RUNS_PER_MINUTE: '1000', MAX_CODE_BYTES: '2000' };
    if (gateway === 'jupyter') {
      jupyter = await startJupyterServer();
      Object.assign(env, { KERNEL_GATEWAY_URL: jupyter.url, KERNEL_GATEWAY_TOKEN: jupyter.token });
    }
    t = await startTestApp('pglite', env);
    const db = t.app.lectern.database.db;
    learner = (await createToken(db, { name: 'Lee Learner', role: 'learner' })).token;
    other = (await createToken(db, { name: 'Olga Other', role: 'learner' })).token;
    page = (await t.as('editor', {
      method: 'POST', url: '/api/v2/pages/', payload: {
        type: 'lesson', title: `Runnable on ${gateway}`, publish: true, body: [
          { type: 'paragraph', value: '<p>Run me</p>' },
          { type: 'jupyter', value: { code: 'print("hello from the lesson")' } },
          { type: 'exercise', value: { title: 'Nested', instructions: [{ type: 'jupyter', value: { code: 'print(6 * 7)' } }] } },
        ],
      },
    })).json();
    cell = page.body[1]!.id;
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await jupyter?.stop();
  });

  const run = (token: string, body: object = {}, query = '?wait=true', blockId = cell) =>
    t.app.inject({ method: 'POST', url: `/api/v2/pages/${page.id}/blocks/${blockId}/execute/${query}`, payload: body, headers: { authorization: `Bearer ${token}` } });
  const ran = async (token: string, code: string) => {
    const res = await run(token, { code });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Exec;
  };

  it('runs the block\'s own code for a learner and returns the finished execution', async () => {
    const e = (await run(learner)).json() as Exec;
    expect(e).toMatchObject({ status: 'ok', page: page.id, block: cell, environment: 'default', truncated: false });
    expect(stdout(e)).toBe('hello from the lesson\n');
    expect(e.kernel).toEqual(expect.any(String));
  });

  it('runs a learner\'s edit, keeps their state between runs, and never shares it with another learner', async () => {
    expect((await ran(learner, 'x = 41')).status).toBe('ok');
    const result = await ran(learner, 'x + 1');
    expect(result.outputs).toContainEqual(expect.objectContaining({ output_type: 'execute_result', data: expect.objectContaining({ 'text/plain': '42' }) }));
    const theirs = await ran(other, 'x + 1');
    expect(theirs.status).toBe('error');
    expect(theirs.outputs).toContainEqual(expect.objectContaining({ output_type: 'error', ename: 'NameError' }));
    expect(theirs.kernel).not.toBe(result.kernel);
  });

  it('runs a cell nested in an exercise', async () => {
    const nested = (page.body[2] as any).value.instructions[0].id;
    const res = await run(learner, {}, '?wait=true', nested);
    expect(stdout(res.json())).toBe('42\n');
  });

  it('reports errors with their traceback', async () => {
    const e = await ran(learner, '1 / 0');
    expect(e.status).toBe('error');
    expect(e.outputs.at(-1)).toMatchObject({ output_type: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: expect.any(Array) });
  });

  it('answers 202 at once and streams the outputs as Server-Sent Events, resumable with Last-Event-ID', async () => {
    const res = await run(learner, { code: 'import time\nprint("one")\ntime.sleep(0.5)\nprint("two")' }, '');
    expect(res.statusCode).toBe(202);
    const { execution, events } = res.json();
    expect(execution.status).toBe('running');
    expect(res.headers.location).toBe(`http://localhost:80/api/v2/executions/${execution.id}/`);
    const url = new URL(events);
    const stream = await t.app.inject({ url: url.pathname + url.search });
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const all = parseSse(stream.body);
    expect(all.map((e) => e.event)).toEqual([...Array(all.length - 1).fill('output'), 'status']);
    expect(all.filter((e) => e.event === 'output').map((e) => e.data.text).join('')).toBe('one\ntwo\n');
    expect(all.at(-1)!.data).toMatchObject({ status: 'ok' });
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    const resumed = parseSse((await t.app.inject({ url: url.pathname + url.search, headers: { 'last-event-id': '1' } })).body);
    expect(resumed.map((e) => e.id)).toEqual(all.slice(1).map((e) => e.id));
    // Without the key, only the learner's own token opens it.
    expect((await t.app.inject({ url: url.pathname })).statusCode).toBe(401);
    expect((await t.app.inject({ url: url.pathname, headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(404);
    const viaToken = await t.app.inject({ url: url.pathname, headers: { authorization: `Bearer ${learner}` } });
    expect(parseSse(viaToken.body).at(-1)!.event).toBe('status');
    const got = await t.app.inject({ url: `/api/v2/executions/${execution.id}/`, headers: { authorization: `Bearer ${learner}` } });
    expect(got.json()).toMatchObject({ id: execution.id, status: 'ok' });
  });

  it('refuses a second run while one of the learner\'s is in progress, and interrupts on request', async () => {
    const started = await run(learner, { code: 'while True:\n    pass' }, '');
    const id = started.json().execution.id;
    const again = await run(learner, { code: 'print(1)' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'CMS_ERR_KERNEL_RUN_IN_PROGRESS', execution: id });
    const stopped = await t.app.inject({ method: 'POST', url: `/api/v2/executions/${id}/interrupt/`, headers: { authorization: `Bearer ${learner}` } });
    expect(stopped.statusCode).toBe(200);
    const final = parseSse((await t.app.inject({ url: `/api/v2/executions/${id}/events`, headers: { authorization: `Bearer ${learner}` } })).body).at(-1)!;
    expect(final.data.status).toBe('interrupted');
    // The kernel keeps its state after an interrupt.
    expect((await ran(learner, 'x')).outputs).toContainEqual(expect.objectContaining({ output_type: 'execute_result' }));
  });

  it('stops a run at the time limit, then the kernel works again', async () => {
    const e = await ran(learner, 'while True:\n    pass');
    expect(e.status).toBe('timeout');
    expect(e.message).toMatch(/execution time limit/);
    expect((await ran(learner, 'print("alive")')).status).toBe('ok');
  });

  it('caps outputs with a visible marker and sanitizes HTML', async () => {
    const big = await ran(learner, 'for i in range(2000):\n    print("line", i)');
    expect(big.truncated).toBe(true);
    expect(big.outputs.at(-1)).toMatchObject({ output_type: 'stream', name: 'stderr', text: expect.stringContaining('output truncated') });
    expect(big.outputs.reduce((n, o) => n + JSON.stringify(o).length, 0)).toBeLessThanOrEqual(4096);
    const html = await ran(learner, [
      'class Page:',
      '    def _repr_html_(self):',
      '        return "<b>bold</b><script>alert(1)</script><img src=x onerror=alert(1)>"',
      'Page()',
    ].join('\n'));
    const shown = html.outputs.find((o) => o.data?.['text/html']);
    expect(shown.data['text/html']).toBe('<b>bold</b><img />');
  });

  it('refuses code over the size limit with 413, and runs of other block types with 400', async () => {
    const res = await run(learner, { code: 'x = 1\n'.repeat(500) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'CMS_ERR_KERNEL_CODE_TOO_LARGE', errors: [{ path: '/code' }] });
    expect((await run(learner, {}, '?wait=true', page.body[0]!.id)).statusCode).toBe(400);
    expect((await run(learner, {}, '?wait=true', '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('restarts a learner\'s kernel on request: its state is gone', async () => {
    const before = await ran(learner, 'y = 5');
    const res = await t.app.inject({ method: 'POST', url: `/api/v2/kernels/${before.kernel}/restart/`, headers: { authorization: `Bearer ${learner}` } });
    expect(res.statusCode).toBe(200);
    expect((await ran(learner, 'y')).outputs).toContainEqual(expect.objectContaining({ ename: 'NameError' }));
    expect((await t.app.inject({ method: 'POST', url: `/api/v2/kernels/${before.kernel}/restart/`, headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(404);
    const mine = (await t.app.inject({ url: '/api/v2/kernels/', headers: { authorization: `Bearer ${learner}` } })).json();
    expect(mine.items).toEqual([expect.objectContaining({ id: before.kernel, environment: 'default', busy: false })]);
  });
});

describe('who may run code, and the limits on it', () => {
  let t: TestApp;
  let learner: string;
  let page: { id: number; body: { id: string }[] };
  beforeAll(async () => {
    t = await startTestApp('pglite', { KERNEL_GATEWAY: 'pyodide', RUNS_PER_MINUTE: '3', KERNELS_PER_LEARNER: '1' });
    learner = (await createToken(t.app.lectern.database.db, { name: 'Lee', role: 'learner' })).token;
    page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Limits', environment: 'numpy-2', publish: true, body: [{ type: 'jupyter', value: { code: '1' } }] } })).json();
  }, 120_000);
  afterAll(async () => { await t?.close(); });
  const exec = (token: string | null, payload: object = {}, p = page) => t.app.inject({
    method: 'POST', url: `/api/v2/pages/${p.id}/blocks/${p.body[0]!.id}/execute/?wait=true`, payload, headers: token ? { authorization: `Bearer ${token}` } : {},
  });

  it('needs a token; learners read live lessons only and cannot write', async () => {
    expect((await exec(null)).statusCode).toBe(401);
    const draft = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Draft', body: [{ type: 'jupyter', value: { code: '1' } }] } })).json();
    expect((await exec(learner, {}, draft)).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/v2/pages/${draft.id}/?version=draft`, headers: { authorization: `Bearer ${learner}` } })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'x', body: [] }, headers: { authorization: `Bearer ${learner}` } })).statusCode).toBe(403);
    // An editor previews the draft's cell.
    expect((await exec(t.tokens.editor, {}, draft)).json().status).toBe('ok');
  });

  it('limits runs per minute with 429 and Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await exec(learner)).statusCode).toBe(200);
    const limited = await exec(learner);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'CMS_ERR_KERNEL_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('runs in the lesson\'s environment and records every run for operators', async () => {
    const rows = await t.app.lectern.database.db.query.executions.findMany();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.find((r) => r.learner === 'Lee')).toMatchObject({
      pageId: page.id, blockId: page.body[0]!.id, environment: 'numpy-2', kernelspec: 'python3', gateway: 'pyodide',
      codeHash: expect.stringMatching(/^[0-9a-f]{64}$/), codeBytes: 1, edited: false, status: 'ok', durationMs: expect.any(Number),
    });
  });

  it('refuses an environment this server does not offer', async () => {
    const p = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Elsewhere', environment: 'jax-0.4', publish: true, body: [{ type: 'jupyter', value: { code: '1' } }] } })).json();
    const res = await exec(t.tokens.admin, {}, p);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/"jax-0.4" is not offered here/);
  });
});

describe('a kernel gateway that is down', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp('pglite', { KERNEL_GATEWAY: 'jupyter', KERNEL_GATEWAY_URL: 'http://127.0.0.1:9', KERNEL_GATEWAY_TOKEN: 'secret-gateway-token' }); });
  afterAll(async () => { await t?.close(); });

  it('answers 503 within 5 s, naming the gateway but not its token', async () => {
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Down', publish: true, body: [{ type: 'jupyter', value: { code: '1' } }] } })).json();
    const started = Date.now();
    const res = await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/blocks/${page.body[0].id}/execute/?wait=true`, payload: {} });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'CMS_ERR_KERNEL_GATEWAY_UNAVAILABLE', message: expect.stringContaining('http://127.0.0.1:9') });
    expect(res.body).not.toContain('secret-gateway-token');
  });
});

describe.each(DRIVERS)('execution records (%s)', (driver) => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(driver, { KERNEL_GATEWAY: 'pyodide' }); }, 120_000);
  afterAll(async () => { await t?.close(); });

  it('serves a finished run from its record once it has left memory', async () => {
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Kept', publish: true, body: [{ type: 'jupyter', value: { code: 'print("kept")' } }] } })).json();
    const done = (await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/blocks/${page.body[0].id}/execute/?wait=true`, payload: {} })).json();
    const { executions } = t.app.lectern;
    (executions as unknown as { live: Map<string, unknown> }).live.delete(done.id);
    const got = await t.as('editor', { url: `/api/v2/executions/${done.id}/` });
    expect(got.json()).toMatchObject({ id: done.id, status: 'ok', outputs: [{ output_type: 'stream', name: 'stdout', text: 'kept\n' }] });
    const replay = parseSse((await t.as('editor', { url: `/api/v2/executions/${done.id}/events` })).body);
    expect(replay.map((e) => e.event)).toEqual(['output', 'status']);
  });
});

describe('learners run what is published', () => {
  let t: TestApp;
  let learner: string;
  beforeAll(async () => {
    t = await startTestApp('pglite', { KERNEL_GATEWAY: 'pyodide', RUNS_PER_MINUTE: '1000' });
    learner = (await createToken(t.app.lectern.database.db, { name: 'Lee', role: 'learner' })).token;
  }, 120_000);
  afterAll(async () => { await t?.close(); });

  it('keeps running the live code while a draft changes it, and the new code once it is published', async () => {
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Versions', publish: true, body: [{ type: 'jupyter', value: { code: 'print("first")' } }] } })).json();
    const block = page.body[0];
    const run = async (token: string) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v2/pages/${page.id}/blocks/${block.id}/execute/?wait=true`, payload: {}, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, res.body).toBe(200);
      return stdout(res.json());
    };
    expect(await run(learner)).toBe('first\n');
    const edit = { body: [{ ...block, value: { ...block.value, code: 'print("second")' } }] };
    expect((await t.as('editor', { method: 'PATCH', url: `/api/v2/pages/${page.id}/`, payload: edit })).statusCode).toBe(200);
    expect(await run(learner)).toBe('first\n');
    expect(await run(t.tokens.editor)).toBe('second\n');
    expect((await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/publish/` })).statusCode).toBe(200);
    expect(await run(learner)).toBe('second\n');
    expect((await t.as('editor', { method: 'POST', url: `/api/v2/pages/${page.id}/unpublish/` })).statusCode).toBe(200);
    const gone = await t.app.inject({ method: 'POST', url: `/api/v2/pages/${page.id}/blocks/${block.id}/execute/?wait=true`, payload: {}, headers: { authorization: `Bearer ${learner}` } });
    expect(gone.statusCode).toBe(404);
  });
});

describe('sharing out the gateway: kernels per learner, kernels in all', () => {
  let t: TestApp;
  const learners: string[] = [];
  const lessons: { id: number; body: { id: string }[] }[] = [];
  beforeAll(async () => {
    t = await startTestApp('pglite', { KERNEL_GATEWAY: 'pyodide', RUNS_PER_MINUTE: '1000', KERNELS_PER_LEARNER: '1', MAX_KERNELS: '2' });
    for (const name of ['Ada', 'Bo', 'Cy']) learners.push((await createToken(t.app.lectern.database.db, { name, role: 'learner' })).token);
    for (const environment of ['default', 'numpy-2']) {
      lessons.push((await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: `In ${environment}`, environment, publish: true, body: [{ type: 'jupyter', value: { code: 'print("ran")' } }] } })).json());
    }
  }, 120_000);
  afterAll(async () => { await t?.close(); });
  const exec = (token: string, lesson = lessons[0]!) => t.app.inject({
    method: 'POST', url: `/api/v2/pages/${lesson.id}/blocks/${lesson.body[0]!.id}/execute/?wait=true`, payload: {}, headers: { authorization: `Bearer ${token}` },
  });
  const kernelsOf = async (token: string) => (await t.app.inject({ url: '/api/v2/kernels/', headers: { authorization: `Bearer ${token}` } })).json().items as { id: string; environment: string }[];

  it('replaces a learner\'s idle kernel when they need one for another environment', async () => {
    const ada = learners[0]!;
    expect((await exec(ada)).json().status).toBe('ok');
    expect((await exec(ada, lessons[1])).json().status).toBe('ok');
    expect((await kernelsOf(ada)).map((k) => k.environment)).toEqual(['numpy-2']);
  });

  it('refuses a kernel beyond MAX_KERNELS with 429 naming the gateway, and starts it once one is shut down', async () => {
    const [ada, bo, cy] = learners as [string, string, string];
    expect((await exec(bo)).json().status).toBe('ok');
    const full = await exec(cy);
    expect(full.statusCode).toBe(429);
    expect(full.json()).toMatchObject({ code: 'CMS_ERR_KERNEL_CAPACITY', message: expect.stringContaining('Pyodide') });
    expect(Number(full.headers['retry-after'])).toBeGreaterThan(0);
    // Learners already holding a kernel keep running code.
    expect((await exec(bo)).json().status).toBe('ok');
    const adas = await kernelsOf(ada);
    await t.app.lectern.executions.sessions.drop(t.app.lectern.executions.sessions.byId(adas[0]!.id)!, true);
    expect((await exec(cy)).json().status).toBe('ok');
  });
});

describe('idle kernels', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp('pglite', { KERNEL_GATEWAY: 'pyodide', KERNEL_IDLE_TTL_MS: '1000' }); }, 120_000);
  afterAll(async () => { await t?.close(); });

  it('are shut down after KERNEL_IDLE_TTL_MS; the next run starts a fresh one', async () => {
    const learner = (await createToken(t.app.lectern.database.db, { name: 'Idle', role: 'learner' })).token;
    const page = (await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: 'Idle', publish: true, body: [{ type: 'jupyter', value: { code: 'n = 1' } }] } })).json();
    const run = (code?: string) => t.app.inject({ method: 'POST', url: `/api/v2/pages/${page.id}/blocks/${page.body[0].id}/execute/?wait=true`, payload: code ? { code } : {}, headers: { authorization: `Bearer ${learner}` } });
    const first = (await run()).json();
    expect(first.status).toBe('ok');
    const kernels = async () => (await t.app.inject({ url: '/api/v2/kernels/', headers: { authorization: `Bearer ${learner}` } })).json().items;
    expect(await kernels()).toHaveLength(1);
    await expect.poll(kernels, { timeout: 15_000, interval: 250 }).toEqual([]);
    const after = (await run('n')).json();
    expect(after.kernel).not.toBe(first.kernel);
    expect(after.outputs).toContainEqual(expect.objectContaining({ ename: 'NameError' }));
  });
});
