import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.js';
import { openDatabase } from '../../src/db/client.js';
import { pageFile } from '../../src/history/git-repo.js';
import { repack } from '../../src/history/repack.js';
import { DRIVERS } from '../helpers/env.js';
import { englishLesson, koreanLesson } from '../helpers/fixtures.js';
import { api, startServer, type ServerProcess } from '../helpers/server-process.js';
import { ADMIN_TOKEN, createTestDatabase, type TestDatabase } from '../helpers/test-app.js';

/** git as a user runs it, minus anything the machine's configuration or a terminal could add. */
const gitEnv = (() => {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  delete env.GIT_ASKPASS;
  delete env.SSH_ASKPASS;
  delete env.GIT_DIR;
  return env;
})();

function git(args: string[], cwd?: string) {
  const res = spawnSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', timeout: 60_000 });
  return { status: res.status, stdout: res.stdout.trim(), stderr: res.stderr };
}

function gitOk(args: string[], cwd?: string): string {
  const res = git(args, cwd);
  if (res.status !== 0) throw new Error(`git ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

/** A GET with the path sent exactly as written: fetch would resolve `..` before sending. */
function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(DRIVERS)('cloning the content repository with real git over HTTP (%s)', (driver) => {
  let dir: string;
  let clones: string;
  let db: TestDatabase | null = null;
  let server: ServerProcess;
  let tokens: { editor: string; reviewer: string };
  const pageIds: number[] = [];
  const repoGit = (...args: string[]) => gitOk(['--git-dir', join(dir, 'content.git'), ...args]);
  const cloneUrl = (token: string) => `http://x:${token}@127.0.0.1:${server.port}/content.git`;
  const basic = (token: string) => ({ authorization: `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}` });
  let cloneCount = 0;
  const clone = (token: string) => {
    const target = join(clones, `c${++cloneCount}`);
    return { target, ...git(['clone', '--quiet', cloneUrl(token), target]) };
  };

  /** Every revision of every page as the API lists them, newest first. */
  async function revisionsByPage(): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const id of pageIds) {
      const res = await api(server.url, `/api/v2/pages/${id}/revisions/?limit=20`, { token: ADMIN_TOKEN });
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body.meta.total_count).toBeLessThanOrEqual(20);
      out.set(id, (body.items as { commit: string }[]).map((r) => r.commit));
    }
    return out;
  }

  /** The clone holds the whole history: every revision commit, each page's file history, both branches. */
  async function expectCompleteClone(target: string) {
    const revisions = await revisionsByPage();
    const total = [...revisions.values()].reduce((n, r) => n + r.length, 0);
    expect(Number(gitOk(['rev-list', '--count', 'origin/main'], target))).toBe(total);
    for (const [id, commits] of revisions) {
      const log = gitOk(['log', '--follow', '--format=%H', 'origin/main', '--', pageFile(id)], target).split('\n');
      expect(log).toEqual(commits);
    }
    expect(gitOk(['rev-parse', 'origin/main'], target)).toBe(repoGit('rev-parse', 'main'));
    expect(gitOk(['rev-parse', 'origin/live'], target)).toBe(repoGit('rev-parse', 'live'));
    expect(gitOk(['rev-parse', '--abbrev-ref', 'HEAD'], target)).toBe('main');
    expect(git(['fsck', '--strict'], target).status).toBe(0);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lectern-http-'));
    clones = mkdtempSync(join(tmpdir(), 'lectern-clones-'));
    const env: Record<string, string> = { DATA_DIR: dir, ADMIN_TOKEN, SCHEDULER_INTERVAL_MS: '0' };
    // Tokens first: with PGlite the server will hold the database directory.
    let database;
    if (driver === 'postgres') {
      db = await createTestDatabase('postgres');
      database = db.database;
      env.DATABASE_URL = db.url!;
    } else {
      database = await openDatabase({ url: null, pgliteDir: join(dir, 'db') });
    }
    await database.migrate();
    tokens = {
      editor: (await createToken(database.db, { name: 'Eddie Editor', role: 'editor', email: 'eddie@example.com' })).token,
      reviewer: (await createToken(database.db, { name: 'Rita Reviewer', role: 'reviewer' })).token,
    };
    await database.close();
    server = await startServer(env);

    const call = async (method: string, path: string, body?: unknown, token = tokens.editor) => {
      const res = await api(server.url, path, { method, token, body });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      return res.json();
    };
    const ko = await call('POST', '/api/v2/pages/', { ...koreanLesson(), message: '첫 초안' });
    const en = await call('POST', '/api/v2/pages/', { ...englishLesson(), publish: true }, ADMIN_TOKEN);
    const course = await call('POST', '/api/v2/pages/', { type: 'lesson_index', title: 'Deep learning course' });
    pageIds.push(ko.id, en.id, course.id);
    await call('PATCH', `/api/v2/pages/${ko.id}/`, { intro: '수정된 소개' });
    await call('POST', `/api/v2/pages/${ko.id}/publish/`);
    await call('POST', `/api/v2/pages/${ko.id}/move/`, { parent: course.id });
    await call('PATCH', `/api/v2/pages/${ko.id}/`, { intro: '초안만 바뀜', message: 'Draft tweak' });
    await call('POST', `/api/v2/pages/${en.id}/unpublish/`);
    await call('PATCH', `/api/v2/pages/${en.id}/`, { intro: 'A gentler introduction.' });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    for (const d of [dir, clones]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('lets an editor clone every revision of every page, with main and live', async () => {
    const { target, status, stderr } = clone(tokens.editor);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    await expectCompleteClone(target);
    expect(gitOk(['ls-files'], target).split('\n').sort()).toEqual(pageIds.map(pageFile).sort());
  });

  it('lets a reviewer clone', async () => {
    const { target, status } = clone(tokens.reviewer);
    expect(status).toBe(0);
    await expectCompleteClone(target);
  });

  it('asks for credentials with a Basic challenge, and refuses a clone without a token', async () => {
    const res = await api(server.url, '/content.git/info/refs');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="lectern"');
    expect(res.json()).toMatchObject({ statusCode: 401, code: 'CMS_ERR_AUTH_REQUIRED' });

    const target = join(clones, 'anonymous');
    const result = git(['clone', '--quiet', `http://127.0.0.1:${server.port}/content.git`, target]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/could not read Username|Authentication failed/);
  });

  it('refuses a bad token with 401, over Basic, Bearer and in a clone', async () => {
    const basicRes = await api(server.url, '/content.git/info/refs', { headers: basic('lct_not-a-token') });
    expect(basicRes.status).toBe(401);
    expect(basicRes.headers.get('www-authenticate')).toBe('Basic realm="lectern"');
    expect(basicRes.json().code).toBe('CMS_ERR_AUTH_BAD_TOKEN');
    expect((await api(server.url, '/content.git/info/refs', { token: 'lct_not-a-token' })).status).toBe(401);
    expect((await api(server.url, '/content.git/info/refs', { headers: { authorization: 'Basic bm9jb2xvbg==' } })).status).toBe(401);

    const result = clone('lct_not-a-token');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Authentication failed/);
  });

  it('generates info/refs and HEAD, never cached, and serves loose objects as octet streams', async () => {
    const refs = await api(server.url, '/content.git/info/refs', { headers: basic(tokens.reviewer) });
    expect(refs.status).toBe(200);
    expect(refs.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(refs.headers.get('cache-control')).toBe('no-cache');
    expect(refs.text).toBe(`${repoGit('rev-parse', 'live')}\trefs/heads/live\n${repoGit('rev-parse', 'main')}\trefs/heads/main\n`);
    // A bearer token works as well as Basic.
    expect((await api(server.url, '/content.git/info/refs', { token: tokens.editor })).text).toBe(refs.text);

    const head = await api(server.url, '/content.git/HEAD', { headers: basic(tokens.reviewer) });
    expect(head.text).toBe('ref: refs/heads/main\n');
    expect(head.headers.get('cache-control')).toBe('no-cache');

    const commit = repoGit('rev-parse', 'main');
    const obj = await api(server.url, `/content.git/objects/${commit.slice(0, 2)}/${commit.slice(2)}`, { headers: basic(tokens.reviewer) });
    expect(obj.status).toBe(200);
    expect(obj.headers.get('content-type')).toBe('application/octet-stream');
    const res = await fetch(`${server.url}/content.git/objects/${commit.slice(0, 2)}/${commit.slice(2)}`, { method: 'HEAD', headers: basic(tokens.reviewer) });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);

    const absent = await api(server.url, `/content.git/objects/00/${'0'.repeat(38)}`, { headers: basic(tokens.reviewer) });
    expect(absent.status).toBe(404);
    expect(absent.json().code).toBe('CMS_ERR_GIT_NOT_FOUND');
  });

  it('answers 404 for every other path, and no path leaves the repository', async () => {
    const auth = basic(tokens.editor);
    for (const path of [
      '/content.git/../../etc/passwd',
      '/content.git/objects/../config',
      '/content.git/objects/%2e%2e/config',
      '/content.git/objects/..%2F..%2F/etc',
      '/content.git/objects/pack/..%2F..%2Fconfig',
      '/content.git/config',
      '/content.git/description',
      '/content.git/refs/heads/main',
      '/content.git/packed-refs',
      '/content.git/objects/info/alternates',
      '/content.git/objects/info/http-alternates',
      '/content.git/objects/AB/CDEF',
      '/content.git/objects/pack/pack-123.pack',
      '/content.git/',
    ]) {
      const res = await rawGet(server.port, path, auth);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toMatch(/root:|repositoryformatversion/);
    }
  });

  it('serves the packs after a repack, lists them in objects/info/packs, and still clones completely', async () => {
    const before = await api(server.url, '/content.git/objects/info/packs', { headers: basic(tokens.editor) });
    expect(before.text).toBe('\n');
    await repack(join(dir, 'content.git'));
    // A save after packing builds on a packed parent.
    const res = await api(server.url, `/api/v2/pages/${pageIds[0]}/`, { method: 'PATCH', token: tokens.editor, body: { intro: '압축 후 수정' } });
    expect(res.status).toBe(200);

    const packs = await api(server.url, '/content.git/objects/info/packs', { headers: basic(tokens.editor) });
    expect(packs.headers.get('cache-control')).toBe('no-cache');
    const names = packs.text.split('\n').filter(Boolean);
    expect(packs.text.endsWith('\n\n')).toBe(true);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^P pack-[0-9a-f]{40}\.pack$/);
    const pack = names[0]!.slice(2);
    for (const file of [pack, pack.replace(/\.pack$/, '.idx')]) {
      const got = await fetch(`${server.url}/content.git/objects/pack/${file}`, { headers: basic(tokens.editor) });
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(Number(got.headers.get('content-length'))).toBe((await got.arrayBuffer()).byteLength);
    }

    const { target, status, stderr } = clone(tokens.reviewer);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    await expectCompleteClone(target);
  });
});
