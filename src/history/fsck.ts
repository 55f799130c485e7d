import * as fs from 'node:fs';
import { join } from 'node:path';
import { asc, gt, sql } from 'drizzle-orm';
import { LOCKS, type Database, type Db } from '../db/client.js';
import { liveCommits, pages, revisions } from '../db/schema.js';
import { parseCommitTrailers } from './commit-message.js';
import { pageFile, PAGES_DIR } from './git-repo.js';
import { GitNotInstalledError, runGit } from './git-cli.js';
import { ObjectReader, type Walk } from './object-reader.js';
import { BRANCHES, readHeads, type Branch, type Heads } from './revision-store.js';

/**
 * `lectern fsck`: does the repository hold what the database says it does? Every
 * revision and live commit row against its commit, the refs against `git_refs`, every
 * page row against the files on `main` and `live`, then `git fsck --strict`.
 *
 * The database is read in one repeatable-read transaction (a consistent picture even
 * while a server writes); git objects are never rewritten, so the commits that picture
 * names can be read afterwards. Only the ref check takes the writer lock, briefly.
 */

export type FsckCheck =
  | 'repository-missing'
  | 'ref-missing' | 'ref-lags' | 'ref-ahead' | 'ref-differs' | 'ref-unrecorded'
  | 'history-broken' | 'commit-unindexed'
  | 'revision-commit-missing' | 'revision-not-a-commit' | 'revision-unreachable' | 'revision-trailers' | 'revision-file'
  | 'live-commit-missing' | 'live-commit-not-a-commit' | 'live-commit-unreachable' | 'live-commit-file'
  | 'page-latest-revision' | 'page-draft-file' | 'page-draft-content' | 'page-live-file' | 'page-live-content' | 'page-not-live'
  | 'stray-file'
  | 'git-missing' | 'git-fsck';

export interface FsckProblem {
  /** Which check failed: stable, for scripts and tests. */
  check: FsckCheck;
  /** What is wrong, naming the revision, page, commit and what differs. */
  message: string;
}

