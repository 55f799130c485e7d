import { and, asc, desc, eq, getTableColumns, inArray, isNull, like, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { pages } from '../../db/schema.js';
import type { PageRow } from '../page-store.js';
import type { QueryField, Version } from './page-fields.js';

export interface PageQuery {
  version: Version;
  types?: string[];
  /** Direct children of this page; null means top-level pages. */
  childOf?: PageRow | null;
  /** Everything below this page (not the page itself); null means every page. */
  descendantOf?: PageRow | null;
  /** Everything above this page (not the page itself). */
  ancestorOf?: PageRow;
  filters?: { field: QueryField; value: string | number | boolean | Date }[];
  order?: { field: QueryField; descending: boolean }[] | 'random';
  search?: { terms: string[]; operator: 'and' | 'or' };
  /** The document members the caller reads; all of them when absent. */
  members?: readonly string[];
  limit: number;
  offset: number;
}

export interface PageList {
  total: number;
  rows: PageRow[];
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function conditions(q: PageQuery): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  if (q.version === 'live') where.push(eq(pages.live, true));
  if (q.types?.length) where.push(inArray(pages.type, q.types));
  if (q.childOf !== undefined) where.push(q.childOf === null ? isNull(pages.parentId) : eq(pages.parentId, q.childOf.id));
  if (q.descendantOf) {
    where.push(like(pages.path, `${escapeLike(q.descendantOf.path)}%`), sql`${pages.id} <> ${q.descendantOf.id}`);
  }
  if (q.ancestorOf) {
    const p = q.ancestorOf.path;
    const prefixes: string[] = [];
    for (let i = 6; i < p.length; i += 6) prefixes.push(p.slice(0, i));
    where.push(prefixes.length ? inArray(pages.path, prefixes) : sql`false`);
  }
  for (const { field, value } of q.filters ?? []) {
    where.push(sql`${field.expr(q.version)} = ${value instanceof Date ? value.toISOString() : value}`);
  }
  if (q.search) {
    const haystack = q.version === 'live' ? sql`${pages.searchText}` : sql`(${pages.draft})::text`;
    const matches = q.search.terms.map((t) => sql`${haystack} ilike ${`%${escapeLike(t)}%`}`);
    where.push(matches.length ? sql`(${sql.join(matches, q.search.operator === 'and' ? sql` and ` : sql` or `)})` : sql`false`);
  }
  return and(...where);
}

function ordering(q: PageQuery): SQL[] {
  if (q.order === 'random') return [sql`random()`];
  if (q.order?.length) {
    return [...q.order.map(({ field, descending }) => {
      const e = field.expr(q.version);
      return descending ? sql`${e} desc nulls last` : sql`${e} asc nulls last`;
    }), asc(pages.path)];
  }
  if (q.search?.terms.length) {
    // Relevance: pages whose title holds more of the terms first, then tree order.
    const title = sql`(${q.version === 'live' ? pages.liveContent : pages.draft}->>'title')`;
    const score = sql.join(q.search.terms.map((t) => sql`(case when ${title} ilike ${`%${escapeLike(t)}%`} then 1 else 0 end)`), sql` + `);
    return [desc(score), asc(pages.path)];
  }
  return [asc(pages.path)];
}

/**
 * The columns of a page row for reading one version: the other version's document (up
 * to megabytes of JSON per page) is neither fetched nor parsed. With `members`, only
 * those members of the document are fetched (a listing of titles needs no bodies).
 */
function columnsFor(version: Version, members?: readonly string[]) {
  const { draft, liveContent, searchText, ...rest } = getTableColumns(pages);
  const column = version === 'live' ? liveContent : draft;
  const doc = members
    ? sql<unknown>`json_build_object(${sql.join(members.map((m) => sql`${m}::text, ${column}->${m}`), sql`, `)})`
    : column;
  return version === 'live' ? { ...rest, liveContent: doc, draft: sql<unknown>`null` } : { ...rest, draft: doc, liveContent: sql<unknown>`null` };
}

/**
 * The page listing behind `GET /api/v2/pages/` (and GraphQL `pages`). Pages are chosen
 * first (ids only, sorted and limited), then read: documents are stored as `json` text
 * to keep their key order, and reading a member parses the whole document, so only the
 * pages on this page of results are read. The total is counted apart for the same reason.
 */
export async function listPages(db: Db, q: PageQuery): Promise<PageList> {
  const where = conditions(q);
  const chosen = q.limit === 0 ? [] : await db.select({ id: pages.id }).from(pages).where(where).orderBy(...ordering(q)).limit(q.limit).offset(q.offset);
  const ids = chosen.map((r) => r.id);
  // A first page that is not full holds every match (the usual lookup by slug).
  const complete = q.offset === 0 && ids.length < q.limit;
  const [read, counted] = await Promise.all([
    ids.length ? db.select(columnsFor(q.version, q.members)).from(pages).where(inArray(pages.id, ids)) : Promise.resolve([]),
    complete ? Promise.resolve([{ n: ids.length }]) : db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(pages).where(where),
  ]);
  const byId = new Map(read.map((r) => [r.id, { ...r, searchText: '' } as PageRow]));
  return { total: counted[0]?.n ?? 0, rows: ids.map((id) => byId.get(id)).filter((r): r is PageRow => r !== undefined) };
}

/** A page by id if it is visible in `version` (live: published; draft: any). */
export async function getVisiblePage(db: Db, id: number, version: Version): Promise<PageRow | undefined> {
  const [row] = await db.select(columnsFor(version)).from(pages)
    .where(version === 'live' ? and(eq(pages.id, id), eq(pages.live, true)) : eq(pages.id, id)).limit(1);
  return row && ({ ...row, searchText: '' } as PageRow);
}

/** A page by its URL path ("/course/lesson-1/"; slashes need not be doubled or present at the ends). */
export async function findPageByUrlPath(db: Db, rawPath: string, version: Version): Promise<PageRow | undefined> {
  const parts = rawPath.split('/').filter(Boolean);
  if (!parts.length) return undefined;
  const urlPath = `/${parts.join('/')}/`;
  const [row] = await db.select(columnsFor(version)).from(pages)
    .where(version === 'live' ? and(eq(pages.urlPath, urlPath), eq(pages.live, true)) : eq(pages.urlPath, urlPath)).limit(1);
  return row && ({ ...row, searchText: '' } as PageRow);
}

/**
 * A page by its slug under `parentId` (null: at the top level): slugs are unique among
 * siblings. The live slug for `live`, the draft's for `draft`; the parent must be visible too.
 */
export async function findPageBySlug(db: Db, parentId: number | null, slug: string, version: Version): Promise<PageRow | undefined> {
  if (parentId !== null && !(await getVisiblePage(db, parentId, version))) return undefined;
  const where = and(
    parentId === null ? isNull(pages.parentId) : eq(pages.parentId, parentId),
    version === 'live' ? and(eq(pages.slug, slug), eq(pages.live, true)) : eq(pages.draftSlug, slug),
  );
  const [row] = await db.select(columnsFor(version)).from(pages).where(where).limit(1);
  return row && ({ ...row, searchText: '' } as PageRow);
}
