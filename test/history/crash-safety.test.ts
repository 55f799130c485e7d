import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pageFile } from '../../src/history/git-repo.js';
import { DRIVERS } from '../helpers/env.js';
import { api, startServer, type ServerProcess } from '../helpers/server-process.js';
import { ADMIN_TOKEN, createTestDatabase, type TestDatabase } from '../helpers/test-app.js';

/**
 * A server killed with SIGKILL in the middle of a stream of saves: every save that was
 * acknowledged with a 2xx is in the database and in git after a restart, the repository
 * is consistent, and saving works again.
 */
describe.each(DRIVERS)('crash safety (%s)', (driver) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => { for (const fn of cleanup.reverse()) await fn(); });

  it('keeps every acknowledged save through a SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-crash-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let db: TestDatabase | null = null;
    const env: Record<string, string> = { DATA_DIR: dir, ADMIN_TOKEN };
    if (driver === 'postgres') {
      db = await createTestDatabase('postgres');
      await db.database.close();
      env.DATABASE_URL = db.url!;
      cleanup.push(() => db!.drop());
    }
    let server: ServerProcess = await startServer(env);
    cleanup.push(() => server.stop('SIGKILL').then(() => {}));
    const created = await api(server.url, '/api/v2/pages/', { method: 'POST', token: ADMIN_TOKEN, body: { type: 'lesson', title: 'Crash', body: [] } });
    const id = created.json().id as number;

    const acked: { revision: number; intro: string }[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const intro = `writer ${w} save ${n}`;
        try {
          const res = await api(server.url, `/api/v2/pages/${id}/`, { method: 'PATCH', token: ADMIN_TOKEN, body: { intro } });
          if (res.status === 200) acked.push({ revision: res.json().meta.revision, intro });
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await new Promise((r) => setTimeout(r, 1500));
    server.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await server.stop('SIGKILL');
    expect(acked.length).toBeGreaterThan(10);

    server = await startServer(env);
    const git = (...args: string[]) => execFileSync('git', ['--git-dir', join(dir, 'content.git'), ...args], { encoding: 'utf8' }).trim();
    const history = new Map<number, string>();
    for (let offset = 0; ; offset += 20) {
      const page = (await api(server.url, `/api/v2/pages/${id}/revisions/?limit=20&offset=${offset}`, { token: ADMIN_TOKEN })).json();
      for (const r of page.items as { id: number; commit: string }[]) history.set(r.id, r.commit);
      if (page.items.length < 20) break;
    }
    const onMain = new Set(git('rev-list', 'main').split('\n'));
    for (const { revision, intro } of acked) {
      const commit = history.get(revision);
      expect(commit, `acknowledged revision ${revision} is in the database`).toBeDefined();
      expect(onMain.has(commit!), `revision ${revision} is on main`).toBe(true);
      expect(JSON.parse(git('show', `${commit}:${pageFile(id)}`)).intro).toBe(intro);
    }
    // The database and the branch agree on the latest draft, and git is sound.
    const draft = (await api(server.url, `/api/v2/pages/${id}/?version=draft`, { token: ADMIN_TOKEN })).json();
    expect(JSON.parse(git('show', `main:${pageFile(id)}`)).intro).toBe(draft.intro);
    expect(git('rev-parse', 'main')).toBe(history.get(draft.meta.revision));
    expect(() => git('fsck', '--strict')).not.toThrow();
    // `lectern fsck` finds the database and the repository in agreement (the embedded
    // database is one process's: the server stops for it).
    await server.stop();
    const fsck = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'fsck'], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
    expect(fsck.stdout).toMatch(/^ok: /);
    expect(fsck.status).toBe(0);
    // And saving works again.
    server = await startServer(env);
    expect((await api(server.url, `/api/v2/pages/${id}/`, { method: 'PATCH', token: ADMIN_TOKEN, body: { intro: 'after restart' } })).status).toBe(200);
  });
});