/** Checks the database against the repository at `gitdir`. An empty list means all is well. */
export async function fsck(database: Database, gitdir: string): Promise<FsckProblem[]> {
  if (!fs.existsSync(join(gitdir, 'HEAD'))) {
    return [{ check: 'repository-missing', message: `${gitdir} is not a git repository` }];
  }
  const problems: FsckProblem[] = [];
  const report = (check: FsckCheck, message: string) => { problems.push({ check, message }); };
  const objects = new ObjectReader(gitdir);

  await checkRefs(database, objects, report);
  // Read-only and repeatable read: one consistent picture of every table involved.
  await database.db.transaction(async (tx) => {
    const db = tx as unknown as Db;
    const heads = await readHeads(db);
    const history = { main: await objects.walk(heads.main), live: await objects.walk(heads.live) };
    for (const branch of BRANCHES) {
      const broken = history[branch].brokenAt;
      if (broken) report('history-broken', `${branch} (${short(heads[branch])}): the history stops at ${broken.oid}, which is ${broken.why}; commits below it are not checked`);
    }
    const revisionIndex = await checkRevisions(db, objects, history.main, report);
    await checkLiveCommits(db, objects, history.live, report);
    await checkPages(db, objects, heads, revisionIndex, report);
  }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  await checkGitFsck(gitdir, report);
  return problems;
}

/** How much fsck looked at: for the summary line of a clean run. */
export async function fsckCounts(db: Db): Promise<{ pages: number; revisions: number; liveCommits: number; heads: Heads }> {
  const count = async (table: typeof pages | typeof revisions | typeof liveCommits) =>
    (await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(table))[0]?.n ?? 0;
  return { pages: await count(pages), revisions: await count(revisions), liveCommits: await count(liveCommits), heads: await readHeads(db) };
}

type Report = (check: FsckCheck, message: string) => void;

const short = (oid: string | null | undefined) => (oid ? oid.slice(0, 12) : '(none)');

/** The refs against git_refs, under the writer lock so that no save moves either meanwhile. */
async function checkRefs(database: Database, objects: ObjectReader, report: Report): Promise<void> {
  const found = await database.exclusive(LOCKS.writer, async (db) => {
    const heads = await readHeads(db);
    const refs: Heads = { main: null, live: null };
    for (const b of BRANCHES) refs[b] = await objects.resolveRef(b);
    return { heads, refs };
  });
  for (const branch of BRANCHES) {
    const want = found.heads[branch];
    const have = found.refs[branch];
    if (want === have) continue;
    if (want === null) {
      report('ref-unrecorded', `ref ${branch} is at ${have}, but git_refs has no row for ${branch}: the database does not know this history`);
    } else if (typeof await objects.readCommit(want) === 'string') {
      report('ref-differs', `ref ${branch} is at ${have ?? '(none)'}, git_refs says ${want}, which is not a commit in the repository: the server refuses to start until this is fixed`);
    } else if (have === null) {
      report('ref-missing', `ref ${branch} does not exist, but git_refs says ${want}; the server repairs it at start`);
    } else if (await objects.isAncestor(have, want)) {
      report('ref-lags', `ref ${branch} is at ${have}, behind ${want} where git_refs says it should be (a save was interrupted before the ref moved); the server repairs it at start`);
    } else if (await objects.isAncestor(want, have)) {
      report('ref-ahead', `ref ${branch} is at ${have}, ahead of ${want} where git_refs says it should be: commits were added outside Lectern, and the server moves the ref back to ${short(want)} at start`);
    } else {
      report('ref-differs', `ref ${branch} is at ${have}, git_refs says ${want}, and neither contains the other; the server moves the ref to ${short(want)} at start`);
    }
  }
}

/** What page rows need to know of their revisions. */
type RevisionIndex = Map<number, { pageId: number; blob: string | null }>;

async function checkRevisions(db: Db, objects: ObjectReader, main: Walk, report: Report): Promise<RevisionIndex> {
  const indexed = new Set<string>();
  const index: RevisionIndex = new Map();
  for await (const r of batches(db, revisions, revisions.id)) {
    indexed.add(r.commit);
    index.set(r.id, { pageId: r.pageId, blob: r.blob });
    const what = `revision ${r.id} (page ${r.pageId}, ${r.action})`;
    const commit = main.commits.get(r.commit) ?? await objects.readCommit(r.commit);
    if (commit === 'missing') { report('revision-commit-missing', `${what}: commit ${r.commit} is missing from the repository`); continue; }
    if (typeof commit === 'string') { report('revision-not-a-commit', `${what}: ${r.commit} is a ${commit}, not a commit`); continue; }
    if (!main.commits.has(r.commit) && !main.brokenAt) report('revision-unreachable', `${what}: commit ${r.commit} is not reachable from main`);

    const t = parseCommitTrailers(commit.message);
    const differs: string[] = [];
    if (t.pageId !== r.pageId) differs.push(`Page-Id ${t.pageId ?? '(none)'}, the row says ${r.pageId}`);
    if (t.revisionId !== r.id) differs.push(`Revision-Id ${t.revisionId ?? '(none)'}, the row says ${r.id}`);
    if (t.action !== r.action) differs.push(`Action ${t.action ?? '(none)'}, the row says ${r.action}`);
    if (differs.length) report('revision-trailers', `${what}: commit ${r.commit} has ${differs.join('; ')}`);

    const blob = await objects.fileAt(commit.tree, r.pageId);
    const expected = r.action === 'delete' ? null : r.blob;
    if (blob !== expected) report('revision-file', `${what}: ${pageFile(r.pageId)} in commit ${r.commit} is ${describeBlob(blob)}, the row says ${describeBlob(expected)}`);
  }
  for (const [oid, c] of main.commits) {
    if (indexed.has(oid)) continue;
    const t = parseCommitTrailers(c.message);
    report('commit-unindexed', `commit ${oid} on main (Page-Id ${t.pageId ?? '?'}, Revision-Id ${t.revisionId ?? '?'}, Action ${t.action ?? '?'}) has no revisions row`);
  }
  return index;
}

async function checkLiveCommits(db: Db, objects: ObjectReader, live: Walk, report: Report): Promise<void> {
  const indexed = new Set<string>();
  for await (const r of batches(db, liveCommits, liveCommits.id)) {
    indexed.add(r.commit);
    const what = `live commit row ${r.id} (page ${r.pageId}, ${r.action})`;
    const commit = live.commits.get(r.commit) ?? await objects.readCommit(r.commit);
    if (commit === 'missing') { report('live-commit-missing', `${what}: commit ${r.commit} is missing from the repository`); continue; }
    if (typeof commit === 'string') { report('live-commit-not-a-commit', `${what}: ${r.commit} is a ${commit}, not a commit`); continue; }
    if (!live.commits.has(r.commit) && !live.brokenAt) report('live-commit-unreachable', `${what}: commit ${r.commit} is not reachable from live`);
    const blob = await objects.fileAt(commit.tree, r.pageId);
    if (blob !== r.blob) report('live-commit-file', `${what}: ${pageFile(r.pageId)} in commit ${r.commit} is ${describeBlob(blob)}, the row says ${describeBlob(r.blob)}`);
  }
  for (const [oid, c] of live.commits) {
    if (indexed.has(oid)) continue;
    const t = parseCommitTrailers(c.message);
    report('commit-unindexed', `commit ${oid} on live (Page-Id ${t.pageId ?? '?'}, Action ${t.action ?? '?'}) has no live_commits row`);
  }
}

/** Every page row against `main` and `live` as git_refs records them, then the files no page claims. */
async function checkPages(db: Db, objects: ObjectReader, heads: Heads, revisionIndex: RevisionIndex, report: Report): Promise<void> {
  const stray = (branch: Branch) => (path: string) => report('stray-file', `${branch}:${path} is not a page file (pages are ${PAGES_DIR}/<NN>/<id>.json)`);
  const files = { main: await objects.pageFiles(heads.main, stray('main')), live: await objects.pageFiles(heads.live, stray('live')) };
  for await (const row of batches(db, pages, pages.id)) {
    const path = pageFile(row.id);
    const page = `page ${row.id}`;
    const latest = revisionIndex.get(row.latestRevisionId);
    if (!latest || latest.pageId !== row.id || !latest.blob) {
      report('page-latest-revision', `${page}: its latest revision ${row.latestRevisionId} ${!latest ? 'has no revisions row' : latest.pageId !== row.id ? `belongs to page ${latest.pageId}` : 'has no blob'}`);
    }
    const onMain = files.main.get(path);
    files.main.delete(path);
    if (onMain === undefined) {
      report('page-draft-file', `${page}: ${path} is absent from main (${short(heads.main)})`);
    } else {
      if (latest?.blob && onMain !== latest.blob) report('page-draft-file', `${page}: main:${path} is blob ${onMain}, its latest revision ${row.latestRevisionId} has blob ${latest.blob}`);
      await compareContent(objects, onMain, row.draft, `${page}: main:${path}`, 'draft', 'page-draft-content', report);
    }

    const onLive = files.live.get(path);
    files.live.delete(path);
    if (!row.live) {
      if (onLive !== undefined) report('page-not-live', `${page} is not live, but live:${path} exists (blob ${onLive})`);
      continue;
    }
    if (onLive === undefined) {
      report('page-live-file', `${page} is live, but ${path} is absent from live (${short(heads.live)})`);
      continue;
    }
    if (onLive !== row.liveBlob) report('page-live-file', `${page}: live:${path} is blob ${onLive}, the row's live_blob is ${row.liveBlob ?? '(none)'}`);
    await compareContent(objects, onLive, row.liveContent, `${page}: live:${path}`, 'live_content', 'page-live-content', report);
  }
  for (const branch of BRANCHES) {
    for (const [path, blob] of files[branch]) {
      const id = /^(\d+)\.json$/.exec(path.split('/').pop() ?? '')?.[1];
      report('stray-file', `${branch}:${path} (blob ${blob}) belongs to no page${id ? ` (there is no page row ${id})` : ''}`);
    }
  }
}

async function compareContent(objects: ObjectReader, blob: string, column: unknown, where: string, name: string, check: FsckCheck, report: Report) {
  let doc: unknown;
  try {
    doc = JSON.parse(await objects.readBlob(blob));
  } catch (err) {
    report(check, `${where} cannot be read as JSON: ${(err as Error).message}`);
    return;
  }
  const diff = firstDifference(doc, column);
  if (diff) report(check, `${where} differs from the row's ${name} at ${diff.path || '/'}: git has ${diff.git}, the database has ${diff.db}`);
}

/** The first place two JSON values differ, as a JSON pointer and both sides abridged. */
export function firstDifference(a: unknown, b: unknown, path = ''): { path: string; git: string; db: string } | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: `${path}/${i}`, git: abridge(a[i]), db: abridge(b[i]) };
      const d = firstDifference(a[i], b[i], `${path}/${i}`);
      if (d) return d;
    }
    return null;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const at = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!(k in a) || !(k in b)) return { path: at, git: abridge(a[k]), db: abridge(b[k]) };
      const d = firstDifference(a[k], b[k], at);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : { path, git: abridge(a), db: abridge(b) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function abridge(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const describeBlob = (blob: string | null) => (blob === null ? 'absent' : `blob ${blob}`);

async function checkGitFsck(gitdir: string, report: Report): Promise<void> {
  let out;
  try {
    // Dangling objects are normal here: a save that failed after writing its objects leaves some.
    out = await runGit(gitdir, ['fsck', '--strict', '--no-dangling', '--no-progress']);
  } catch (err) {
    if (err instanceof GitNotInstalledError) {
      report('git-missing', 'git is not installed: cannot run git fsck');
      return;
    }
    throw err;
  }
  if (out.code === 0) return;
  const lines: string[] = [];
  for (const raw of `${out.stdout}\n${out.stderr}`.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (!line) continue;
    // "broken link from commit X" is continued by "to commit Y" on the next line.
    if (line.startsWith('to ') && lines.at(-1)?.startsWith('broken link from')) lines[lines.length - 1] += ` ${line}`;
    else lines.push(line);
  }
  if (!lines.length) lines.push(`exited with code ${out.code}`);
  for (const line of lines) report('git-fsck', `git fsck --strict: ${line}`);
}

/** Rows of a table in id order, a few hundred at a time (page rows carry whole documents). */
async function* batches<T extends typeof pages | typeof revisions | typeof liveCommits>(db: Db, table: T, id: T['id'], size = 500): AsyncGenerator<T['$inferSelect']> {
  let after = 0;
  for (;;) {
    const rows = await db.select().from(table as typeof pages).where(gt(id, after)).orderBy(asc(id)).limit(size) as T['$inferSelect'][];
    for (const r of rows) yield r;
    if (rows.length < size) return;
    after = rows[rows.length - 1]!.id;
  }
}
