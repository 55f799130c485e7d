import { eq } from 'drizzle-orm';
import { liveCommits, pages, revisions } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import { cleanPageInput } from '../clean-page-input.js';
import type { Actor, ContentContext } from '../content-context.js';
import { canonicalPageDoc, type PageDoc } from '../page-document.js';
import { draftOf, isSlugConflict, requirePageRow, rewriteUrlPaths, takenSlugs, type PageRow } from '../page-store.js';
import { searchTextOf } from '../search-text.js';
import { saveRevision } from './save-revision.js';

export interface UpdateOptions {
  /** The revision the client last saw (If-Match); a different latest revision → 412. */
  expectedRevision?: number;
}

/** Saves a new draft revision from a partial payload (absent members keep their value). */
export async function updatePage(ctx: ContentContext, actor: Actor, id: number, input: unknown, opts: UpdateOptions = {}): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const db = session.db;
    const row = await requirePageRow(db, id);
    checkExpectedRevision(row, opts.expectedRevision);
    const current = draftOf(row);
    const cleaned = cleanPageInput(ctx.types, ctx.blocks, input, current);

    const slug = cleaned.doc.slug ?? current.slug;
    if (slug !== current.slug && slug !== row.slug && (await takenSlugs(db, row.parentId, slug, id)).has(slug)) {
      throw Errors.slugTaken([slug], { errors: [{ path: '/slug', message: `"${slug}" is already used by a sibling page` }] });
    }
    const doc = canonicalPageDoc(cleaned.type, { ...cleaned.doc, id, parent: row.parentId, slug } as PageDoc);
    const date = ctx.now();
    const saved = await saveRevision(session, {
      doc, actor, action: 'update', message: cleaned.message, defaultMessage: `Update ${doc.type} "${doc.title}"`, publish: cleaned.publish, date,
    });
    const published = saved.liveCommit !== null;
    // The URL follows the draft slug until the page is live; then it follows what is published.
    const urlSlug = published || !row.live ? slug : row.slug;

    return session.transaction(async (tx) => {
      await tx.insert(revisions).values({
        id: saved.revisionId, pageId: id, commit: saved.commit, blob: saved.blob, action: 'update',
        authorName: actor.name, tokenId: actor.tokenId, message: saved.message, createdAt: date,
      });
      if (published) {
        await tx.insert(liveCommits).values({
          pageId: id, revisionId: saved.revisionId, commit: saved.liveCommit!, blob: saved.blob, action: 'publish', authorName: actor.name, createdAt: date,
        });
      }
      if (urlSlug !== row.slug) {
        // Live pages below may be reached by a new URL now.
        await rewriteUrlPaths(tx, row, replaceLastSegment(row.urlPath, urlSlug));
        session.markPublicChange();
      }
      try {
        const [updated] = await tx.update(pages).set({
          slug: urlSlug,
          draftSlug: slug,
          latestRevisionId: saved.revisionId,
          draft: doc,
          hasUnpublishedChanges: !published,
          updatedAt: date,
          ...(published ? {
            live: true,
            liveRevisionId: saved.revisionId,
            liveContent: doc,
            liveBlob: saved.blob,
            searchText: searchTextOf(cleaned.type, doc),
            firstPublishedAt: row.firstPublishedAt ?? date,
            lastPublishedAt: date,
          } : {}),
        }).where(eq(pages.id, id)).returning();
        return updated!;
      } catch (err) {
        if (isSlugConflict(err)) throw Errors.slugTaken([urlSlug], { errors: [{ path: '/slug', message: `"${urlSlug}" is already used by a sibling page` }] });
        throw err;
      }
    });
  }, ctx.onLiveChange);
}

export function checkExpectedRevision(row: PageRow, expected: number | undefined): void {
  if (expected !== undefined && expected !== row.latestRevisionId) {
    throw Errors.staleRevision([row.latestRevisionId, expected], { extra: { current_revision: row.latestRevisionId } });
  }
}

/** "/a/b/old/" with "new" → "/a/b/new/". */
export function replaceLastSegment(urlPath: string, slug: string): string {
  return urlPath.replace(/[^/]+\/$/, `${slug}/`);
}
