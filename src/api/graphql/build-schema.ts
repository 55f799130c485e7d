import {
  GraphQLBoolean, GraphQLEnumType, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString,
  type GraphQLFieldConfigMap, type GraphQLOutputType,
} from 'graphql';
import { can } from '../../auth/roles.js';
import { createPage } from '../../content/operations/create-page.js';
import { deletePage } from '../../content/operations/delete-page.js';
import { movePage } from '../../content/operations/move-page.js';
import { publishPage, unpublishPage } from '../../content/operations/publish-page.js';
import { revertPage } from '../../content/operations/revert-page.js';
import { updatePage } from '../../content/operations/update-page.js';
import type { PageRow } from '../../content/page-store.js';
import { comparePair, loadRevisionPair } from '../../content/queries/compare-revisions.js';
import { findPageBySlug, findPageByUrlPath, getVisiblePage, listPages } from '../../content/queries/list-pages.js';
import { listRevisions } from '../../content/queries/list-revisions.js';
import { Errors } from '../../errors.js';
import type { PageMove, PagePublish, PageRevert } from '../../generated/schema-types.js';
import { runBlock } from '../../kernels/executions/run-block.js';
import { getDocument, listDocuments } from '../../media/documents/document-store.js';
import { filterSpecOf } from '../../media/images/image-renditions.js';
import { getImage, listImages, type ImageRow } from '../../media/images/image-store.js';
import { mediaUrl } from '../../media/media-files.js';
import type { LecternServices } from '../../services.js';
import documentSchema from '../../../schemas/api/document.json' with { type: 'json' };
import executionSchema from '../../../schemas/api/execution.json' with { type: 'json' };
import imageSchema from '../../../schemas/api/image.json' with { type: 'json' };
import pageCompareSchema from '../../../schemas/api/page-compare.json' with { type: 'json' };
import pageMoveSchema from '../../../schemas/api/page-move.json' with { type: 'json' };
import pagePublishSchema from '../../../schemas/api/page-publish.json' with { type: 'json' };
import pageRevertSchema from '../../../schemas/api/page-revert.json' with { type: 'json' };
import renditionSchema from '../../../schemas/api/rendition.json' with { type: 'json' };
import { documentDownloadUrl, DOCUMENT_LIBRARY } from '../rest/document-routes.js';
import { IMAGE_LIBRARY } from '../rest/image-routes.js';
import { revisionJson } from '../rest/revision-json.js';
import { librarySelection, parseLibraryListing, serializeLibraryItem } from '../rest/wagtail/library-listing.js';
import { parseListingQuery, parsePagination } from '../rest/wagtail/page-listing-query.js';
import { BlockTypes } from './block-types.js';
import { actorOf, requireGraphQL, versionOf, type GraphQLContext } from './graphql-context.js';
import { GraphQLJSON } from './json-scalar.js';
import { JsonSchemaTypes, nonNull, type JsonSchema } from './json-schema-types.js';
import { buildPageTypes, pageSource, pagingQuery } from './page-object-types.js';
import { subscriptionType } from './subscriptions.js';

const list = (t: GraphQLOutputType) => new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(t)));
const listOf = (name: string, item: GraphQLOutputType) => new GraphQLObjectType({
  name,
  fields: { total_count: { type: new GraphQLNonNull(GraphQLInt) }, items: { type: list(item) } },
});

/**
 * The GraphQL schema (DESIGN.md §4), built at start from the same JSON Schemas as REST:
 * block types, page types, API payloads (execution, compare, image, document, revision).
 * Every resolver calls the operation its REST route calls; the rules (drafts for editors
 * and reviewers, Wagtail's listing semantics and messages, limits) are the same ones.
 */
