import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { api, startServer, type ServerProcess } from '../helpers/server-process.js';

const run = promisify(execFile);
const TOKEN = /lct_[A-Za-z0-9_-]{43}/g;

/** `npm run lectern -- …` as an operator runs it. */
async function cli(dataDir: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH, DATA_DIR: dataDir } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('starting the server with embedded defaults', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'lectern-start-'));
    dirs.push(d);
    return d;
  };
  const start = async (env: Record<string, string>) => {
    const s = await startServer(env);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('creates PGlite and the git repository in DATA_DIR, prints the admin token once, and never again', async () => {
    const dir = dataDir();
    const first = await start({ DATA_DIR: dir });
    expect(existsSync(join(dir, 'db'))).toBe(true);
    expect(existsSync(join(dir, 'content.git', 'HEAD'))).toBe(true);
    expect((await api(first.url, '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await api(first.url, '/readyz')).json()).toEqual({ status: 'ok', checks: { database: 'ok', repository: 'ok' } });
    const printed = first.output().match(TOKEN);
    expect(printed).toHaveLength(1);
    const token = printed![0];
    const created = await api(first.url, '/api/v2/pages/', { method: 'POST', token, body: { type: 'lesson', title: 'Kept', body: [], publish: true } });
    expect(created.status).toBe(201);
    expect(await first.stop()).toBe(0);

    const second = await start({ DATA_DIR: dir });
    expect(second.output()).not.toMatch(TOKEN);
    expect((await api(second.url, '/api/v2/pages/?slug=kept')).json().meta.total_count).toBe(1);
    expect((await api(second.url, `/api/v2/pages/${created.json().id}/`, { method: 'PATCH', token, body: { intro: 'still mine' } })).status).toBe(200);
  });

  it('adopts ADMIN_TOKEN instead of printing one', async () => {
    const s = await start({ DATA_DIR: dataDir(), ADMIN_TOKEN: 'my-automation-token-0123456789' });
    expect(s.output()).not.toMatch(TOKEN);
    const res = await api(s.url, '/api/v2/pages/', { method: 'POST', token: 'my-automation-token-0123456789', body: { type: 'lesson', title: 'x', body: [] } });
    expect(res.status).toBe(201);
    expect((await api(s.url, '/api/v2/pages/', { method: 'POST', token: 'wrong', body: {} })).status).toBe(401);
  });

  it('creates, lists and revokes tokens from the command line', async () => {
    const dir = dataDir();
    const made = await cli(dir, 'token', 'create', '--role', 'reviewer', '--name', 'Rita');
    expect(made.code).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^lct_/);
    const other = (await cli(dir, 'token', 'create', '--role', 'editor', '--name', 'Ed')).stdout.trim();
    expect((await cli(dir, 'token', 'create', '--role', 'owner', '--name', 'x')).code).toBe(2);
    expect((await cli(dir, 'token', 'create', '--role', 'editor')).stderr).toMatch(/--name is required/);
    const list = await cli(dir, 'token', 'list');
    expect(list.stdout).toMatch(/Rita\treviewer/);
    expect(list.stdout).not.toContain(token);

    const s = await start({ DATA_DIR: dir });
    // While the server holds the embedded database, the CLI says so instead of corrupting it.
    const locked = await cli(dir, 'token', 'list');
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/in use by process \d+/);
    expect((await api(s.url, '/api/v2/pages/?version=draft', { token })).status).toBe(200);
    expect((await api(s.url, '/api/v2/pages/', { method: 'POST', token, body: { type: 'lesson', title: 'x', body: [] } })).status).toBe(403);
    expect((await api(s.url, '/api/v2/pages/', { method: 'POST', token: other, body: { type: 'lesson', title: 'x', body: [] } })).status).toBe(201);
    await s.stop();

    const used = (await cli(dir, 'token', 'list')).stdout.split('\n').find((l) => l.includes('Rita'))!;
    expect(used.split('\t')[4]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await cli(dir, 'token', 'revoke', '2')).code).toBe(0);
    const again = await start({ DATA_DIR: dir });
    expect((await api(again.url, '/api/v2/pages/', { method: 'POST', token: other, body: { type: 'lesson', title: 'y', body: [] } })).status).toBe(401);
  });

  it('refuses bad configuration with a clear message', async () => {
    const res = await run(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { PATH: process.env.PATH, DATA_DIR: dataDir(), PORT: 'eighty' } }).catch((e) => e);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/PORT must be an integer/);
  });
});

describe('stopping the server', () => {
  it('finishes a request in flight at SIGTERM, answers it, and exits promptly with 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-stop-'));
    const s = await startServer({ DATA_DIR: dir, ADMIN_TOKEN: 'stop-test-token-0123456789' });
    try {
      const { connect } = await import('node:net');
      const socket = connect(s.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let response = '';
      socket.on('data', (d) => { response += d; });
      const body = JSON.stringify({ type: 'lesson', title: 'In flight', body: [] });
      // Headers and half the body now (keep-alive), the rest after SIGTERM.
      socket.write(`POST /api/v2/pages/ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAuthorization: Bearer stop-test-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const exited = s.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      socket.write(body.slice(10));
      expect(await exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(response).toMatch(/^HTTP\/1\.1 201/);
      socket.destroy();
    } finally {
      await s.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
