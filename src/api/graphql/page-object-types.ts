import {
  GraphQLBoolean, GraphQLInt, GraphQLInterfaceType, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString,
  type GraphQLFieldConfigMap, type GraphQLFieldConfigArgumentMap,
} from 'graphql';
import type { PageRow } from '../../content/page-store.js';
import type { PageTypeRegistry } from '../../content/page-types.js';
import { getVisiblePage, listPages } from '../../content/queries/list-pages.js';
import type { Version } from '../../content/queries/page-fields.js';
import { listRevisions } from '../../content/queries/list-revisions.js';
import pageWriteSchema from '../../../schemas/api/page-write.json' with { type: 'json' };
import revisionSchema from '../../../schemas/api/revision.json' with { type: 'json' };
import { revisionJson } from '../rest/revision-json.js';
import { parsePagination } from '../rest/wagtail/page-listing-query.js';
import { detailUrl, docFor, formatDate } from '../rest/wagtail/page-serializer.js';
import type { BlockTypes } from './block-types.js';
import { requireGraphQL, type GraphQLContext } from './graphql-context.js';
import { nonNull, pascal, type JsonSchema, type JsonSchemaTypes } from './json-schema-types.js';

/** What a Page field resolves from: the row, and which version of it the caller reads. */
export interface PageSource {
  row: PageRow;
  version: Version;
}

export const pageSource = (row: PageRow, version: Version): PageSource => ({ row, version });

/** The page members every page type has (schemas/api/page-write.json), read from the document. */
const COMMON = ['title', 'slug', 'seo_title', 'search_description', 'show_in_menus'] as const;

export interface PageObjectTypes {
  page: GraphQLInterfaceType;
  pageList: GraphQLObjectType;
  revision: GraphQLObjectType;
  revisionList: GraphQLObjectType;
  /** GraphQL type name of each page type (`lesson` → `Lesson`). */
  typeNames: Map<string, string>;
  concrete: GraphQLObjectType[];
}

const pagingArgs: GraphQLFieldConfigArgumentMap = {
  limit: { type: GraphQLInt, description: 'At most API_LIMIT_MAX (20 by default).' },
  offset: { type: GraphQLInt },
};

/**
 * The `Page` interface and one object type per page type (schemas/page-types/*.json):
 * common members, tree links, history, and the type's own fields (stream fields as lists
 * of the Block union). A page reads as `version` says: live content for everyone,
 * drafts for editors and reviewers who ask.
 */
