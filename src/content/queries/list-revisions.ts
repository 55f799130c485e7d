import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { revisions } from '../../db/schema.js';
import type { GitRepo } from '../../history/git-repo.js';
import type { PageDoc } from '../page-document.js';
import type { RevisionRow } from '../page-store.js';

/** A page's revisions, newest first, from the database index (git is not walked). */
export async function listRevisions(db: Db, pageId: number, limit: number, offset: number): Promise<{ total: number; rows: RevisionRow[] }> {
  const rows = await db.select({ r: revisions, total: sql<number>`count(*) over ()`.mapWith(Number) })
    .from(revisions).where(eq(revisions.pageId, pageId)).orderBy(desc(revisions.id)).limit(limit).offset(offset);
  let total = rows[0]?.total;
  if (total === undefined) {
    const [c] = await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(revisions).where(eq(revisions.pageId, pageId));
    total = c?.n ?? 0;
  }
  return { total, rows: rows.map((x) => x.r) };
}

/** One revision of a page and the page as it was then (one blob read by id). */
export async function getRevision(db: Db, repo: GitRepo, pageId: number, revisionId: number): Promise<{ row: RevisionRow; doc: PageDoc | null } | undefined> {
  const [row] = await db.select().from(revisions).where(and(eq(revisions.pageId, pageId), eq(revisions.id, revisionId))).limit(1);
  if (!row) return undefined;
  return { row, doc: row.blob ? (JSON.parse(await repo.readBlob(row.blob)) as PageDoc) : null };
}
