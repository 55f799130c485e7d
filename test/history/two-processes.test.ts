import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL } from '../helpers/env.js';
import { api, startServer, type ServerProcess } from '../helpers/server-process.js';
import { ADMIN_TOKEN, createTestDatabase, type TestDatabase } from '../helpers/test-app.js';

/** Two server processes sharing one Postgres database and one git repository. */
describe.skipIf(!POSTGRES_URL)('two server processes on one database and repository (postgres)', () => {
  let db: TestDatabase;
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(dir, 'content.git'), ...args], { encoding: 'utf8' }).trim();

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await db.database.close();
    dir = mkdtempSync(join(tmpdir(), 'lectern-2p-'));
    const env = { DATABASE_URL: db.url!, DATA_DIR: dir, ADMIN_TOKEN, CONTENT_POLL_MS: '200' };
    a = await startServer(env);
    b = await startServer(env);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const save = (s: ServerProcess, id: number, intro: string) =>
    api(s.url, `/api/v2/pages/${id}/`, { method: 'PATCH', token: ADMIN_TOKEN, body: { intro } });

  it('loses no save when both write at once', async () => {
    const page = (await api(a.url, '/api/v2/pages/', { method: 'POST', token: ADMIN_TOKEN, body: { type: 'lesson', title: 'Shared', body: [] } })).json();
    const others = await Promise.all([1, 2, 3].map((i) =>
      api(b.url, '/api/v2/pages/', { method: 'POST', token: ADMIN_TOKEN, body: { type: 'lesson', title: `Other ${i}`, body: [] } }).then((r) => r.json())));
    const before = Number(git('rev-list', '--count', 'main'));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => {
      const target = i < 25 ? page.id : others[i % 3].id;
      return save(i % 2 ? a : b, target, `edit ${i}`);
    }));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(Number(git('rev-list', '--count', 'main')) - before).toBe(50);
    const revisions = (await api(a.url, `/api/v2/pages/${page.id}/revisions/?limit=0`, { token: ADMIN_TOKEN })).json();
    expect(revisions.meta.total_count).toBe(26);
    const shas = new Set<string>();
    for (const p of [page, ...others]) {
      const items = (await api(b.url, `/api/v2/pages/${p.id}/revisions/?limit=20`, { token: ADMIN_TOKEN })).json().items as { commit: string }[];
      for (const r of items) shas.add(r.commit);
    }
    const reachable = new Set(git('rev-list', 'main').split('\n'));
    for (const sha of shas) expect(reachable.has(sha)).toBe(true);
    expect(() => git('fsck', '--strict')).not.toThrow();
  });

  it('shows a publish made in one process to readers of the other within a second', async () => {
    const page = (await api(a.url, '/api/v2/pages/', { method: 'POST', token: ADMIN_TOKEN, body: { type: 'lesson', title: 'Cached lesson', intro: 'old', body: [], publish: true } })).json();
    const url = `/api/v2/pages/?type=lesson&slug=${page.meta.slug}&fields=intro`;
    // Warm B's read cache with the old content.
    expect((await api(b.url, url)).json().items[0].intro).toBe('old');
    expect((await api(b.url, url)).json().items[0].intro).toBe('old');

    const published = await api(a.url, `/api/v2/pages/${page.id}/`, { method: 'PATCH', token: ADMIN_TOKEN, body: { intro: 'new', publish: true } });
    expect(published.status).toBe(200);
    const start = Date.now();
    let seen = '';
    while (Date.now() - start < 1000) {
      seen = (await api(b.url, url)).json().items[0].intro;
      if (seen === 'new') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toBe('new');
    expect(Date.now() - start).toBeLessThan(1000);
  });
});
