import { like } from 'drizzle-orm';
import { liveCommits, pages, revisions } from '../../db/schema.js';
import { authorEmail, formatCommitMessage } from '../../history/commit-message.js';
import type { Actor, ContentContext } from '../content-context.js';
import { draftOf, nextRevisionId, requirePageRow, subtreeRows } from '../page-store.js';

/**
 * Deletes a page and its subtree: their files leave `main` (and `live`) in one commit
 * each; their history stays in git and in the revision index.
 */
export async function deletePage(ctx: ContentContext, actor: Actor, id: number, opts: { message?: string } = {}): Promise<{ deleted: number[] }> {
  return ctx.revisions.write(async (session) => {
    const db = session.db;
    const root = await requirePageRow(db, id);
    const subtree = await subtreeRows(db, root);
    const ids = subtree.map((r) => r.id);
    const doc = draftOf(root);
    const date = ctx.now();
    const author = { name: actor.name, email: authorEmail(actor.name, actor.email) };
    const subject = opts.message?.trim()
      || `Delete ${doc.type} "${doc.title}"${ids.length > 1 ? ` and ${ids.length - 1} page(s) below it` : ''}`;
    const body = ids.length > 1 ? `${subject}\n\nDeleted pages: ${ids.join(', ')}` : subject;
    const revisionId = await nextRevisionId(db);
    const commit = await session.commit('main', {
      changes: new Map(ids.map((i) => [i, null])),
      author, date, message: formatCommitMessage(body, { pageId: id, revisionId, action: 'delete' }),
    });
    const liveIds = subtree.filter((r) => r.live).map((r) => r.id);
    const liveCommit = liveIds.length
      ? await session.commit('live', {
        changes: new Map(liveIds.map((i) => [i, null])),
        author, date, message: formatCommitMessage(body, { pageId: id, revisionId: null, action: 'delete' }),
      })
      : null;

    session.markPublicChange();
    for (const r of subtree) session.event('page.deleted', r, null, actor.name, date);
    await session.transaction(async (tx) => {
      await tx.insert(revisions).values({
        id: revisionId, pageId: id, commit, blob: null, action: 'delete', authorName: actor.name, tokenId: actor.tokenId, message: subject, createdAt: date,
      });
      if (liveCommit) {
        await tx.insert(liveCommits).values(liveIds.map((pageId) => ({ pageId, revisionId: null, commit: liveCommit, blob: null, action: 'delete', authorName: actor.name, createdAt: date })));
      }
      await tx.delete(pages).where(like(pages.path, `${root.path}%`));
    });
    return { deleted: ids };
  }, ctx.onLiveChange);
}
