import { and, asc, eq, gt } from 'drizzle-orm';
import { revisions } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import type { WriteSession } from '../../history/revision-store.js';
import { cleanPageInput } from '../clean-page-input.js';
import type { Actor, ContentContext } from '../content-context.js';
import { mergeDrafts } from '../merge-drafts.js';
import { canonicalPageDoc, type PageDoc } from '../page-document.js';
import { draftOf, getRevisionRow, requirePageRow, type PageRow } from '../page-store.js';
import { checkReferences } from '../references.js';
import { commitDraft } from './commit-draft.js';

export interface UpdateOptions {
  /** The revision the client last saw (If-Match); a different latest revision → 412. */
  expectedRevision?: number;
}

export interface UpdateResult {
  row: PageRow;
  /** Set when the edit was made from an older revision and merged with the saves since. */
  merge: { base_revision: number; merged_revisions: number[] } | null;
}

/**
 * Saves a new draft revision from a partial payload (absent members keep their value).
 * With `base_revision` older than the latest revision, the edit is merged block by block
 * with what was saved since (409 and nothing written when both touched the same thing).
 */
export async function updatePage(ctx: ContentContext, actor: Actor, id: number, input: unknown, opts: UpdateOptions = {}): Promise<UpdateResult> {
  return ctx.revisions.write(async (session) => {
    const row = await requirePageRow(session.db, id);
    checkExpectedRevision(row, opts.expectedRevision);
    const current = draftOf(row);
    const base = baseRevisionOf(input);
    if (base !== undefined && base !== row.latestRevisionId) return mergeEdit(ctx, session, actor, row, input, base);

    const cleaned = cleanPageInput(ctx.types, ctx.blocks, input, current);
    const doc = canonicalPageDoc(cleaned.type, { ...cleaned.doc, id, parent: row.parentId, slug: cleaned.doc.slug ?? current.slug } as PageDoc);
    await checkReferences(session.db, doc, current);
    const updated = await commitDraft(ctx, session, actor, row, doc, {
      action: 'update', message: cleaned.message, defaultMessage: `Update ${doc.type} "${doc.title}"`, publish: cleaned.publish,
    });
    return { row: updated, merge: null };
  }, ctx.onLiveChange);
}

function baseRevisionOf(input: unknown): number | undefined {
  const v = (input as { base_revision?: unknown } | null)?.base_revision;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

async function mergeEdit(ctx: ContentContext, session: WriteSession, actor: Actor, row: PageRow, input: unknown, baseId: number): Promise<UpdateResult> {
  const baseRow = await getRevisionRow(session.db, row.id, baseId);
  if (!baseRow?.blob) {
    throw Errors.validation([`/base_revision page ${row.id} has no revision ${baseId}`], { errors: [{ path: '/base_revision', message: `page ${row.id} has no revision ${baseId}` }] });
  }
  const base = JSON.parse(await session.repo.readBlob(baseRow.blob)) as PageDoc;
  const current = draftOf(row);
  // What this editor wants: the base revision with their edit applied.
  const cleaned = cleanPageInput(ctx.types, ctx.blocks, input, { ...base, parent: row.parentId });
  const theirs = canonicalPageDoc(cleaned.type, { ...cleaned.doc, id: row.id, parent: row.parentId, slug: cleaned.doc.slug ?? base.slug } as PageDoc);
  const since = (await session.db.select({ id: revisions.id }).from(revisions)
    .where(and(eq(revisions.pageId, row.id), gt(revisions.id, baseId))).orderBy(asc(revisions.id))).map((r) => r.id);

  const conflict = (errors: { path: string; message: string }[]) => Errors.mergeConflict([baseId], {
    errors, extra: { current_revision: row.latestRevisionId, base_revision: baseId, concurrent_revisions: since },
  });
  const merged = mergeDrafts(cleaned.type, { ...base, parent: row.parentId }, current, theirs);
  if (!merged.doc) throw conflict(merged.conflicts);

  // Both edits were valid alone; together they must still be (counts, duplicate ids…).
  const { id: _id, parent: _parent, ...members } = merged.doc;
  let recheck;
  try {
    recheck = cleanPageInput(ctx.types, ctx.blocks, members, current);
  } catch (err) {
    const errors = (err as { errors?: { path: string; message: string }[] }).errors ?? [{ path: '', message: String(err) }];
    throw conflict(errors.map((e) => ({ path: e.path, message: `the merged page would be invalid: ${e.message}` })));
  }
  const doc = canonicalPageDoc(recheck.type, { ...recheck.doc, id: row.id, parent: row.parentId, slug: recheck.doc.slug ?? current.slug } as PageDoc);
  await checkReferences(session.db, doc, current);
  const updated = await commitDraft(ctx, session, actor, row, doc, {
    action: 'update', message: cleaned.message, defaultMessage: `Update ${doc.type} "${doc.title}" (merged from revision ${baseId})`, publish: cleaned.publish,
  });
  return { row: updated, merge: { base_revision: baseId, merged_revisions: since } };
}

export function checkExpectedRevision(row: PageRow, expected: number | undefined): void {
  if (expected !== undefined && expected !== row.latestRevisionId) {
    throw Errors.staleRevision([row.latestRevisionId, expected], { extra: { current_revision: row.latestRevisionId } });
  }
}
