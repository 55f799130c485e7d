import { eq } from 'drizzle-orm';
import { liveCommits, pages, revisions } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import { authorEmail, formatCommitMessage } from '../../history/commit-message.js';
import type { Actor, ContentContext } from '../content-context.js';
import type { PageDoc } from '../page-document.js';
import { serializePageDoc } from '../page-document.js';
import {
  draftOf, getPageRow, isSlugConflict, liveOf, pathSegment, requirePageRow, rewriteTreePaths, rewriteUrlPaths, takenSlugs, type PageRow,
} from '../page-store.js';
import { checkParentAllows } from './create-page.js';
import { saveRevision } from './save-revision.js';

/**
 * Moves a page (and its subtree) under another parent, or to the top level. The parent
 * is part of the page file, so the move is a revision on `main`, and for a live page a
 * commit on `live` too: where a page sits is not held back until the next publish.
 */
export async function movePage(ctx: ContentContext, actor: Actor, id: number, args: { parent: number | null; message?: string }): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const db = session.db;
    const row = await requirePageRow(db, id);
    const parentId = args.parent;
    const parent = parentId === null ? null : (await getPageRow(db, parentId)) ?? null;
    if (parentId !== null && !parent) {
      throw Errors.parentNotFound([parentId], { errors: [{ path: '/parent', message: `page ${parentId} does not exist` }] });
    }
    if (parent && parent.path.startsWith(row.path)) {
      throw Errors.moveIntoSelf([], { errors: [{ path: '/parent', message: `page ${parentId} is the page itself or below it` }] });
    }
    const type = ctx.types.get(row.type);
    if (type) checkParentAllows(ctx, parent, type);
    const draft = draftOf(row);
    if (parentId !== row.parentId) {
      for (const slug of new Set([row.slug, draft.slug])) {
        if ((await takenSlugs(db, parentId, slug)).has(slug)) {
          throw Errors.slugTaken([slug], { errors: [{ path: '/parent', message: `a page under ${parentId ?? 'the top level'} already uses the slug "${slug}"` }] });
        }
      }
    }

    const date = ctx.now();
    const doc: PageDoc = { ...draft, parent: parentId };
    const saved = await saveRevision(session, {
      doc, actor, action: 'move', message: args.message, defaultMessage: `Move ${doc.type} "${doc.title}" to ${parent ? `page ${parent.id}` : 'the top level'}`, publish: false, date,
    });
    // The live file moves too; when live and draft were the same, they still are.
    let live: { doc: PageDoc; blob: string; revisionId: number | null; commit: string } | null = null;
    const liveDoc = liveOf(row);
    if (row.live && liveDoc) {
      const movedLive: PageDoc = { ...liveDoc, parent: parentId };
      const blob = row.hasUnpublishedChanges ? await session.repo.writeBlob(serializePageDoc(movedLive)) : saved.blob;
      const revisionId = row.hasUnpublishedChanges ? row.liveRevisionId : saved.revisionId;
      const commit = await session.commit('live', {
        changes: new Map([[id, blob]]),
        author: { name: actor.name, email: authorEmail(actor.name, actor.email) },
        date,
        message: formatCommitMessage(saved.message, { pageId: id, revisionId, action: 'move' }),
      });
      live = { doc: movedLive, blob, revisionId, commit };
    }

    // Listings by tree position and URLs of live pages below change, live or not.
    session.markPublicChange();
    const moved = { id, path: (parent?.path ?? '') + pathSegment(id) };
    session.event('revision.created', moved, saved.revisionId, actor.name, date);
    session.event('page.moved', moved, saved.revisionId, actor.name, date);
    return session.transaction(async (tx) => {
      await tx.insert(revisions).values({
        id: saved.revisionId, pageId: id, commit: saved.commit, blob: saved.blob, action: 'move',
        authorName: actor.name, tokenId: actor.tokenId, message: saved.message, createdAt: date,
      });
      if (live) {
        await tx.insert(liveCommits).values({ pageId: id, revisionId: live.revisionId, commit: live.commit, blob: live.blob, action: 'move', authorName: actor.name, createdAt: date });
      }
      // URL paths first: both rewrites find the subtree by its old tree path.
      await rewriteUrlPaths(tx, row, `${parent?.urlPath ?? '/'}${row.slug}/`);
      await rewriteTreePaths(tx, row, moved.path);
      try {
        const [updated] = await tx.update(pages).set({
          parentId,
          latestRevisionId: saved.revisionId,
          draft: doc,
          updatedAt: date,
          ...(live ? { liveContent: live.doc, liveBlob: live.blob, liveRevisionId: live.revisionId } : {}),
        }).where(eq(pages.id, id)).returning();
        return updated!;
      } catch (err) {
        if (isSlugConflict(err)) throw Errors.slugTaken([row.slug]);
        throw err;
      }
    });
  }, ctx.onLiveChange);
}
