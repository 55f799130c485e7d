import { eq } from 'drizzle-orm';
import { liveCommits, pages } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import { authorEmail, formatCommitMessage } from '../../history/commit-message.js';
import type { Actor, ContentContext } from '../content-context.js';
import { serializePageDoc, type PageDoc } from '../page-document.js';
import { draftOf, getRevisionRow, isSlugConflict, requirePageRow, rewriteUrlPaths, takenSlugs, type PageRow } from '../page-store.js';
import { searchTextOf } from '../search-text.js';
import { replaceLastSegment } from './commit-draft.js';

/** Publishes the latest revision of a page, or an earlier one: a commit on `live`. */
export async function publishPage(ctx: ContentContext, actor: Actor, id: number, opts: { revision?: number; message?: string } = {}): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const db = session.db;
    const row = await requirePageRow(db, id);
    const revisionId = opts.revision ?? row.latestRevisionId;
    let doc: PageDoc;
    let blob: string;
    if (revisionId === row.latestRevisionId) {
      doc = draftOf(row);
      const rev = await getRevisionRow(db, id, revisionId);
      blob = rev!.blob!;
    } else {
      const rev = await getRevisionRow(db, id, revisionId);
      if (!rev || !rev.blob) {
        throw Errors.revisionNotFound([revisionId, id], { errors: [{ path: '/revision', message: `page ${id} has no revision ${revisionId}` }] });
      }
      // An older revision is published where the page is now in the tree.
      doc = { ...(JSON.parse(await session.repo.readBlob(rev.blob)) as PageDoc), parent: row.parentId };
      blob = await session.repo.writeBlob(serializePageDoc(doc));
    }
    if (doc.slug !== row.slug && (await takenSlugs(db, row.parentId, doc.slug, id)).has(doc.slug)) {
      throw Errors.slugTaken([doc.slug], { errors: [{ path: '/revision', message: `its slug "${doc.slug}" is now used by a sibling page` }] });
    }

    const date = ctx.now();
    const subject = opts.message?.trim() || `Publish ${doc.type} "${doc.title}"`;
    const commit = await session.commit('live', {
      changes: new Map([[id, blob]]),
      author: { name: actor.name, email: authorEmail(actor.name, actor.email) },
      date,
      message: formatCommitMessage(subject, { pageId: id, revisionId, action: 'publish' }),
    });

    return session.transaction(async (tx) => {
      await tx.insert(liveCommits).values({ pageId: id, revisionId, commit, blob, action: 'publish', authorName: actor.name, createdAt: date });
      if (doc.slug !== row.slug) await rewriteUrlPaths(tx, row, replaceLastSegment(row.urlPath, doc.slug));
      try {
        const [updated] = await tx.update(pages).set({
          slug: doc.slug,
          live: true,
          liveRevisionId: revisionId,
          liveContent: doc,
          liveBlob: blob,
          hasUnpublishedChanges: revisionId !== row.latestRevisionId,
          searchText: searchTextOf(ctx.types.get(doc.type), doc),
          firstPublishedAt: row.firstPublishedAt ?? date,
          lastPublishedAt: date,
          updatedAt: date,
        }).where(eq(pages.id, id)).returning();
        return updated!;
      } catch (err) {
        if (isSlugConflict(err)) throw Errors.slugTaken([doc.slug]);
        throw err;
      }
    });
  }, ctx.onLiveChange);
}

/** Takes a page off the live branch; its drafts and history stay. */
export async function unpublishPage(ctx: ContentContext, actor: Actor, id: number, opts: { message?: string } = {}): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const row = await requirePageRow(session.db, id);
    if (!row.live) throw Errors.notLive([id]);
    const date = ctx.now();
    const doc = draftOf(row);
    const commit = await session.commit('live', {
      changes: new Map([[id, null]]),
      author: { name: actor.name, email: authorEmail(actor.name, actor.email) },
      date,
      message: formatCommitMessage(opts.message?.trim() || `Unpublish ${doc.type} "${doc.title}"`, { pageId: id, revisionId: row.liveRevisionId, action: 'unpublish' }),
    });
    return session.transaction(async (tx) => {
      await tx.insert(liveCommits).values({ pageId: id, revisionId: row.liveRevisionId, commit, blob: null, action: 'unpublish', authorName: actor.name, createdAt: date });
      const [updated] = await tx.update(pages).set({
        live: false, liveRevisionId: null, liveContent: null, liveBlob: null, hasUnpublishedChanges: true, searchText: '', updatedAt: date,
      }).where(eq(pages.id, id)).returning();
      return updated!;
    });
  }, ctx.onLiveChange);
}
