import { eq } from 'drizzle-orm';
import { liveCommits, pages } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import { authorEmail, formatCommitMessage } from '../../history/commit-message.js';
import type { WriteSession } from '../../history/revision-store.js';
import type { Actor, ContentContext } from '../content-context.js';
import { serializePageDoc, type PageDoc } from '../page-document.js';
import { draftOf, getRevisionRow, isSlugConflict, requirePageRow, rewriteUrlPaths, takenSlugs, type PageRow } from '../page-store.js';
import { searchTextOf } from '../search-text.js';
import { replaceLastSegment } from './commit-draft.js';

export interface PublishOptions {
  /** The revision to publish; the latest when absent. */
  revision?: number;
  message?: string;
  /** Publish at this time instead of now (when it is in the future). */
  goLiveAt?: Date;
  /** Take the page off the live site at this time. */
  expireAt?: Date;
}

/**
 * Publishes the latest revision of a page, or an earlier one: a commit on `live`. With
 * a future `goLiveAt` the revision is scheduled instead and the scheduler publishes it
 * then; `expireAt` has the scheduler unpublish the page.
 */
export async function publishPage(ctx: ContentContext, actor: Actor, id: number, opts: PublishOptions = {}): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const row = await requirePageRow(session.db, id);
    const revisionId = opts.revision ?? row.latestRevisionId;
    const now = ctx.now();
    if (opts.expireAt && opts.expireAt <= (opts.goLiveAt && opts.goLiveAt > now ? opts.goLiveAt : now)) {
      throw Errors.validation(['/expire_at must be later than the time the page goes live'], { errors: [{ path: '/expire_at', message: 'must be later than the time the page goes live' }] });
    }
    if (opts.goLiveAt && opts.goLiveAt > now) {
      if (!(await getRevisionRow(session.db, id, revisionId))?.blob) throw noRevision(id, revisionId);
      const [scheduled] = await session.db.update(pages)
        .set({ scheduledRevisionId: revisionId, goLiveAt: opts.goLiveAt, expireAt: opts.expireAt ?? null, updatedAt: now })
        .where(eq(pages.id, id)).returning();
      return scheduled!;
    }
    return publishRevision(ctx, session, actor, row, revisionId, { message: opts.message, expireAt: opts.expireAt ?? null });
  }, ctx.onLiveChange);
}

const noRevision = (id: number, revisionId: number) =>
  Errors.revisionNotFound([revisionId, id], { errors: [{ path: '/revision', message: `page ${id} has no revision ${revisionId}` }] });

/** The commit on `live` and the page row's live columns: publishing itself, now. */
export async function publishRevision(
  ctx: ContentContext, session: WriteSession, actor: Actor, row: PageRow, revisionId: number,
  opts: { message?: string; expireAt: Date | null },
): Promise<PageRow> {
  const { db } = session;
  const id = row.id;
  const rev = await getRevisionRow(db, id, revisionId);
  if (!rev?.blob) throw noRevision(id, revisionId);
  let doc: PageDoc;
  let blob: string;
  if (revisionId === row.latestRevisionId) {
    doc = draftOf(row);
    blob = rev.blob;
  } else {
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
  session.event('page.published', row, revisionId, actor.name, date);

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
        scheduledRevisionId: null,
        goLiveAt: null,
        expireAt: opts.expireAt,
        updatedAt: date,
      }).where(eq(pages.id, id)).returning();
      return updated!;
    } catch (err) {
      if (isSlugConflict(err)) throw Errors.slugTaken([doc.slug]);
      throw err;
    }
  });
}

/**
 * Takes a page off the live branch; its drafts and history stay. Any scheduled publish
 * or expiry is cancelled with it.
 */
export async function unpublishPage(ctx: ContentContext, actor: Actor, id: number, opts: { message?: string } = {}): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const row = await requirePageRow(session.db, id);
    if (!row.live) throw Errors.notLive([id]);
    return unpublishRow(ctx, session, actor, row, opts.message);
  }, ctx.onLiveChange);
}

export async function unpublishRow(ctx: ContentContext, session: WriteSession, actor: Actor, row: PageRow, message?: string): Promise<PageRow> {
  const id = row.id;
  const date = ctx.now();
  const doc = draftOf(row);
  const commit = await session.commit('live', {
    changes: new Map([[id, null]]),
    author: { name: actor.name, email: authorEmail(actor.name, actor.email) },
    date,
    message: formatCommitMessage(message?.trim() || `Unpublish ${doc.type} "${doc.title}"`, { pageId: id, revisionId: row.liveRevisionId, action: 'unpublish' }),
  });
  session.event('page.unpublished', row, null, actor.name, date);
  return session.transaction(async (tx) => {
    await tx.insert(liveCommits).values({ pageId: id, revisionId: row.liveRevisionId, commit, blob: null, action: 'unpublish', authorName: actor.name, createdAt: date });
    const [updated] = await tx.update(pages).set({
      live: false, liveRevisionId: null, liveContent: null, liveBlob: null, hasUnpublishedChanges: true, searchText: '',
      scheduledRevisionId: null, goLiveAt: null, expireAt: null, updatedAt: date,
    }).where(eq(pages.id, id)).returning();
    return updated!;
  });
}
