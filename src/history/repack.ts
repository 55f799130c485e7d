import { existsSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GitCommandError, runGit } from './git-cli.js';

/**
 * Packing the content repository. isomorphic-git writes every object loose and whole:
 * a lesson saved 200 times is 200 full copies of its file, each in its own file system
 * block. `git repack` stores them as deltas in one pack. The git binary does it; Lectern
 * reads packs through isomorphic-git like loose objects.
 */

export interface ObjectStats {
  looseObjects: number;
  packs: number;
  /** Disk usage of objects/ (allocated blocks, as `du` counts them). */
  diskBytes: number;
}

/** Counts loose objects and packs and what objects/ takes on disk. */
export async function objectStats(gitdir: string): Promise<ObjectStats> {
  const objects = join(gitdir, 'objects');
  const stats: ObjectStats = { looseObjects: 0, packs: 0, diskBytes: 0 };
  const walk = async (dir: string, depth: number) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed by git meanwhile
      throw err;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        await walk(path, depth + 1);
        continue;
      }
      let st;
      try {
        st = await lstat(path);
      } catch {
        continue;
      }
      stats.diskBytes += st.blocks * 512;
      if (depth === 1 && /^[0-9a-f]{38}$/.test(e.name) && /^[0-9a-f]{2}$/.test(dir.slice(-2))) stats.looseObjects++;
      if (depth === 1 && dir.endsWith('pack') && /^pack-[0-9a-f]{40}\.pack$/.test(e.name)) stats.packs++;
    }
  };
  await walk(objects, 0);
  return stats;
}

export interface RepackResult {
  before: ObjectStats;
  after: ObjectStats;
  ms: number;
}

/**
 * Packs every reachable object into one pack with deltas and removes the loose copies.
 * Safe while a server writes:
 * - objects a writer has written but not yet made reachable (the ref moves last) are
 *   loose and unreachable; repack leaves them alone and nothing here prunes loose
 *   objects (no `git gc`, no `git prune`, no `--prune=now`);
 * - `-A` rather than `-a`: an object only an old pack holds is loosened, not dropped;
 * - `-n`: no info/refs or objects/info/packs files are written, since the HTTP routes
 *   generate them from the repository as it is at each request.
 */
export async function repack(gitdir: string): Promise<RepackResult> {
  if (!existsSync(join(gitdir, 'HEAD'))) throw new GitCommandError(`${gitdir} is not a git repository`);
  const before = await objectStats(gitdir);
  const started = Date.now();
  for (const args of [['repack', '-A', '-d', '-n', '-q'], ['prune-packed', '-q']]) {
    const out = await runGit(gitdir, args);
    if (out.code !== 0) throw new GitCommandError(`git ${args.join(' ')} failed (exit ${out.code}): ${(out.stderr || out.stdout).trim()}`);
  }
  const ms = Date.now() - started;
  return { before, after: await objectStats(gitdir), ms };
}

/** "1.2 MB" */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The report the CLI prints. */
export function formatRepackResult(gitdir: string, r: RepackResult): string {
  const line = (s: ObjectStats) => `${s.looseObjects} loose objects, ${s.packs} ${s.packs === 1 ? 'pack' : 'packs'}, ${formatBytes(s.diskBytes)} on disk`;
  return [
    `Repacked ${gitdir} in ${(r.ms / 1000).toFixed(1)} s`,
    `  before: ${line(r.before)}`,
    `  after:  ${line(r.after)}`,
  ].join('\n');
}

/**
 * Repacks every `intervalMs` (not yet wired: it needs a setting in config.ts and a line
 * in app.ts). Rounds never overlap; a failure is logged and the next round tries again.
 * Returns a stop function that waits for a round in progress.
 */
export function scheduleRepack(gitdir: string, intervalMs: number, log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void }): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = repack(gitdir)
      .then((r) => log.info({ before: r.before, after: r.after, ms: r.ms }, 'git repository repacked'))
      .catch((err: unknown) => log.error({ err }, 'git repack failed'))
      .finally(() => { running = null; });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export { GitCommandError, GitNotInstalledError } from './git-cli.js';
