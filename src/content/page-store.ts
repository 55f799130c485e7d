import { and, eq, like, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { blockChanges, pages, revisions } from '../db/schema.js';
import type { BlockTouch } from '../history/block-history.js';
import { Errors } from '../errors.js';
import type { PageDoc } from './page-document.js';

export type PageRow = typeof pages.$inferSelect;
export type RevisionRow = typeof revisions.$inferSelect;

import { PATH_SEGMENT_LENGTH } from '../db/tree-path.js';

/** One fixed-width base-36 segment per tree level: lexical order of paths is tree order. */
export { PATH_SEGMENT_LENGTH, pathSegment } from '../db/tree-path.js';

export const draftOf = (row: PageRow) => row.draft as PageDoc;
export const liveOf = (row: PageRow) => row.liveContent as PageDoc | null;

export async function getPageRow(db: Db, id: number): Promise<PageRow | undefined> {
  const [row] = await db.select().from(pages).where(eq(pages.id, id)).limit(1);
  return row;
}

export async function requirePageRow(db: Db, id: number): Promise<PageRow> {
  const row = await getPageRow(db, id);
  if (!row) throw Errors.pageNotFound();
  return row;
}

/**
 * Slugs under `parentId` that `slug` (or its `-N` variants) would collide with: each
 * sibling's URL slug and its draft slug, so a draft cannot claim a slug that another
 * page will take when published.
 */
export async function takenSlugs(db: Db, parentId: number | null, slug: string, exceptId?: number): Promise<Set<string>> {
  const variants = `${slug.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`;
  const rows = await db.select({ slug: pages.slug, draftSlug: pages.draftSlug }).from(pages)
    .where(and(
      parentId === null ? sql`${pages.parentId} is null` : eq(pages.parentId, parentId),
      exceptId === undefined ? undefined : ne(pages.id, exceptId),
      sql`(${pages.slug} = ${slug} or ${pages.slug} like ${variants} or ${pages.draftSlug} = ${slug} or ${pages.draftSlug} like ${variants})`,
    ));
  const taken = new Set<string>();
  for (const r of rows) { taken.add(r.slug); taken.add(r.draftSlug); }
  return taken;
}

export async function nextPageId(db: Db): Promise<number> {
  const res = await db.execute<{ id: number }>(sql`select nextval(pg_get_serial_sequence('pages', 'id'))::int as id`);
  return Number((res as unknown as { rows: { id: number }[] }).rows[0]!.id);
}

export async function nextRevisionId(db: Db): Promise<number> {
  const res = await db.execute<{ id: number }>(sql`select nextval(pg_get_serial_sequence('revisions', 'id'))::int as id`);
  return Number((res as unknown as { rows: { id: number }[] }).rows[0]!.id);
}

/** The page and all pages below it, in tree order. */
export async function subtreeRows(db: Db, root: PageRow): Promise<PageRow[]> {
  return db.select().from(pages).where(like(pages.path, `${root.path}%`)).orderBy(pages.path);
}

/**
 * Rewrites the url_path of a page and everything below it after its slug or parent
 * changed: the old prefix is replaced in one statement.
 */
export async function rewriteUrlPaths(db: Db, root: PageRow, newUrlPath: string): Promise<void> {
  if (root.urlPath === newUrlPath) return;
  await db.update(pages)
    .set({ urlPath: sql`${newUrlPath} || substr(${pages.urlPath}, ${root.urlPath.length + 1})` })
    .where(like(pages.path, `${root.path}%`));
}

/** Rewrites tree paths and depths below a moved page. */
export async function rewriteTreePaths(db: Db, root: PageRow, newPath: string): Promise<void> {
  const depthDelta = (newPath.length - root.path.length) / PATH_SEGMENT_LENGTH;
  await db.update(pages)
    .set({
      path: sql`${newPath} || substr(${pages.path}, ${root.path.length + 1})`,
      depth: sql`${pages.depth} + ${depthDelta}`,
    })
    .where(like(pages.path, `${root.path}%`));
}

export async function getRevisionRow(db: Db, pageId: number, revisionId: number): Promise<RevisionRow | undefined> {
  const [row] = await db.select().from(revisions)
    .where(and(eq(revisions.id, revisionId), eq(revisions.pageId, pageId))).limit(1);
  return row;
}

/** Indexes what a revision did to each block (the block history). */
export async function recordBlockTouches(db: Db, touches: BlockTouch[], rev: { pageId: number; revisionId: number; authorName: string; createdAt: Date }): Promise<void> {
  if (!touches.length) return;
  await db.insert(blockChanges).values(touches.map((t) => ({ ...t, ...rev })));
}

/** Maps a violation of the sibling-slug constraint to the error clients understand. */
export function isSlugConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; cause?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.cause?.code;
  const constraint = e?.constraint ?? e?.cause?.constraint;
  return code === '23505' && (constraint === undefined || constraint === 'pages_parent_slug_key');
}

