import { liveCommits, pages, revisions } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import { cleanPageInput } from '../clean-page-input.js';
import type { Actor, ContentContext } from '../content-context.js';
import { canonicalPageDoc, type PageDoc } from '../page-document.js';
import { checkReferences } from '../references.js';
import { addedTouches } from '../../history/block-history.js';
import { getPageRow, nextPageId, pathSegment, recordBlockTouches, takenSlugs, type PageRow } from '../page-store.js';
import type { PageType } from '../page-types.js';
import { searchTextOf } from '../search-text.js';
import { slugFromTitle, uniqueSlug } from '../slugs.js';
import { saveRevision } from './save-revision.js';

/** Creates a page: its first revision on `main` (and on `live` with `publish: true`). */
export async function createPage(ctx: ContentContext, actor: Actor, input: unknown): Promise<PageRow> {
  return ctx.revisions.write(async (session) => {
    const db = session.db;
    const cleaned = cleanPageInput(ctx.types, ctx.blocks, input, null);
    const parentId = cleaned.parent ?? null;
    const parent = parentId === null ? null : (await getPageRow(db, parentId)) ?? null;
    if (parentId !== null && !parent) {
      throw Errors.parentNotFound([parentId], { errors: [{ path: '/parent', message: `page ${parentId} does not exist` }] });
    }
    checkParentAllows(ctx, parent, cleaned.type);

    let slug: string;
    if (cleaned.slugGiven) {
      slug = cleaned.doc.slug!;
      if ((await takenSlugs(db, parentId, slug)).has(slug)) throw Errors.slugTaken([slug], { errors: [{ path: '/slug', message: `"${slug}" is already used by a sibling page` }] });
    } else {
      const base = slugFromTitle(cleaned.doc.title);
      slug = uniqueSlug(base, await takenSlugs(db, parentId, base));
    }

    const id = await nextPageId(db);
    const doc = canonicalPageDoc(cleaned.type, { ...cleaned.doc, id, parent: parentId, slug } as PageDoc);
    await checkReferences(db, doc, null);
    const date = ctx.now();
    const saved = await saveRevision(session, {
      doc, actor, action: 'create', message: cleaned.message, defaultMessage: `Create ${doc.type} "${doc.title}"`, publish: cleaned.publish, date,
    });

    const path = (parent?.path ?? '') + pathSegment(id);
    session.event('revision.created', { id, path }, saved.revisionId, actor.name, date);
    if (saved.liveCommit !== null) session.event('page.published', { id, path }, saved.revisionId, actor.name, date);
    const row = await session.transaction(async (tx) => {
      await tx.insert(revisions).values({
        id: saved.revisionId, pageId: id, commit: saved.commit, blob: saved.blob, action: 'create',
        authorName: actor.name, tokenId: actor.tokenId, message: saved.message, createdAt: date,
      });
      const streams = cleaned.type.fields.filter((f) => ctx.blocks.resolve(f.spec).kind === 'stream').map((f) => f.name);
      await recordBlockTouches(tx, addedTouches(doc, streams), { pageId: id, revisionId: saved.revisionId, authorName: actor.name, createdAt: date });
      const published = saved.liveCommit !== null;
      if (published) {
        await tx.insert(liveCommits).values({
          pageId: id, revisionId: saved.revisionId, commit: saved.liveCommit!, blob: saved.blob, action: 'publish', authorName: actor.name, createdAt: date,
        });
      }
      const [inserted] = await tx.insert(pages).values({
        id,
        parentId,
        path,
        depth: (parent?.depth ?? 0) + 1,
        type: doc.type,
        slug,
        draftSlug: slug,
        urlPath: `${parent?.urlPath ?? '/'}${slug}/`,
        live: published,
        hasUnpublishedChanges: !published,
        latestRevisionId: saved.revisionId,
        liveRevisionId: published ? saved.revisionId : null,
        draft: doc,
        liveContent: published ? doc : null,
        liveBlob: published ? saved.blob : null,
        searchText: published ? searchTextOf(cleaned.type, doc) : '',
        firstPublishedAt: published ? date : null,
        lastPublishedAt: published ? date : null,
        createdAt: date,
        updatedAt: date,
      }).returning();
      return inserted!;
    });
    return row;
  }, ctx.onLiveChange);
}

/** A page type may only go where its parent's type (or the top level) allows it. */
export function checkParentAllows(ctx: ContentContext, parent: PageRow | null, type: PageType): void {
  if (parent === null) {
    if (!type.allowedAtRoot) {
      throw Errors.parentNotAllowed([`${type.name} pages need a parent`], { errors: [{ path: '/parent', message: `${type.name} pages cannot be at the top level` }] });
    }
    return;
  }
  const parentType = ctx.types.get(parent.type);
  if (!parentType?.childTypes.includes(type.name)) {
    const allowed = parentType?.childTypes.length ? parentType.childTypes.join(', ') : 'none';
    throw Errors.parentNotAllowed([`a ${parent.type} page cannot have ${type.name} children (allowed: ${allowed})`], {
      errors: [{ path: '/parent', message: `page ${parent.id} is a ${parent.type}, which accepts ${allowed} children` }],
    });
  }
}