export function buildPageTypes(types: PageTypeRegistry, blocks: BlockTypes, json: JsonSchemaTypes, limitMax: number): PageObjectTypes {
  const names = new Map(types.all().map((t) => [t.name, pascal(t.name)]));
  json.reserve('Page', 'PageList', 'RevisionList', ...names.values());
  const revision = json.output(revisionSchema as JsonSchema, 'Revision', revisionSchema as JsonSchema) as GraphQLObjectType;
  const revisionList = new GraphQLObjectType({
    name: 'RevisionList',
    fields: { total_count: { type: new GraphQLNonNull(GraphQLInt) }, items: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(revision))) } },
  });

  const visible = (ctx: GraphQLContext, id: number | null, version: Version) =>
    id === null ? null : getVisiblePage(ctx.lectern.database.db, id, version).then((r) => (r ? pageSource(r, version) : null));

  let pageList: GraphQLObjectType;
  const commonFields = (): GraphQLFieldConfigMap<PageSource, GraphQLContext> => {
    const fields: GraphQLFieldConfigMap<PageSource, GraphQLContext> = {
      id: { type: new GraphQLNonNull(GraphQLInt) },
      type: { type: new GraphQLNonNull(GraphQLString), description: 'The page type (schemas/page-types/).' },
    };
    for (const name of COMMON) {
      const prop = (pageWriteSchema.properties as Record<string, JsonSchema>)[name]!;
      fields[name] = {
        type: name === 'title' || name === 'slug' ? nonNull(json.output(prop, `Page${pascal(name)}`, pageWriteSchema as JsonSchema)) : json.output(prop, `Page${pascal(name)}`, pageWriteSchema as JsonSchema),
        ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
      };
    }
    Object.assign(fields, {
      url_path: { type: new GraphQLNonNull(GraphQLString), description: 'The page\'s path on the site ("/course/lesson-1/").' },
      html_url: { type: new GraphQLNonNull(GraphQLString) },
      detail_url: { type: new GraphQLNonNull(GraphQLString), description: 'The REST detail URL.' },
      first_published_at: { type: GraphQLString },
      last_published_at: { type: GraphQLString },
      live: { type: new GraphQLNonNull(GraphQLBoolean) },
      has_unpublished_changes: { type: new GraphQLNonNull(GraphQLBoolean) },
      revision: { type: GraphQLInt, description: 'The revision shown: the live one, or the latest draft with version: DRAFT (the ETag of REST).' },
      live_revision: { type: GraphQLInt },
      parent: { type: page },
      ancestors: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(page))), description: 'Root first.' },
      children: { type: new GraphQLNonNull(pageList), args: { ...pagingArgs, type: { type: GraphQLString } } },
      revisions: { type: new GraphQLNonNull(revisionList), args: pagingArgs, description: 'Newest first; editors and reviewers.' },
    });
    return fields;
  };

  const resolvers: GraphQLFieldConfigMap<PageSource, GraphQLContext> = {
    id: { type: GraphQLInt, resolve: ({ row }) => row.id },
    type: { type: GraphQLString, resolve: ({ row }) => row.type },
    title: { type: GraphQLString, resolve: (s) => docFor(s.row, s.version).title },
    slug: { type: GraphQLString, resolve: (s) => (s.version === 'live' ? s.row.slug : docFor(s.row, s.version).slug) },
    seo_title: { type: GraphQLString, resolve: (s) => docFor(s.row, s.version).seo_title ?? '' },
    search_description: { type: GraphQLString, resolve: (s) => docFor(s.row, s.version).search_description ?? '' },
    show_in_menus: { type: GraphQLBoolean, resolve: (s) => docFor(s.row, s.version).show_in_menus ?? false },
    url_path: { type: GraphQLString, resolve: ({ row }) => row.urlPath },
    html_url: { type: GraphQLString, resolve: ({ row }, _a, ctx) => `${ctx.siteOrigin}${row.urlPath}` },
    detail_url: { type: GraphQLString, resolve: ({ row }, _a, ctx) => detailUrl(ctx.apiOrigin, row.id) },
    first_published_at: { type: GraphQLString, resolve: ({ row }) => formatDate(row.firstPublishedAt) },
    last_published_at: { type: GraphQLString, resolve: ({ row }) => formatDate(row.lastPublishedAt) },
    live: { type: GraphQLBoolean, resolve: ({ row }) => row.live },
    has_unpublished_changes: { type: GraphQLBoolean, resolve: ({ row }) => row.hasUnpublishedChanges },
    revision: { type: GraphQLInt, resolve: ({ row, version }) => (version === 'live' ? row.liveRevisionId : row.latestRevisionId) },
    live_revision: { type: GraphQLInt, resolve: ({ row }) => row.liveRevisionId },
    parent: { type: GraphQLString, resolve: ({ row, version }, _a, ctx) => visible(ctx, row.parentId, version) },
    ancestors: {
      type: GraphQLString,
      resolve: async ({ row, version }, _a, ctx) => {
        const list = await listPages(ctx.lectern.database.db, { version, ancestorOf: row, limit: 1000, offset: 0 });
        return list.rows.map((r) => pageSource(r, version));
      },
    },
    children: {
      type: GraphQLString,
      resolve: async ({ row, version }, args: { limit?: number; offset?: number; type?: string }, ctx) => {
        const paging = parsePagination(pagingQuery(args), limitMax);
        const list = await listPages(ctx.lectern.database.db, { version, childOf: row, ...(args.type ? { types: args.type.split(',') } : {}), ...paging });
        return { total_count: list.total, items: list.rows.map((r) => pageSource(r, version)) };
      },
    },
    revisions: {
      type: GraphQLString,
      resolve: async ({ row }, args: { limit?: number; offset?: number }, ctx) => {
        requireGraphQL(ctx, 'read:drafts');
        const paging = parsePagination(pagingQuery(args), limitMax);
        const list = await listRevisions(ctx.lectern.database.db, row.id, paging.limit, paging.offset);
        return { total_count: list.total, items: list.rows.map((r) => revisionJson(r, row.liveRevisionId)) };
      },
    },
  };
  const withResolvers = (fields: GraphQLFieldConfigMap<PageSource, GraphQLContext>) => {
    for (const [name, f] of Object.entries(fields)) if (resolvers[name]?.resolve) f.resolve = resolvers[name]!.resolve;
    return fields;
  };

  const page: GraphQLInterfaceType = new GraphQLInterfaceType({
    name: 'Page',
    description: 'A page of the tree. Concrete types are the page types (schemas/page-types/); ask for `... on Lesson { body { ... on JupyterBlock { code } } }`.',
    fields: () => commonFields() as GraphQLFieldConfigMap<unknown, unknown>,
    resolveType: (s) => names.get((s as PageSource).row.type),
  });
  pageList = new GraphQLObjectType({
    name: 'PageList',
    fields: () => ({ total_count: { type: new GraphQLNonNull(GraphQLInt) }, items: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(page))) } }),
  });

  const concrete = types.all().map((t) => new GraphQLObjectType<PageSource, GraphQLContext>({
    name: names.get(t.name)!,
    ...(t.description ? { description: t.description } : {}),
    interfaces: [page],
    fields: () => {
      const fields = withResolvers(commonFields());
      for (const f of t.fields) {
        const spec = blocks.registry.resolve(f.spec);
        const fieldType = spec.kind === 'stream' ? blocks.stream : blocks.fieldType(f.spec, `${names.get(t.name)}${pascal(f.name)}`);
        fields[f.name] = {
          type: f.required && spec.kind !== 'stream' ? nonNull(fieldType) : fieldType,
          resolve: (s) => docFor(s.row, s.version)[f.name] ?? (spec.kind === 'stream' ? [] : null),
        };
      }
      return fields;
    },
  }));
  return { page, pageList, revision, revisionList, typeNames: names, concrete };
}

/** GraphQL paging arguments as the query-string values the REST parsers take. */
export function pagingQuery(args: { limit?: number | null; offset?: number | null }): Record<string, string> {
  const q: Record<string, string> = {};
  if (args.limit !== undefined && args.limit !== null) q.limit = String(args.limit);
  if (args.offset !== undefined && args.offset !== null) q.offset = String(args.offset);
  return q;
}
