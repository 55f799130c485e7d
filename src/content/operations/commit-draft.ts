import { eq } from 'drizzle-orm';
import { liveCommits, pages, revisions } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import type { WriteSession } from '../../history/revision-store.js';
import type { Actor, ContentContext } from '../content-context.js';
import type { PageDoc } from '../page-document.js';
import { blockTouches } from '../../history/block-history.js';
import { comparePages } from '../../history/diff/compare-pages.js';
import { isSlugConflict, recordBlockTouches, rewriteUrlPaths, takenSlugs, type PageRow } from '../page-store.js';
import { searchTextOf } from '../search-text.js';
import { saveRevision } from './save-revision.js';

export interface DraftCommit {
  action: 'update' | 'revert';
  message: string | undefined;
  defaultMessage: string;
  publish: boolean;
}

/**
 * Saves `doc` as the page's new draft revision (and publishes it with `publish`): the
 * part of an update, a revert and a merge that is the same. Runs inside a write session.
 */
export async function commitDraft(ctx: ContentContext, session: WriteSession, actor: Actor, row: PageRow, doc: PageDoc, opts: DraftCommit): Promise<PageRow> {
  const current = row.draft as PageDoc;
  if (doc.slug !== current.slug && doc.slug !== row.slug && (await takenSlugs(session.db, row.parentId, doc.slug, row.id)).has(doc.slug)) {
    throw Errors.slugTaken([doc.slug], { errors: [{ path: '/slug', message: `"${doc.slug}" is already used by a sibling page` }] });
  }
  const date = ctx.now();
  const touches = blockTouches(comparePages({ registry: ctx.blocks, type: ctx.types.get(doc.type), from: current, to: doc }).body);
  const saved = await saveRevision(session, { doc, actor, action: opts.action, message: opts.message, defaultMessage: opts.defaultMessage, publish: opts.publish, date });
  const published = saved.liveCommit !== null;
  // The URL follows the draft slug until the page is live; then it follows what is published.
  const urlSlug = published || !row.live ? doc.slug : row.slug;
  session.event('revision.created', row, saved.revisionId, actor.name, date);
  if (published) session.event('page.published', row, saved.revisionId, actor.name, date);

  return session.transaction(async (tx) => {
    await tx.insert(revisions).values({
      id: saved.revisionId, pageId: row.id, commit: saved.commit, blob: saved.blob, action: opts.action,
      authorName: actor.name, tokenId: actor.tokenId, message: saved.message, createdAt: date,
    });
    await recordBlockTouches(tx, touches, { pageId: row.id, revisionId: saved.revisionId, authorName: actor.name, createdAt: date });
    if (published) {
      await tx.insert(liveCommits).values({
        pageId: row.id, revisionId: saved.revisionId, commit: saved.liveCommit!, blob: saved.blob, action: 'publish', authorName: actor.name, createdAt: date,
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
        draftSlug: doc.slug,
        latestRevisionId: saved.revisionId,
        draft: doc,
        hasUnpublishedChanges: !published,
        updatedAt: date,
        ...(published ? {
          live: true,
          liveRevisionId: saved.revisionId,
          liveContent: doc,
          liveBlob: saved.blob,
          searchText: searchTextOf(ctx.types.get(doc.type), doc),
          firstPublishedAt: row.firstPublishedAt ?? date,
          lastPublishedAt: date,
        } : {}),
      }).where(eq(pages.id, row.id)).returning();
      return updated!;
    } catch (err) {
      if (isSlugConflict(err)) throw Errors.slugTaken([urlSlug], { errors: [{ path: '/slug', message: `"${urlSlug}" is already used by a sibling page` }] });
      throw err;
    }
  });
}

/** "/a/b/old/" with "new" → "/a/b/new/". */
export function replaceLastSegment(urlPath: string, slug: string): string {
  return urlPath.replace(/[^/]+\/$/, `${slug}/`);
}
