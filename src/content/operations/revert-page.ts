import { Errors } from '../../errors.js';
import { cleanPageInput } from '../clean-page-input.js';
import type { Actor, ContentContext } from '../content-context.js';
import { canonicalPageDoc, type PageDoc } from '../page-document.js';
import { draftOf, getRevisionRow, requirePageRow, type PageRow } from '../page-store.js';
import { commitDraft } from './commit-draft.js';
import { checkExpectedRevision } from './update-page.js';

/**
 * Makes a new draft revision whose content is that of revision `revision` (block ids
 * included). History keeps both; the page stays where it is in the tree. The old content
 * is validated again: block types may have changed since it was saved.
 */
export async function revertPage(ctx: ContentContext, actor: Actor, id: number, args: { revision: number; message?: string; publish?: boolean; expectedRevision?: number }): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const row = await requirePageRow(session.db, id);
    checkExpectedRevision(row, args.expectedRevision);
    const rev = await getRevisionRow(session.db, id, args.revision);
    if (!rev?.blob) {
      throw Errors.revisionNotFound([args.revision, id], { errors: [{ path: '/revision', message: `page ${id} has no revision ${args.revision}` }] });
    }
    const old = JSON.parse(await session.repo.readBlob(rev.blob)) as PageDoc;
    const { id: _id, parent: _parent, ...members } = old;
    const cleaned = cleanPageInput(ctx.types, ctx.blocks, members, draftOf(row));
    const doc = canonicalPageDoc(cleaned.type, { ...cleaned.doc, id, parent: row.parentId, slug: cleaned.doc.slug ?? old.slug } as PageDoc);
    return commitDraft(ctx, session, actor, row, doc, {
      action: 'revert', message: args.message, defaultMessage: `Revert ${doc.type} "${doc.title}" to revision ${args.revision}`, publish: args.publish ?? false,
    });
  }, ctx.onLiveChange);
}