export function buildGraphQLSchema(lectern: LecternServices): GraphQLSchema {
  const { content, config } = lectern;
  const limitMax = config.apiLimitMax;
  const json = new JsonSchemaTypes();
  json.reserve('Query', 'Mutation', 'Subscription', 'JSON', 'Version', 'ImageList', 'DocumentList', 'ExecutionList', 'PageWriteResult', 'DeleteResult');
  // Named first, so the jupyter block's stored outputs share the execution's NbOutput type.
  const execution = json.output(executionSchema as JsonSchema, 'Execution', executionSchema as JsonSchema);
  const blocks = new BlockTypes(content.blocks, json);
  const pages = buildPageTypes(content.types, blocks, json, limitMax);
  const rendition = json.output(renditionSchema as JsonSchema, 'Rendition', renditionSchema as JsonSchema);
  const image = json.object(imageSchema as JsonSchema, 'Image', imageSchema as JsonSchema, {
    rendition: {
      type: nonNull(rendition),
      description: 'The image at a Wagtail filter spec ("fill-800x450|format-webp"): made now if it does not exist yet.',
      args: { spec: { type: new GraphQLNonNull(GraphQLString) } },
      resolve: async (item: unknown, args: { spec: string }, ctx: unknown) => {
        const c = ctx as GraphQLContext;
        const spec = filterSpecOf(args.spec, '/spec');
        const made = await c.lectern.renditions.get((item as { id: number }).id, spec, { privileged: c.principal !== null && can(c.principal.role, 'write:media') });
        const url = c.lectern.renditions.url(made);
        return { url: url.startsWith('/') ? `${c.apiOrigin}${url}` : url, width: made.width, height: made.height };
      },
    },
  })!;
  const document = json.object(documentSchema as JsonSchema, 'Document', documentSchema as JsonSchema, {})!;
  const compare = json.output(pageCompareSchema as JsonSchema, 'PageCompare', pageCompareSchema as JsonSchema);
  const version = new GraphQLEnumType({ name: 'Version', values: { LIVE: {}, DRAFT: { description: 'The latest draft (editors and reviewers).' } } });
  const writeResult = new GraphQLObjectType({
    name: 'PageWriteResult',
    fields: {
      page: { type: new GraphQLNonNull(pages.page), description: 'The page\'s latest draft, as write responses show it.' },
      merged: { type: new GraphQLNonNull(GraphQLBoolean), description: 'The edit was made from an older revision and merged with the saves since.' },
      merged_from: { type: GraphQLJSON, description: '{base_revision, merged_revisions} when merged.' },
    },
  });
  const written = (row: PageRow, merge: unknown = null) => ({ page: pageSource(row, 'draft'), merged: merge !== null, merged_from: merge });

  const imageJson = (row: ImageRow, ctx: GraphQLContext) =>
    serializeLibraryItem(IMAGE_LIBRARY, row, librarySelection(IMAGE_LIBRARY, undefined, true), { apiOrigin: ctx.apiOrigin, downloadUrl: mediaUrl(ctx.lectern.media.storage, row.fileKey) });
  const libraryArgs = {
    title: { type: GraphQLString }, tags: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)) }, search: { type: GraphQLString },
    search_operator: { type: GraphQLString }, order: { type: GraphQLString }, limit: { type: GraphQLInt }, offset: { type: GraphQLInt },
  };
  const libraryQuery = (args: Record<string, unknown>) => {
    const q: Record<string, string> = {};
    for (const [k, v] of Object.entries(args)) if (v !== undefined && v !== null) q[k] = Array.isArray(v) ? v.join(',') : String(v);
    return q;
  };

  const query = new GraphQLObjectType<unknown, GraphQLContext>({
    name: 'Query',
    fields: (): GraphQLFieldConfigMap<unknown, GraphQLContext> => ({
      page: {
        type: pages.page,
        description: 'A page by id, by slug (under `parent`, or at the top level) or by path ("/course/lesson-1/").',
        args: { id: { type: GraphQLInt }, slug: { type: GraphQLString }, parent: { type: GraphQLInt }, path: { type: GraphQLString }, version: { type: version } },
        resolve: async (_s, args: { id?: number; slug?: string; parent?: number | null; path?: string; version?: string }, ctx) => {
          const v = versionOf(ctx, args.version);
          const db = ctx.lectern.database.db;
          let row: PageRow | undefined;
          if (args.id !== undefined && args.id !== null) row = await getVisiblePage(db, args.id, v);
          else if (args.path !== undefined && args.path !== null) row = await findPageByUrlPath(db, args.path, v);
          else if (args.slug !== undefined && args.slug !== null) row = await findPageBySlug(db, args.parent ?? null, args.slug, v);
          else {
            throw Errors.badQuery(['page needs id, slug or path']);
          }
          return row ? pageSource(row, v) : null;
        },
      },
      pages: {
        type: new GraphQLNonNull(pages.pageList),
        description: 'Pages as GET /api/v2/pages/ lists them: the same filters, ordering, pagination and messages. `filters` holds exact field filters ({"environment": "numpy-2"}).',
        args: {
          type: { type: GraphQLString }, child_of: { type: GraphQLString }, descendant_of: { type: GraphQLString }, ancestor_of: { type: GraphQLInt },
          slug: { type: GraphQLString }, title: { type: GraphQLString }, search: { type: GraphQLString }, search_operator: { type: GraphQLString },
          order: { type: GraphQLString }, limit: { type: GraphQLInt }, offset: { type: GraphQLInt }, version: { type: version }, filters: { type: GraphQLJSON },
        },
        resolve: async (_s, args: Record<string, unknown>, ctx) => {
          const v = versionOf(ctx, args.version as string | undefined);
          const q: Record<string, string> = {};
          for (const [k, val] of Object.entries(args)) {
            if (k === 'version' || k === 'filters' || val === undefined || val === null) continue;
            q[k] = String(val);
          }
          const filters = args.filters;
          if (filters !== undefined && filters !== null) {
            if (typeof filters !== 'object' || Array.isArray(filters)) throw Errors.badQuery(['filters must be an object of field names and values']);
            for (const [k, val] of Object.entries(filters)) q[k] = String(val);
          }
          const db = ctx.lectern.database.db;
          const parsed = await parseListingQuery(q, { types: ctx.lectern.content.types, limitMax, version: v, findPage: (id) => getVisiblePage(db, id, v) });
          const { members: _members, ...whole } = parsed.query;
          const found = await listPages(db, whole);
          return { total_count: found.total, items: found.rows.map((r) => pageSource(r, v)) };
        },
      },
      image: {
        type: image,
        args: { id: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: async (_s, args: { id: number }, ctx) => {
          const row = await getImage(ctx.lectern.media.db, args.id);
          return row ? imageJson(row, ctx) : null;
        },
      },
      images: {
        type: new GraphQLNonNull(listOf('ImageList', image)),
        args: { ...libraryArgs, width: { type: GraphQLInt }, height: { type: GraphQLInt } },
        resolve: async (_s, args: Record<string, unknown>, ctx) => {
          const { query: q } = parseLibraryListing(libraryQuery(args), IMAGE_LIBRARY, limitMax);
          const found = await listImages(ctx.lectern.media.db, q);
          return { total_count: found.total, items: found.rows.map((r) => imageJson(r, ctx)) };
        },
      },
      document: {
        type: document,
        args: { id: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: async (_s, args: { id: number }, ctx) => {
          const row = await getDocument(ctx.lectern.media.db, args.id);
          return row ? serializeLibraryItem(DOCUMENT_LIBRARY, row, librarySelection(DOCUMENT_LIBRARY, undefined, true), { apiOrigin: ctx.apiOrigin, downloadUrl: documentDownloadUrl(ctx.apiOrigin, row) }) : null;
        },
      },
      documents: {
        type: new GraphQLNonNull(listOf('DocumentList', document)),
        args: libraryArgs,
        resolve: async (_s, args: Record<string, unknown>, ctx) => {
          const { query: q } = parseLibraryListing(libraryQuery(args), DOCUMENT_LIBRARY, limitMax);
          const found = await listDocuments(ctx.lectern.media.db, q);
          const sel = librarySelection(DOCUMENT_LIBRARY, undefined, true);
          return { total_count: found.total, items: found.rows.map((r) => serializeLibraryItem(DOCUMENT_LIBRARY, r, sel, { apiOrigin: ctx.apiOrigin, downloadUrl: documentDownloadUrl(ctx.apiOrigin, r) })) };
        },
      },
      revisions: {
        type: new GraphQLNonNull(pages.revisionList),
        description: 'A page\'s revisions, newest first (editors and reviewers).',
        args: { page: { type: new GraphQLNonNull(GraphQLInt) }, limit: { type: GraphQLInt }, offset: { type: GraphQLInt } },
        resolve: async (_s, args: { page: number; limit?: number; offset?: number }, ctx) => {
          requireGraphQL(ctx, 'read:drafts');
          const row = await getVisiblePage(ctx.lectern.database.db, args.page, 'draft');
          if (!row) throw Errors.pageNotFound();
          const paging = parsePagination(pagingQuery(args), limitMax);
          const found = await listRevisions(ctx.lectern.database.db, row.id, paging.limit, paging.offset);
          return { total_count: found.total, items: found.rows.map((r) => revisionJson(r, row.liveRevisionId)) };
        },
      },
      compare: {
        type: nonNull(compare),
        description: 'What changed between two revisions of a page, block by block (either order: always older to newer).',
        args: { page: { type: new GraphQLNonNull(GraphQLInt) }, from: { type: new GraphQLNonNull(GraphQLInt) }, to: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: async (_s, args: { page: number; from: number; to: number }, ctx) => {
          requireGraphQL(ctx, 'read:drafts');
          const { database, repo, content: c } = ctx.lectern;
          const row = await getVisiblePage(database.db, args.page, 'draft');
          if (!row) throw Errors.pageNotFound();
          return comparePair(c.blocks, c.types, row, await loadRevisionPair(database.db, repo, row, args.from, args.to));
        },
      },
      executions: {
        type: new GraphQLNonNull(listOf('ExecutionList', execution)),
        description: 'The caller\'s runs, newest first.',
        args: { limit: { type: GraphQLInt }, offset: { type: GraphQLInt } },
        resolve: async (_s, args: { limit?: number; offset?: number }, ctx) => {
          const p = requireGraphQL(ctx, 'run:code');
          const paging = parsePagination(pagingQuery(args), limitMax);
          const found = await ctx.lectern.executions.list({ tokenId: p.tokenId, name: p.name, admin: p.role === 'admin' }, paging.limit, paging.offset);
          return { total_count: found.total, items: found.items };
        },
      },
      execution: {
        type: execution,
        args: { id: { type: new GraphQLNonNull(GraphQLString) } },
        resolve: async (_s, args: { id: string }, ctx) => {
          const p = requireGraphQL(ctx, 'run:code');
          return (await ctx.lectern.executions.find(args.id, { tokenId: p.tokenId, name: p.name, admin: p.role === 'admin' })).execution;
        },
      },
    }),
  });

  const publishInput = json.input(pagePublishSchema as JsonSchema, 'PagePublishInput');
  const moveInput = json.input(pageMoveSchema as JsonSchema, 'PageMoveInput');
  const revertInput = json.input(pageRevertSchema as JsonSchema, 'PageRevertInput');
  const mutation = new GraphQLObjectType<unknown, GraphQLContext>({
    name: 'Mutation',
    fields: {
      createPage: {
        type: new GraphQLNonNull(writeResult),
        description: 'POST /api/v2/pages/: `input` is the same flat payload (type, parent, title, the page type\'s fields, message, publish).',
        args: { input: { type: new GraphQLNonNull(GraphQLJSON) } },
        resolve: async (_s, args: { input: unknown }, ctx) => written(await createPage(ctx.lectern.content, actorOf(ctx), args.input)),
      },
      updatePage: {
        type: new GraphQLNonNull(writeResult),
        description: 'PATCH /api/v2/pages/{id}/: with `expected_revision` (If-Match) a stale revision fails with CMS_ERR_PAGE_STALE_REVISION; `base_revision` in the input merges (CMS_ERR_PAGE_MERGE_CONFLICT when both touched the same thing).',
        args: { id: { type: new GraphQLNonNull(GraphQLInt) }, input: { type: new GraphQLNonNull(GraphQLJSON) }, expected_revision: { type: GraphQLInt } },
        resolve: async (_s, args: { id: number; input: unknown; expected_revision?: number | null }, ctx) => {
          const { row, merge } = await updatePage(ctx.lectern.content, actorOf(ctx), args.id, args.input, { expectedRevision: args.expected_revision ?? undefined });
          return written(row, merge);
        },
      },
      publishPage: {
        type: new GraphQLNonNull(writeResult),
        args: { id: { type: new GraphQLNonNull(GraphQLInt) }, input: { type: publishInput } },
        resolve: async (_s, args: { id: number; input?: PagePublish | null }, ctx) => {
          const body = args.input ?? {};
          return written(await publishPage(ctx.lectern.content, actorOf(ctx), args.id, {
            revision: body.revision, message: body.message,
            goLiveAt: body.go_live_at ? new Date(body.go_live_at) : undefined, expireAt: body.expire_at ? new Date(body.expire_at) : undefined,
          }));
        },
      },
      unpublishPage: {
        type: new GraphQLNonNull(writeResult),
        args: { id: { type: new GraphQLNonNull(GraphQLInt) }, message: { type: GraphQLString } },
        resolve: async (_s, args: { id: number; message?: string | null }, ctx) =>
          written(await unpublishPage(ctx.lectern.content, actorOf(ctx), args.id, { message: args.message ?? undefined })),
      },
      movePage: {
        type: new GraphQLNonNull(writeResult),
        args: { id: { type: new GraphQLNonNull(GraphQLInt) }, input: { type: new GraphQLNonNull(moveInput) } },
        resolve: async (_s, args: { id: number; input: PageMove }, ctx) =>
          written(await movePage(ctx.lectern.content, actorOf(ctx), args.id, { parent: args.input.parent ?? null, message: args.input.message })),
      },
      revertPage: {
        type: new GraphQLNonNull(writeResult),
        args: { id: { type: new GraphQLNonNull(GraphQLInt) }, input: { type: new GraphQLNonNull(revertInput) }, expected_revision: { type: GraphQLInt } },
        resolve: async (_s, args: { id: number; input: PageRevert; expected_revision?: number | null }, ctx) =>
          written(await revertPage(ctx.lectern.content, actorOf(ctx), args.id, { ...args.input, expectedRevision: args.expected_revision ?? undefined })),
      },
      deletePage: {
        type: new GraphQLNonNull(new GraphQLObjectType({ name: 'DeleteResult', fields: { deleted: { type: list(GraphQLInt) } } })),
        description: 'Deletes the page and its subtree (their history stays in git).',
        args: { id: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: async (_s, args: { id: number }, ctx) => deletePage(ctx.lectern.content, actorOf(ctx), args.id),
      },
      executeBlock: {
        type: nonNull(execution),
        description: 'Runs a jupyter block (its code, or `code`) in the caller\'s kernel; `wait: true` answers when it has ended, otherwise at once (follow it with executionEvents).',
        args: { page: { type: new GraphQLNonNull(GraphQLInt) }, block: { type: new GraphQLNonNull(GraphQLString) }, code: { type: GraphQLString }, wait: { type: GraphQLBoolean } },
        resolve: async (_s, args: { page: number; block: string; code?: string | null; wait?: boolean | null }, ctx) => {
          const p = requireGraphQL(ctx, 'run:code');
          const exec = await runBlock(ctx.lectern.pageDocs, ctx.lectern.executions, {
            learner: { tokenId: p.tokenId, name: p.name, admin: p.role === 'admin' },
            pageId: args.page, blockId: args.block, code: args.code ?? undefined,
            version: can(p.role, 'read:drafts') ? 'draft' : 'live',
          });
          if (args.wait) await exec.done;
          return exec.toJSON();
        },
      },
      interruptExecution: {
        type: nonNull(execution),
        args: { id: { type: new GraphQLNonNull(GraphQLString) } },
        resolve: async (_s, args: { id: string }, ctx) => {
          const p = requireGraphQL(ctx, 'run:code');
          const exec = await ctx.lectern.executions.interrupt(args.id, { tokenId: p.tokenId, name: p.name, admin: p.role === 'admin' });
          await Promise.race([exec.done, new Promise((r) => setTimeout(r, 2_000))]);
          return exec.toJSON();
        },
      },
    },
  });

  return new GraphQLSchema({
    query,
    mutation,
    subscription: subscriptionType(json, execution),
    types: [...pages.concrete, image, document],
  });
}
